import type { Config } from './config/index.js';
import type { ZoneSettings } from './zones/index.js';

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
