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
