import type { ZoneRecord } from './zone.js';

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface Answer {
  readonly rcode: Rcode;
  /** True when the name is in one of our zones: the answer is authoritative. */
  readonly authoritative: boolean;
  readonly answers: readonly ZoneRecord[];
  /** The SOA for NXDOMAIN and NODATA (RFC 2308 §3), so resolvers cache the negative answer. */
  readonly authority: readonly ZoneRecord[];
}

/** Where a query's answer comes from: the zone a name falls in, and that zone's records. */
export interface ZoneSource {
  /** Changes whenever any zone's content may have changed (answers kept for an older one are stale). */
  readonly version: number;
  /** The zone (a hosted domain) that `name` is in, or undefined. */
  zoneOf(name: string): string | undefined;
  records(zone: string): readonly ZoneRecord[];
  /** Every zone's name. */
  zones(): string[];
}

/** Answers one question (RFC 1034 §4.3.2, without delegation: we host whole zones). */
export function answer(source: ZoneSource, qname: string, qtype: string): Answer {
  const name = qname.toLowerCase().replace(/\.$/, '');
  const zone = source.zoneOf(name);
  if (zone === undefined) return { rcode: 'REFUSED', authoritative: false, answers: [], authority: [] };
  const records = source.records(zone);
  const soa = records.filter((r) => r.type === 'SOA');
  const atName = records.filter((r) => r.name === name);
  // A name with records below it exists too (an "empty non-terminal", RFC 8020).
  const exists = atName.length > 0 || records.some((r) => r.name.endsWith(`.${name}`));
  if (!exists) return { rcode: 'NXDOMAIN', authoritative: true, answers: [], authority: soa };
  if (qtype === 'ANY') {
    // RFC 8482 §4.2: one RRset of the name's, not all of them (no amplification).
    const first = atName[0];
    return { rcode: 'NOERROR', authoritative: true, answers: first ? atName.filter((r) => r.type === first.type) : [], authority: first ? [] : soa };
  }
  const matching = atName.filter((r) => r.type === qtype);
  const cname = atName.filter((r) => r.type === 'CNAME');
  const answers = matching.length ? matching : cname.length ? [...cname, ...chase(source, cname[0]!.data as string, qtype)] : [];
  return { rcode: 'NOERROR', authoritative: true, answers, authority: answers.length ? [] : soa };
}

/**
 * The records of a CNAME's target when it is in one of our zones, following further CNAMEs
 * (at most 8, no loops), as authoritative servers add them (RFC 1034 §4.3.2 step 3a): a
 * resolver then needs no second question.
 */
function chase(source: ZoneSource, target: string, qtype: string): ZoneRecord[] {
  const out: ZoneRecord[] = [];
  const seen = new Set<string>();
  for (let name = target.toLowerCase(), hops = 0; hops < 8 && !seen.has(name); hops++) {
    seen.add(name);
    const zone = source.zoneOf(name);
    if (zone === undefined) break;
    const atName = source.records(zone).filter((r) => r.name === name);
    const matching = atName.filter((r) => r.type === qtype);
    if (matching.length) return [...out, ...matching];
    const next = atName.find((r) => r.type === 'CNAME');
    if (!next) break;
    out.push(next);
    name = (next.data as string).toLowerCase();
  }
  return out;
}
