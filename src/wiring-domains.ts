import { join } from 'node:path';
import type { Config } from './config/index.js';
import type { DirectoryCache } from './directory/index.js';
import type { Logger } from './observability/index.js';
import type { Authenticator } from './auth/index.js';
import { AcmeIssuer, DnsServer, SftpServer, SiteCertificates, WebServer, parseTsigKeys, type TlsMaterial } from './servers/index.js';
import { SiteFiles, SiteLogins } from './sites/index.js';
import { DirectoryZones, mtaStsPolicy, type ZoneSettings } from './zones/index.js';
import type { Listener } from './wiring.js';

// Uploads are few; an idle upload client is closed after ten minutes, as OpenSSH's ClientAlive would.
const SFTP_MAX_CLIENTS = 200;
const SFTP_IDLE_MS = 10 * 60_000;

/** Where the websites are (the web role serves them, the portal and SFTP change them). */
export const sitesDir = (config: Config): string => config['web.sitesDir'] || join(config.dataDir, 'sites');

/** What every hosted zone publishes, from the configuration (the dns role serves it; the portal checks tenants' records against it). */
export function zoneSettings(config: Config): ZoneSettings {
  const list = (v: string) => v.split(',').filter(Boolean);
  return {
    nameservers: list(config['dns.nameservers'] || config.hostname),
    mailHost: config['dns.mailHost'] || config.hostname,
    webHost: config['dns.webHost'] || config.hostname,
    ttl: config['dns.ttl'],
    webAddresses: list(config['dns.webAddresses']),
    hostAddresses: list(config['dns.hostAddresses']).map((pair) => {
      const [host, address] = pair.split('=');
      return { host: host!.toLowerCase(), address: address! };
    }),
    mtaStsMode: config['web.mtaStsMode'],
    dkimRetiredMs: config['dns.dkimRetiredDays'] * 86_400_000,
    tlsRptAddress: config['dns.tlsRptAddress'],
    ports: {
      submission: config['submission.port'],
      submissions: config['submission.tlsPort'],
      imap: config['imap.port'],
      imaps: config['imap.tlsPort'],
      pop3: config['pop3.port'],
      pop3s: config['pop3.tlsPort'],
    },
  };
}

/** The dns role: the hosted domains' zones, from the directory cache. */
export async function startDns(config: Config, directory: DirectoryCache, log: Logger): Promise<{ listener: Listener; close(): Promise<void> }> {
  const settings = zoneSettings(config);
  const dns = new DnsServer(
    {
      host: config['listen.host'],
      port: config['dns.port'],
      maxTcpClients: config['dns.maxTcpClients'],
      responsesPerSecond: config['dns.responsesPerSecond'],
      transfer: { from: config['dns.transferFrom'].split(',').filter(Boolean), keys: parseTsigKeys(config['dns.tsigKeys']) },
      notify: config['dns.notify'].split(',').filter(Boolean).map((t) => {
        const i = t.lastIndexOf(':');
        return { host: t.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(t.slice(i + 1)) };
      }),
    },
    new DirectoryZones(directory, settings),
    log,
  );
  const { udp } = await dns.listen();
  return {
    listener: { role: 'dns', url: `dns://${udp.address}:${udp.port}`, port: udp.port, note: `UDP and TCP, zones of the hosted domains, NS ${settings.nameservers.join(' ')}` },
    close: () => dns.close(),
  };
}

/** The web role: websites, autoconfiguration and MTA-STS over HTTP and HTTPS, certificates per domain (ACME when configured). */
export async function startWeb(config: Config, directory: DirectoryCache, authenticator: Authenticator, tls: TlsMaterial, log: Logger): Promise<{ listeners: Listener[]; close(): Promise<void> }> {
  const certsDir = config['web.certsDir'] || join(config.dataDir, 'certs');
  const certs = new SiteCertificates(certsDir, directory, tls, log);
  const acme = config['web.acmeDirectory'] ? new AcmeIssuer({ directoryUrl: config['web.acmeDirectory'], email: config['web.acmeEmail'], caFile: config['web.acmeCaFile'] }, certsDir, certs, log) : undefined;
  const settings = zoneSettings(config);
  const web = new WebServer(
    {
      host: config['listen.host'],
      port: config['web.port'],
      tlsPort: config['web.tlsPort'],
      sitesDir: sitesDir(config),
      mtaStsPolicy: settings.mtaStsMode === 'off' ? undefined : mtaStsPolicy(settings),
      processes: config['web.processes'],
      logLevel: config['log.level'],
    },
    directory,
    { mailHost: settings.mailHost, ports: { imaps: config['imap.tlsPort'], pop3s: config['pop3.tlsPort'], submissions: config['submission.tlsPort'] } },
    certs,
    acme,
    log,
  );
  const { http, https } = await web.listen();
  const sftp = new SftpServer(
    { host: config['listen.host'], port: config['web.sftpPort'], hostKeyPath: join(config.dataDir, 'ssh', 'sftp_host_ed25519_key'), quotaBytes: config['web.siteQuotaBytes'], maxClients: SFTP_MAX_CLIENTS, idleMs: SFTP_IDLE_MS },
    new SiteFiles(sitesDir(config)),
    new SiteLogins(sitesDir(config)),
    { isHostedDomain: (d) => directory.isHostedDomain(d), loginSite: (...args) => authenticator.loginSite(...args) },
    log.child({ mod: 'sftp' }),
  );
  const sftpAddress = await sftp.listen();
  // Orders start once the HTTP listener answers the CA's challenges.
  const stopAcme = acme?.start(() => directory.domains().map((d) => d.name), () => directory.loadedVersion);
  return {
    listeners: [
      { role: 'web', url: `http://${http.address}:${http.port}`, port: http.port, note: 'websites, client autoconfiguration and MTA-STS of the hosted domains' },
      { role: 'sftp', url: `sftp://${sftpAddress.address}:${sftpAddress.port}`, port: sftpAddress.port, note: 'website uploads: user name the domain, password set in the member site' },
      { role: 'webs', url: `https://${https.address}:${https.port}`, port: https.port, note: `the same over HTTPS, certificates from ${certsDir}${acme ? ' and ACME' : ''}` },
    ],
    async close() {
      await stopAcme?.();
      await sftp.close();
      await web.close();
    },
  };
}
