import { generateKeyPairSync } from 'node:crypto';
import type { DkimAlgorithm, DkimKeyRecord, NewDkimKey } from './types.js';

/**
 * DKIM key pairs (RFC 6376) and the DNS records a customer publishes for a domain.
 * RSA keys are 2048 bits (RFC 8301 asks for at least 1024, 2048 is the common floor);
 * Ed25519 follows RFC 8463.
 */
export function generateDkimKey(algorithm: DkimAlgorithm, selector: string): NewDkimKey {
  if (algorithm === 'ed25519-sha256') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // RFC 8463 §4.2: p= is the bare 32-byte public key, the tail of its SPKI encoding.
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    return { selector, algorithm, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: raw.toString('base64') };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    selector,
    algorithm,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** A selector not in `taken`: `hk` and the date, with a letter added on a second key that day. */
export function newSelector(taken: readonly string[], now = new Date()): string {
  const base = 'hk' + now.toISOString().slice(0, 10).replace(/-/g, '');
  if (!taken.includes(base)) return base;
  for (let i = 0; i < 26; i++) {
    const s = base + String.fromCharCode(98 + i);
    if (!taken.includes(s)) return s;
  }
  return base + '-' + now.getTime().toString(36);
}

/** The TXT value of a key's record: `v=DKIM1; k=rsa; p=...`. */
export function dkimTxt(key: Pick<DkimKeyRecord, 'algorithm' | 'publicKey'>): string {
  return `v=DKIM1; k=${key.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa'}; p=${key.publicKey}`;
}

/** A TXT value as zone-file strings of at most 255 octets each (RFC 1035 §3.3.14). */
function quoted(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.length > 1 ? `( ${parts.join(' ')} )` : parts[0]!;
}

/** One record a hosted domain needs published, and what it is for. */
export interface ExpectedRecord {
  readonly name: string;
  readonly type: 'MX' | 'TXT';
  readonly value: string;
  readonly purpose: 'mx' | 'spf' | 'dkim' | 'dmarc';
  /** DKIM only: the selector, and whether it signs now (retired keys stay published a while). */
  readonly selector?: string;
  readonly active?: boolean;
}

/**
 * The records a customer publishes for a hosted domain: MX to our host, SPF allowing it,
 * every DKIM key (the retired ones stay published until mail signed with them has been
 * delivered), and a DMARC policy to start with.
 */
export function expectedRecords(domain: string, mailHost: string, keys: readonly DkimKeyRecord[]): ExpectedRecord[] {
  return [
    { name: domain, type: 'MX', value: `10 ${mailHost}.`, purpose: 'mx' },
    { name: domain, type: 'TXT', value: `v=spf1 mx a:${mailHost} ~all`, purpose: 'spf' },
    ...keys.map((k): ExpectedRecord => ({ name: `${k.selector}._domainkey.${domain}`, type: 'TXT', value: dkimTxt(k), purpose: 'dkim', selector: k.selector, active: k.active })),
    { name: `_dmarc.${domain}`, type: 'TXT', value: `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`, purpose: 'dmarc' },
  ];
}

/** One record in zone-file syntax. */
export function zoneLine(r: ExpectedRecord): string {
  const note = r.purpose === 'dkim' && !r.active ? ' ; retired: keep it published for a week after rotation, then remove it' : '';
  return `${r.name}. 3600 IN ${r.type} ${r.type === 'TXT' ? quoted(r.value) : r.value}${note}`;
}

/** The records of `expectedRecords`, in zone-file syntax. */
export function dnsRecords(domain: string, mailHost: string, keys: readonly DkimKeyRecord[]): string[] {
  return expectedRecords(domain, mailHost, keys).map(zoneLine);
}
