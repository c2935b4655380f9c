/**
 * Operators' changes to the queue (the CLI's `queue hold|release|retry|delete` and the
 * portal's queue view): entries chosen by filter, changed in batches. Entries in delivery
 * are never touched; their holder settles them.
 */
import type { EntryState, Notice, QueueEntry, QueueFilter, ShapeRow, Spool } from './types.js';

export const MANAGE_ACTIONS = ['hold', 'release', 'retry', 'delete'] as const;
export type ManageAction = (typeof MANAGE_ACTIONS)[number];

/** The states an action may change: hold puts waiting entries aside, release brings held ones back, retry makes deferred ones due. */
export const ACTION_STATES: Readonly<Record<ManageAction, readonly EntryState[]>> = {
  hold: ['queued', 'deferred'],
  release: ['held'],
  retry: ['deferred'],
  delete: ['queued', 'deferred', 'held'],
};

/** What changing the queue needs beyond the spool. */
export interface QueueOperator {
  readonly spool: Spool;
  /** Lease owner for entries the operator settles (delete). */
  readonly owner: string;
  /** The DSN telling `entry`'s sender that an operator deleted it; undefined for the null sender. */
  dsnForDeleted(entry: QueueEntry): Promise<Notice | undefined>;
}

export const MANAGE_BATCH = 500;
/** A delete's lease: long enough for a batch, short enough that a killed operator's entries come back soon. */
const LEASE_MS = 60_000;

/** Every entry id matching `filter`, ascending (read in batches). */
export async function matchingIds(spool: Spool, filter: QueueFilter): Promise<number[]> {
  const ids: number[] = [];
  for (let batch = await spool.select(filter, 0, MANAGE_BATCH); batch.length > 0; batch = await spool.select(filter, batch.at(-1)!, MANAGE_BATCH)) ids.push(...batch);
  return ids;
}

/** Applies `action` to `ids` in batches, calling `progress` after each (entries handled, entries changed); returns how many changed. */
export async function applyInBatches(m: QueueOperator, action: ManageAction, ids: readonly number[], dsn: boolean, progress: (done: number, changed: number) => void): Promise<number> {
  let changed = 0;
  for (let i = 0; i < ids.length; i += MANAGE_BATCH) {
    const batch = ids.slice(i, i + MANAGE_BATCH);
    changed += await apply(m, action, batch, dsn);
    progress(Math.min(ids.length, i + batch.length), changed);
  }
  return changed;
}

async function apply(m: QueueOperator, action: ManageAction, ids: number[], dsn: boolean): Promise<number> {
  if (action === 'hold') return m.spool.hold(ids);
  if (action === 'release') return m.spool.requeue(ids, ['held']);
  if (action === 'retry') return m.spool.requeue(ids, ['deferred']);
  let n = 0;
  // Leased first, then settled like a worker would: the removal and its DSN commit together.
  for (const entry of await m.spool.leaseIds(ids, m.owner, LEASE_MS)) {
    const ok = dsn ? await m.spool.bounce(entry, await m.dsnForDeleted(entry)) : await m.spool.complete(entry);
    if (ok) n++;
  }
  return n;
}

/** qshape's age buckets, in minutes: each twice the one before. */
export const SHAPE_BUCKETS_MINUTES = [5, 10, 20, 40, 80, 160, 320, 640, 1280] as const;

/** Shape rows merged under a coarser key (a domain's tenant), largest total first. */
export function regroupShape(rows: readonly ShapeRow[], keyOf: (key: string) => string): { key: string; total: number; counts: number[] }[] {
  const merged = new Map<string, number[]>();
  for (const r of rows) {
    const key = keyOf(r.key);
    const counts = merged.get(key);
    if (!counts) merged.set(key, [...r.counts]);
    else r.counts.forEach((n, i) => (counts[i] = counts[i]! + n));
  }
  return [...merged]
    .map(([key, counts]) => ({ key, total: counts.reduce((a, b) => a + b, 0), counts }))
    .sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
}
