import type { ExpectedRecord } from './dkim.js';

/** The lookups a check needs; node's dns/promises Resolver has them. */
export interface TxtMxResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolveTxt(name: string): Promise<string[][]>;
}

export type PublishedState = 'ok' | 'missing' | 'different' | 'error';

export interface CheckedRecord extends ExpectedRecord {
  readonly state: PublishedState;
  /** What the DNS answered for the name and type (TXT strings joined), for the page to show. */
  readonly found: readonly string[];
  /** Why the lookup failed (state error). */
  readonly error?: string;
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);
const bare = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** Whether the published answer does what the expected record is for. */
function matches(r: ExpectedRecord, found: string, mailHost: string): boolean {
  switch (r.purpose) {
    case 'mx':
      return bare(found.split(' ').pop() ?? '') === bare(mailHost);
    case 'spf':
      // Any SPF record that lets our host send: by the mx mechanism (the MX is ours) or by its name.
      return /(^|\s)[+~?]?mx(\s|$)/i.test(found) || found.toLowerCase().includes(bare(mailHost));
    case 'dkim':
      return found.replace(/\s+/g, '').includes(`p=${/p=([^;\s]+)/.exec(r.value)?.[1] ?? ''}`);
    case 'dmarc':
      return /^v=DMARC1\s*;/i.test(found);
  }
}

/**
 * What the DNS publishes now for each expected record, through `resolver` (the one relay
 * uses): ok, missing (no such record), different (a record that does not do its job), or
 * error (the lookup failed; the sentence says why). Lookups run in parallel.
 */
export async function checkPublished(records: readonly ExpectedRecord[], mailHost: string, resolver: TxtMxResolver): Promise<CheckedRecord[]> {
  return Promise.all(
    records.map(async (r): Promise<CheckedRecord> => {
      try {
        const all =
          r.type === 'MX'
            ? (await resolver.resolveMx(r.name)).map((m) => `${m.priority} ${m.exchange}.`)
            : (await resolver.resolveTxt(r.name)).map((parts) => parts.join(''));
        // Only the records of this kind: a domain's other TXT records (verification tokens) are not SPF.
        const found = r.purpose === 'spf' ? all.filter((v) => /^v=spf1\b/i.test(v)) : r.purpose === 'dmarc' ? all.filter((v) => /^v=DMARC1/i.test(v)) : r.purpose === 'dkim' ? all.filter((v) => /p=/.test(v)) : all;
        if (found.length === 0) return { ...r, state: 'missing', found: [] };
        return { ...r, state: found.some((f) => matches(r, f, mailHost)) ? 'ok' : 'different', found };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (NO_DATA.has(code)) return { ...r, state: 'missing', found: [] };
        return { ...r, state: 'error', found: [], error: `the DNS lookup failed (${code || (err as Error).message})` };
      }
    }),
  );
}
