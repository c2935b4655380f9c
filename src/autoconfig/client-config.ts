/** Where clients connect: the provider's mail host and the ports as published (implicit TLS, RFC 8314). */
export interface ClientSettings {
  readonly mailHost: string;
  readonly ports: { readonly imaps: number; readonly pop3s: number; readonly submissions: number };
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);

/** Thunderbird's autoconfig file for a hosted domain (the clientConfig 1.1 format, as its ISPDB serves). */
export function thunderbirdConfig(domain: string, s: ClientSettings): string {
  const server = (kind: 'incomingServer' | 'outgoingServer', type: string, port: number) =>
    [
      `    <${kind} type="${type}">`,
      `      <hostname>${xml(s.mailHost)}</hostname>`,
      `      <port>${port}</port>`,
      '      <socketType>SSL</socketType>',
      '      <username>%EMAILADDRESS%</username>',
      '      <authentication>password-cleartext</authentication>',
      `    </${kind}>`,
    ].join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xml(domain)}">`,
    `    <domain>${xml(domain)}</domain>`,
    `    <displayName>${xml(domain)}</displayName>`,
    `    <displayShortName>${xml(domain)}</displayShortName>`,
    server('incomingServer', 'imap', s.ports.imaps),
    server('incomingServer', 'pop3', s.ports.pop3s),
    server('outgoingServer', 'smtp', s.ports.submissions),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}

/** The address an Outlook Autodiscover request asks about, or undefined. */
export function autodiscoverAddress(requestXml: string): string | undefined {
  const m = /<EMailAddress>\s*([^<\s]{3,320})\s*<\/EMailAddress>/i.exec(requestXml);
  return m?.[1]?.toLowerCase();
}

/** Outlook's Autodiscover answer (the 2006a "outlook" response schema): IMAP and SMTP over TLS, the address as login. */
export function autodiscoverResponse(address: string, s: ClientSettings): string {
  const protocol = (type: string, port: number) =>
    [
      '      <Protocol>',
      `        <Type>${type}</Type>`,
      `        <Server>${xml(s.mailHost)}</Server>`,
      `        <Port>${port}</Port>`,
      `        <LoginName>${xml(address)}</LoginName>`,
      '        <DomainRequired>off</DomainRequired>',
      '        <SPA>off</SPA>',
      '        <SSL>on</SSL>',
      '        <AuthRequired>on</AuthRequired>',
      '      </Protocol>',
    ].join('\n');
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    protocol('IMAP', s.ports.imaps),
    protocol('SMTP', s.ports.submissions),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

/**
 * An Apple configuration profile (.mobileconfig) that sets up the account in Mail on an
 * iPhone, iPad or Mac: IMAP and SMTP over TLS, the address as user name; the device asks
 * for the password once. `uuid` makes fresh payload identifiers.
 */
export function appleProfile(address: string, name: string, s: ClientSettings, uuid: () => string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const id = `mail.${domain.split('.').reverse().join('.')}.${address.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  const str = (k: string, v: string) => `      <key>${k}</key><string>${xml(v)}</string>`;
  const int = (k: string, v: number) => `      <key>${k}</key><integer>${v}</integer>`;
  const bool = (k: string, v: boolean) => `      <key>${k}</key><${v}/>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>PayloadContent</key>',
    '  <array>',
    '    <dict>',
    str('EmailAccountDescription', address),
    str('EmailAccountName', name || address),
    str('EmailAccountType', 'EmailTypeIMAP'),
    str('EmailAddress', address),
    str('IncomingMailServerAuthentication', 'EmailAuthPassword'),
    str('IncomingMailServerHostName', s.mailHost),
    int('IncomingMailServerPortNumber', s.ports.imaps),
    bool('IncomingMailServerUseSSL', true),
    str('IncomingMailServerUsername', address),
    str('OutgoingMailServerAuthentication', 'EmailAuthPassword'),
    str('OutgoingMailServerHostName', s.mailHost),
    int('OutgoingMailServerPortNumber', s.ports.submissions),
    bool('OutgoingMailServerUseSSL', true),
    str('OutgoingMailServerUsername', address),
    bool('OutgoingPasswordSameAsIncomingPassword', true),
    str('PayloadDisplayName', address),
    str('PayloadIdentifier', `${id}.account`),
    str('PayloadType', 'com.apple.mail.managed'),
    str('PayloadUUID', uuid()),
    int('PayloadVersion', 1),
    '    </dict>',
    '  </array>',
    `  <key>PayloadDisplayName</key><string>${xml(`Mail: ${address}`)}</string>`,
    `  <key>PayloadIdentifier</key><string>${xml(id)}</string>`,
    '  <key>PayloadRemovalDisallowed</key><false/>',
    '  <key>PayloadType</key><string>Configuration</string>',
    `  <key>PayloadUUID</key><string>${uuid()}</string>`,
    '  <key>PayloadVersion</key><integer>1</integer>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
