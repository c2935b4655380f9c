import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openDirectoryStore, openMailStore } from '../src/wiring.js';
import type { MailStore } from '../src/mailstore/index.js';
import { freePort, removeDir, seedDirectory, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';

export const BENCH_PASSWORD = 'test-password';

/** Hikyaku started as its own process on a fresh data dir, as shipped (fsync on). */
export interface BenchServer {
  readonly smtpPort: number;
  readonly pop3Port: number;
  /** Recipients of the SMTP scenarios. */
  readonly accounts: readonly string[];
  /** Mailboxes for the POP3 scenarios, by address → account id. */
  readonly popAccounts: ReadonlyMap<string, number>;
  /** The mailbox store, opened by the bench process to seed and count. */
  readonly mailStore: MailStore;
  /** Messages in all SMTP recipients' mailboxes. */
  delivered(): Promise<number>;
  /** The server's memory: resident and proportional set size in bytes (Linux). */
  memory(): { rss: number; pss: number };
  stop(): Promise<void>;
}

export async function startBenchServer(smtpRecipients: number, popMailboxes: number, nodeArgs: string[] = []): Promise<BenchServer> {
  const dir = tempDir('hikyaku-bench-');
  const [smtpPort, pop3Port] = [await freePort(), await freePort()];
  const config = testConfig(dir);
  const directory = openDirectoryStore(config);
  const smtpIds = await seedDirectory(directory, 'bench.test', Array.from({ length: smtpRecipients }, (_, i) => `user${i}`));
  const popAccounts = await seedDirectory(directory, 'pop.bench.test', Array.from({ length: popMailboxes }, (_, i) => `reader${i}`));
  await directory.close();
  const child: ChildProcess = await spawnServer(dir, { HIKYAKU_MX_PORT: String(smtpPort), HIKYAKU_POP3_PORT: String(pop3Port), HIKYAKU_LOG_LEVEL: 'warn' }, nodeArgs);
  const mailStore = openMailStore(config);
  const smtpAccountIds = [...smtpIds.values()];
  return {
    smtpPort,
    pop3Port,
    accounts: [...smtpIds.keys()],
    popAccounts,
    mailStore,
    async delivered() {
      let n = 0;
      for (const id of smtpAccountIds) n += (await mailStore.status(id)).messages;
      return n;
    },
    memory() {
      const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
      return { rss: kb('Rss'), pss: kb('Pss') };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await mailStore.close();
      removeDir(dir);
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Runs `work` for each item with at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}
