import { isIPv4, isIPv6 } from 'node:net';
import { DNS_RECORD_TYPES, type DnsRecord, type DnsRecordInput, type DnsRecordType } from '../directory/index.js';
import { txtStrings, type ZoneRecord } from './zone.js';

/** TTLs a tenant may set: a minute to a week. */
export const MIN_TTL = 60;
export const MAX_TTL = 604_800;
/** Records a tenant may add to one domain. */
export const MAX_RECORDS = 1000;
const MAX_TXT_BYTES = 4000;

/** Why a record was refused: the field and a sentence for the person who typed it. */
export interface RecordProblem {
  readonly field: 'name' | 'type' | 'ttl' | 'value';
  readonly message: string;
}

export type Checked = { readonly ok: DnsRecordInput } | { readonly problem: RecordProblem };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A host name a record points at (CNAME, MX, SRV): absolute, written without the trailing dot. */
function hostName(value: string): string | undefined {
  const h = value.toLowerCase().replace(/\.$/, '');
  if (h.length === 0 || h.length > 253 || !h.includes('.')) return undefined;
  return h.split('.').every((l) => LABEL.test(l)) ? h : undefined;
}

function int(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** The owner name relative to `domain` ('@' for the domain itself), from '@', a relative name or a full one. */
export function ownerName(domain: string, input: string): string | RecordProblem {
  let n = input.trim().toLowerCase();
  if (n === '' || n === '@' || n === domain || n === `${domain}.`) return '@';
  if (n.endsWith('.')) {
    if (!n.endsWith(`.${domain}.`)) return { field: 'name', message: `${input} is outside the zone ${domain}; a record here can only be for ${domain} or a name under it.` };
    n = n.slice(0, -domain.length - 2);
  } else if (n.endsWith(`.${domain}`)) n = n.slice(0, -domain.length - 1);
  const labels = n.split('.');
  if (labels.includes('*')) return { field: 'name', message: 'Wildcard names (*) are not supported; add a record for each name.' };
  if (!labels.every((l) => LABEL.test(l))) return { field: 'name', message: `${input} is not a valid name: use letters, digits, hyphens and underscores, separated by dots, at most 63 characters between dots.` };
  if (n.length + domain.length + 1 > 253) return { field: 'name', message: 'The full name is longer than 253 characters.' };
  return n;
}

/** The text of a TXT value: as typed, or the joined contents of "quoted" "strings" when it is written that way. */
function txtText(value: string): string {
  const quoted = value.trim().match(/^("([^"\\]|\\.)*"\s*)+$/);
  if (!quoted) return value;
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')).join('');
}

/** The record's data, normalized, or why it is not valid for its type. */
function checkValue(type: DnsRecordType, name: string, raw: string): string | RecordProblem {
  const value = raw.trim();
  const bad = (message: string): RecordProblem => ({ field: 'value', message });
  switch (type) {
    case 'A':
      return isIPv4(value) ? value : bad(`${value} is not an IPv4 address (such as 192.0.2.10).`);
    case 'AAAA':
      return isIPv6(value) ? value.toLowerCase() : bad(`${value} is not an IPv6 address (such as 2001:db8::10).`);
    case 'CNAME': {
      const h = hostName(value);
      return h ?? bad(`${value} is not a full host name (such as shop.example.net).`);
    }
    case 'MX': {
      const [pref, host, ...rest] = value.split(/\s+/);
      const p = int(pref, 65535);
      // RFC 7505: "0 ." says the name takes no mail.
      const h = host === '.' && p === 0 ? '.' : host === undefined ? undefined : hostName(host);
      if (p === undefined || !h || rest.length) return bad('An MX record is a preference (0–65535) and a host name, such as "10 mail.example.net".');
      return `${p} ${h}`;
    }
    case 'SRV': {
      if (!/^_[a-z0-9-]+\._(tcp|udp|tls)(\.|$)/.test(name)) return { field: 'name', message: 'An SRV record\'s name is _service._protocol, such as _sip._tcp (RFC 2782).' };
      const [prio, weight, port, target, ...rest] = value.split(/\s+/);
      const nums = [int(prio, 65535), int(weight, 65535), int(port, 65535)];
      const t = target === '.' ? '.' : target === undefined ? undefined : hostName(target);
      if (nums.some((n) => n === undefined) || !t || rest.length) return bad('An SRV record is priority, weight, port (0–65535 each) and a target host, such as "10 5 5060 sip.example.net".');
      return `${nums.join(' ')} ${t}`;
    }
    case 'CAA': {
      const m = /^(\d{1,3})\s+([A-Za-z0-9]{1,15})\s+(?:"([^"]*)"|(\S+))$/.exec(value);
      const flags = int(m?.[1], 255);
      if (!m || flags === undefined) return bad('A CAA record is flags (0–255), a tag and a value, such as 0 issue "letsencrypt.org" (RFC 8659).');
      const v = m[3] ?? m[4] ?? '';
      if (/[\x00-\x1f\x7f]/.test(v)) return bad('A CAA value cannot hold control characters.');
      return `${flags} ${m[2]!.toLowerCase()} "${v}"`;
    }
    case 'TXT': {
      const text = txtText(value);
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return bad('A TXT value cannot hold line breaks or control characters.');
      if (text.length === 0) return bad('A TXT value cannot be empty.');
      if (Buffer.byteLength(text) > MAX_TXT_BYTES) return bad(`A TXT value is at most ${MAX_TXT_BYTES} bytes here.`);
      return text;
    }
  }
}

const fqdn = (domain: string, name: string) => (name === '@' ? domain : `${name}.${domain}`);

/**
 * Checks a record a tenant administrator wants in `domain`'s zone against the records
 * already there: `others` (the tenant's own, without the one being changed) and `managed`
 * (what Hikyaku publishes for mail and the website). Refused: a CNAME beside any other data
 * or at the domain itself (RFC 1034 §3.6.2), a record that would replace a managed one (the
 * domain's MX, DKIM keys, DMARC, client setup), a second SPF record (RFC 7208 §3.2 makes
 * both fail), an exact duplicate, a TTL outside a minute to a week.
 */
export function checkRecord(domain: string, input: { name?: unknown; type?: unknown; ttl?: unknown; value?: unknown }, others: readonly DnsRecord[], managed: readonly ZoneRecord[]): Checked {
  const type = String(input.type ?? '').toUpperCase();
  if (!(DNS_RECORD_TYPES as readonly string[]).includes(type)) return { problem: { field: 'type', message: `The type must be one of ${DNS_RECORD_TYPES.join(', ')}.` } };
  if (typeof input.name !== 'string' || typeof input.value !== 'string') return { problem: { field: typeof input.name !== 'string' ? 'name' : 'value', message: 'The name and the value are text.' } };
  const ttl = input.ttl === undefined ? 3600 : input.ttl;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL) return { problem: { field: 'ttl', message: `The TTL is a whole number of seconds from ${MIN_TTL} (a minute) to ${MAX_TTL} (a week).` } };
  const name = ownerName(domain, input.name);
  if (typeof name !== 'string') return { problem: name };
  const t = type as DnsRecordType;
  const value = checkValue(t, name, input.value);
  if (typeof value !== 'string') return { problem: value };
  if (others.length >= MAX_RECORDS) return { problem: { field: 'name', message: `A domain holds at most ${MAX_RECORDS} records of its own.` } };

  const owner = fqdn(domain, name);
  const mine = others.filter((r) => r.name === name);
  const theirs = managed.filter((r) => r.name === owner);
  const conflict = (message: string): Checked => ({ problem: { field: 'name', message } });
  if (t === 'CNAME') {
    if (name === '@') return conflict(`${domain} itself cannot be a CNAME: it has the zone's SOA, NS and MX records.`);
    if (mine.length || theirs.length) return conflict(`${owner} has other records; a CNAME must be the only record of its name (RFC 1034).`);
  } else if (mine.some((r) => r.type === 'CNAME') || theirs.some((r) => r.type === 'CNAME')) {
    return conflict(`${owner} is a CNAME; it cannot have other records beside it.`);
  }
  if (theirs.some((r) => r.type === t)) {
    const spf = t === 'TXT' && name === '@';
    if (!spf) return conflict(`${owner} ${t} is published by Hikyaku for the domain's mail or website and cannot be added or replaced here.`);
    if (/^v=spf1(\s|$)/i.test(value)) return conflict(`${domain} already has the SPF record Hikyaku publishes; a second one makes SPF fail for all mail (RFC 7208 §3.2).`);
  }
  if (mine.some((r) => r.type === t && r.value === value)) return conflict(`${owner} already has this ${t} record.`);
  return { ok: { name, type: t, ttl, value } };
}

/** How the dns role serves a tenant's record. */
export function toZoneRecord(domain: string, r: DnsRecord): ZoneRecord {
  const name = fqdn(domain, r.name);
  const parts = r.value.split(' ');
  const host = (h: string) => (h === '.' ? '' : h);
  switch (r.type) {
    case 'MX':
      return { name, type: 'MX', ttl: r.ttl, data: { preference: Number(parts[0]), exchange: host(parts[1]!) } };
    case 'SRV':
      return { name, type: 'SRV', ttl: r.ttl, data: { priority: Number(parts[0]), weight: Number(parts[1]), port: Number(parts[2]), target: host(parts[3]!) } };
    case 'CAA': {
      const m = /^(\d+) (\S+) "(.*)"$/.exec(r.value)!;
      return { name, type: 'CAA', ttl: r.ttl, data: { flags: Number(m[1]), tag: m[2], value: m[3] } };
    }
    case 'TXT':
      return { name, type: 'TXT', ttl: r.ttl, data: txtStrings(r.value) };
    default:
      return { name, type: r.type, ttl: r.ttl, data: r.value };
  }
}
