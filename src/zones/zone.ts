import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { expectedRecords, type DkimKeyRecord } from '../directory/index.js';

/** One resource record as the dns role serves it. `data` is what dns-packet encodes for the type. */
export interface ZoneRecord {
  /** Owner name, lower case, no trailing dot. */
  readonly name: string;
  readonly type: 'SOA' | 'NS' | 'MX' | 'TXT' | 'SRV' | 'A' | 'AAAA' | 'CNAME' | 'CAA';
  readonly ttl: number;
  readonly data: unknown;
}

export interface ZoneSettings {
  /** The name servers of every hosted zone (NS records; the first is the SOA's primary). */
  readonly nameservers: readonly string[];
  /** Where mail for the hosted domains goes (MX) and where clients connect (SRV). */
  readonly mailHost: string;
  /** The web role's host: autoconfig.<domain> and autodiscover.<domain> point there. */
  readonly webHost: string;
  readonly ttl: number;
  /** The web role's addresses: each hosted domain and its www. name point there (A/AAAA); none: not published. */
  readonly webAddresses: readonly string[];
  /** Addresses of the service's own hosts (mail, web, portal), published where a host's name is in a hosted zone. */
  readonly hostAddresses: readonly { readonly host: string; readonly address: string }[];
  /** RFC 8461 MTA-STS mode; 'off' publishes no policy. */
  readonly mtaStsMode: 'enforce' | 'testing' | 'none' | 'off';
  /** How long a DKIM key stays published after a newer one took over (ms): mail signed before the rotation still verifies. */
  readonly dkimRetiredMs: number;
  /** Where TLS reports go (RFC 8460), as mailto: address; '' for postmaster@<domain>. */
  readonly tlsRptAddress: string;
  /** RFC 6186 / RFC 8314 client setup: the ports clients reach, as published in SRV records. */
  readonly ports: { readonly submission: number; readonly submissions: number; readonly imap: number; readonly imaps: number; readonly pop3: number; readonly pop3s: number };
}

/** A TXT value as character strings of at most 255 bytes (RFC 1035 §3.3.14; DKIM keys are longer). */
export function txtStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out.length ? out : [Buffer.alloc(0)];
}

/** The keys to publish: the one that signs, and the retired ones until `graceMs` after the next one took over. */
export function publishedKeys(keys: readonly DkimKeyRecord[], graceMs: number, now: number): DkimKeyRecord[] {
  return keys.filter((k) => {
    if (k.active) return true;
    const successors = keys.filter((n) => n.createdAt > k.createdAt).map((n) => n.createdAt);
    const retiredAt = successors.length ? Math.min(...successors) : now;
    return now - retiredAt < graceMs;
  });
}

/** When the next retired key in `keys` leaves the zone (ms), if any will. */
export function nextKeyExpiry(keys: readonly DkimKeyRecord[], graceMs: number, now: number): number | undefined {
  const ends = keys
    .filter((k) => !k.active)
    .map((k) => Math.min(...keys.filter((n) => n.createdAt > k.createdAt).map((n) => n.createdAt), now) + graceMs)
    .filter((end) => end > now);
  return ends.length ? Math.min(...ends) : undefined;
}

/** The MTA-STS policy (RFC 8461 §3.2) the web role serves at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export function mtaStsPolicy(s: Pick<ZoneSettings, 'mailHost' | 'mtaStsMode'>): string {
  return `version: STSv1\r\nmode: ${s.mtaStsMode}\r\nmx: ${s.mailHost}\r\nmax_age: 604800\r\n`;
}

const address = (name: string, ttl: number, ip: string): ZoneRecord => ({ name, type: isIPv4(ip) ? 'A' : 'AAAA', ttl, data: ip });

/**
 * The records of a hosted domain's zone, from the directory: SOA (its serial the directory's
 * version, which grows with every change), NS, MX, SPF, every DKIM key (retired ones stay,
 * so mail signed before a rotation still verifies), DMARC, and the SRV records mail clients
 * use to configure themselves (RFC 6186, RFC 8314 §5.1), MTA-STS and TLS-RPT (RFC 8461,
 * 8460), the website's addresses, and the addresses of our own hosts named in this zone.
 */
export function zoneRecords(domain: string, allKeys: readonly DkimKeyRecord[], serial: number, s: ZoneSettings, now = Date.now()): ZoneRecord[] {
  const d = domain.toLowerCase();
  const keys = publishedKeys(allKeys, s.dkimRetiredMs, now);
  // Each key that aged out changes the zone without a directory change: it counts in the serial,
  // which so still grows with every change of this zone (keys only go with their domain).
  serial += allKeys.length - keys.length;
  const ttl = s.ttl;
  const txt = (name: string, value: string): ZoneRecord => ({ name, type: 'TXT', ttl, data: txtStrings(value) });
  const srv = (service: string, port: number): ZoneRecord => ({ name: `${service}._tcp.${d}`, type: 'SRV', ttl, data: { priority: 0, weight: 1, port, target: s.mailHost } });
  return [
    {
      name: d,
      type: 'SOA',
      ttl,
      // RFC 2308 §4: the minimum field is the negative-caching TTL.
      data: { mname: s.nameservers[0], rname: `hostmaster.${d}`, serial: serial >>> 0, refresh: 3600, retry: 600, expire: 1_209_600, minimum: 300 },
    },
    ...s.nameservers.map((ns): ZoneRecord => ({ name: d, type: 'NS', ttl, data: ns })),
    // The same records the portal shows a customer to publish elsewhere: one source for both.
    ...expectedRecords(d, s.mailHost, keys).map((r): ZoneRecord => {
      if (r.type === 'TXT') return txt(r.name, r.value);
      const [preference, exchange] = r.value.split(' ');
      return { name: r.name, type: 'MX', ttl, data: { preference: Number(preference), exchange: exchange!.replace(/\.$/, '') } };
    }),
    // Thunderbird asks autoconfig.<domain>, Outlook autodiscover.<domain>: both are the web role.
    { name: `autoconfig.${d}`, type: 'CNAME', ttl, data: s.webHost },
    { name: `autodiscover.${d}`, type: 'CNAME', ttl, data: s.webHost },
    srv('_submission', s.ports.submission),
    srv('_submissions', s.ports.submissions),
    srv('_imap', s.ports.imap),
    srv('_imaps', s.ports.imaps),
    srv('_pop3', s.ports.pop3),
    srv('_pop3s', s.ports.pop3s),
    ...(s.mtaStsMode === 'off'
      ? []
      : [
          // The id changes whenever the policy does (RFC 8461 §3.1), so senders fetch it again.
          txt(`_mta-sts.${d}`, `v=STSv1; id=${createHash('sha256').update(mtaStsPolicy(s)).digest('hex').slice(0, 16)}`),
          { name: `mta-sts.${d}`, type: 'CNAME', ttl, data: s.webHost } satisfies ZoneRecord,
        ]),
    txt(`_smtp._tls.${d}`, `v=TLSRPTv1; rua=mailto:${s.tlsRptAddress || `postmaster@${d}`}`),
    ...s.webAddresses.flatMap((ip) => [address(d, ttl, ip), address(`www.${d}`, ttl, ip)]),
    ...s.hostAddresses.filter((h) => h.host === d || h.host.endsWith(`.${d}`)).map((h) => address(h.host, ttl, h.address)),
  ];
}
