import type { SharedCounters } from './window-counts.js';

// Buckets older than a day count for no window kept (as the PostgreSQL table's sweep).
const KEEP_MS = 86_400_000;

/**
 * Shared counters in one process's memory: what the processes of one node share when the
 * store is embedded (the main process keeps them, its session workers ask it).
 */
export class MemoryCounters implements SharedCounters {
  private readonly counts = new Map<string, Map<number, number>>();
  private lastSweep = 0;

  async add(keys: readonly string[], n: number, at: number, bucketMs: number): Promise<void> {
    const bucket = Math.floor(at / bucketMs) * bucketMs;
    for (const key of keys) {
      let buckets = this.counts.get(key);
      if (!buckets) this.counts.set(key, (buckets = new Map()));
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + n);
    }
    if (at - this.lastSweep > 60_000) this.sweep((this.lastSweep = at) - KEEP_MS);
  }

  async buckets(keys: readonly string[], since: number): Promise<Map<string, [number, number][]>> {
    const found = new Map<string, [number, number][]>();
    for (const key of keys) {
      const list = [...(this.counts.get(key) ?? [])].filter(([bucket]) => bucket > since).sort((a, b) => a[0] - b[0]);
      if (list.length) found.set(key, list);
    }
    return found;
  }

  async forget(key: string): Promise<void> {
    this.counts.delete(key);
  }

  private sweep(before: number): void {
    for (const [key, buckets] of this.counts) {
      for (const bucket of buckets.keys()) if (bucket < before) buckets.delete(bucket);
      if (buckets.size === 0) this.counts.delete(key);
    }
  }
}
