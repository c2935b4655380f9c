/**
 * Counts of events per key that nodes sharing a store add up (failed logins, messages sent),
 * in time buckets. A backend with one store for many nodes implements it; alone, a node
 * counts in memory only.
 */
export interface SharedCounters {
  /** Adds `n` events at `at` to each key's bucket of `bucketMs`. */
  add(keys: readonly string[], n: number, at: number, bucketMs: number): Promise<void>;
  /** Each key's buckets that start after `since`, as [bucket start, events], oldest first. */
  buckets(keys: readonly string[], since: number, bucketMs: number): Promise<Map<string, [number, number][]>>;
  /** Forgets a key's events (a login that succeeded clears its failures). */
  forget(key: string): Promise<void>;
}

/** What a key's count is made of: [time, events] pairs, oldest first; each counts until time + span + window. */
interface Tally {
  readonly span: number;
  readonly events: [number, number][];
}

const MAX_KEYS = 100_000;
const RETRY_MS = 5000;

/**
 * A sliding window of events per key: counted in this process, and, with `shared`, added
 * to the store's counts so every node sees every node's events. Reads of the shared counts
 * (`pull`) have a deadline; a store that does not answer leaves each node its own counts,
 * so a sick database never blocks a login or a message (DESIGN.md principle 4).
 */
export class WindowCounts {
  private readonly local = new Map<string, [number, number][]>();
  private readonly pulled = new Map<string, { at: number; tally: Tally }>();
  private readonly bucketMs: number;
  private failing = false;
  /** After a failed read, reads wait this long (a sick store costs one login the deadline, not every one). */
  private pullAgainAt = 0;

  constructor(
    private readonly windowMs: number,
    private readonly shared?: SharedCounters,
    private readonly timeoutMs = 250,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.bucketMs = Math.max(1000, Math.ceil(windowMs / 60));
  }

  add(key: string, n: number, now = Date.now()): void {
    const list = this.recent(key, now);
    list.push([now, n]);
    this.local.set(key, list);
    if (this.local.size > MAX_KEYS) this.prune(now);
    this.shared?.add([key], n, now, this.bucketMs).catch((err) => this.failed(err));
  }

  /** Forgets `key`'s events; the shared store is written only when some were seen (a login that succeeds costs no write). */
  forget(key: string): void {
    const seen = this.local.has(key) || (this.pulled.get(key)?.tally.events.length ?? 0) > 0;
    this.local.delete(key);
    this.pulled.delete(key);
    if (seen) this.shared?.forget(key).catch((err) => this.failed(err));
  }

  /** Brings the shared counts of `keys` into memory, within the deadline; `count` and `waitFor` then include them. */
  async pull(keys: readonly string[], now = Date.now()): Promise<void> {
    if (!this.shared || Date.now() < this.pullAgainAt) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeoutMs);
    });
    try {
      const got = await Promise.race([this.shared.buckets(keys, now - this.windowMs - this.bucketMs, this.bucketMs), deadline]);
      if (!got) {
        this.failed(new Error(`the shared counts did not answer within ${this.timeoutMs} ms`));
        return;
      }
      this.failing = false;
      for (const key of keys) this.pulled.set(key, { at: now, tally: { span: this.bucketMs, events: got.get(key) ?? [] } });
      if (this.pulled.size > MAX_KEYS) this.pulled.clear();
    } catch (err) {
      this.failed(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Events of `key` in the window: this node's, or the shared count if that is more. */
  count(key: string, now = Date.now()): number {
    return this.sum(this.tally(key, now), now);
  }

  /** Milliseconds until `key` has fewer than `max` events in the window; 0 when it has now. */
  waitFor(key: string, max: number, now = Date.now()): number {
    const tally = this.tally(key, now);
    let seen = 0;
    for (let i = tally.events.length - 1; i >= 0; i--) {
      const [at, n] = tally.events[i]!;
      if (at + tally.span + this.windowMs <= now) break;
      seen += n;
      if (seen >= max) return at + tally.span + this.windowMs - now;
    }
    return 0;
  }

  private tally(key: string, now: number): Tally {
    const mine: Tally = { span: 0, events: this.recent(key, now) };
    const pulled = this.pulled.get(key);
    // A pull counts until the next one (or a bucket's time at most): it is what other nodes added.
    if (!pulled || now - pulled.at > this.bucketMs) return mine;
    return this.sum(pulled.tally, now) > this.sum(mine, now) ? pulled.tally : mine;
  }

  private sum(tally: Tally, now: number): number {
    let total = 0;
    for (const [at, n] of tally.events) if (at + tally.span + this.windowMs > now) total += n;
    return total;
  }

  private recent(key: string, now: number): [number, number][] {
    const list = this.local.get(key);
    if (!list) return [];
    let drop = 0;
    while (drop < list.length && list[drop]![0] <= now - this.windowMs) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) this.local.delete(key);
    return list;
  }

  private prune(now: number): void {
    for (const key of [...this.local.keys()]) this.recent(key, now);
  }

  private failed(err: unknown): void {
    // Told once per outage, not on every login.
    if (!this.failing) this.onError(err);
    this.failing = true;
    this.pullAgainAt = Date.now() + RETRY_MS;
  }
}
