import type { ZoneRecord } from './zone.js';

const dot = (host: string) => (host === '' ? '.' : `${host}.`);

/** A character string in zone-file form (RFC 1035 §5.1): quoted, with " and \ escaped, bytes outside ASCII as \DDD. */
function quote(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b < 0x20 || b > 0x7e) out += '\\' + String(b).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

/** The data of a record as a zone file writes it. */
export function presentData(r: ZoneRecord): string {
  const d = r.data as any;
  switch (r.type) {
    case 'SOA':
      return `${dot(d.mname)} ${dot(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'NS':
    case 'CNAME':
      return dot(d);
    case 'MX':
      return `${d.preference} ${dot(d.exchange)}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${dot(d.target)}`;
    case 'CAA':
      return `${d.flags} ${d.tag} ${quote(Buffer.from(d.value))}`;
    case 'TXT':
      return (d as Buffer[]).map(quote).join(' ');
    default:
      return String(d);
  }
}

/** The whole zone as a master file (RFC 1035 §5): $ORIGIN, then one line per record, the SOA first. */
export function zoneFile(zone: string, records: readonly ZoneRecord[]): string {
  const sorted = [...records].sort((a, b) => (a.type === 'SOA' ? -1 : b.type === 'SOA' ? 1 : 0));
  const lines = sorted.map((r) => `${dot(r.name)}\t${r.ttl}\tIN\t${r.type}\t${presentData(r)}`);
  return `$ORIGIN ${zone}.\n${lines.join('\n')}\n`;
}
