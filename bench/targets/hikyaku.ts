import type { ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashPassword } from '../../src/directory/index.js';
import { openDirectoryStore, openMailStore, openSpool } from '../../src/wiring.js';
import { dropSchemas, pgStoreUrl } from '../../test/helpers/postgres.js';
import { seedBacklog } from '../../test/helpers/backlog.js';
import { freePort, parentOf, removeDir, spawnServer, tempDir, testConfig } from '../../test/helpers/service.js';
import { PASSWORD, USERS, cpuOf, memoryOf, type Memory, type Target } from './target.js';

/**
 * Hikyaku as shipped (fsync on), one process per role set, on a fresh data dir per reset;
 * with `postgres`, every store in a fresh schema of this machine's PostgreSQL instead.
 */
export class HikyakuTarget implements Target {
  readonly name: string;
  readonly users = USERS;
  readonly password = PASSWORD;
  readonly durability: string;
  readonly runs: readonly string[] | undefined;
  smtpPort = 0;
  pop3Port = 0;
  imapPort = 0;
  private dir = '';
  private processes: ChildProcess[] = [];
  private hash: Promise<string> | undefined;

  private pg: { url: string; schema: string } | undefined;

  constructor(
    private readonly idleAccounts: number,
    private readonly nodeArgs: string[],
    private readonly postgres?: { runs: readonly string[] },
  ) {
    this.name = postgres ? 'hikyaku-pg' : 'hikyaku';
    this.runs = postgres?.runs;
    this.durability = postgres
      ? 'the body and one queue row per recipient in one PostgreSQL transaction (synchronous_commit on)'
      : 'the body (inline in the WAL up to 16 KiB, in the body log with one fdatasync per group commit up to 128 KiB, else its own file + directory fsync) and one queue row per recipient, one WAL fdatasync per group commit';
  }

  /** The configuration a reset's processes and this bench share. */
  private config() {
    const url = this.pg?.url;
    return testConfig(this.dir, url ? { 'storage.directory': url, 'storage.spool': url, 'storage.mailstore': url } : {});
  }

  async reset(options: { deliveryPaused?: boolean; backlog?: number } = {}): Promise<void> {
    await this.stop();
    this.dir = tempDir('hikyaku-bench-');
    [this.smtpPort, this.pop3Port, this.imapPort] = [await freePort(), await freePort(), await freePort()];
    if (this.postgres) this.pg = pgStoreUrl();
    const store = openDirectoryStore(this.config());
    const passwordHash = await (this.hash ??= hashPassword(PASSWORD));
    await store.addDomain('example.test');
    for (const address of [...USERS, ...Array.from({ length: this.idleAccounts }, (_, i) => this.idleUser(i))]) {
      await store.addAccount({ address, passwordHash, quotaBytes: 0 });
    }
    await store.close();
    if (options.backlog) {
      if (this.pg) throw new Error('a backlog is seeded into the embedded spool only');
      await seedBacklog(this.dir, options.backlog, 'a@b.test', (i) => `r${i}@d${i % 1000}.test`, () => 'remote');
    }
    const roles = options.deliveryPaused ? 'mx,pop3,imap' : 'mx,pop3,imap,delivery';
    this.processes.push(await this.spawn(roles));
  }

  private spawn(roles: string): Promise<ChildProcess> {
    const stores = this.pg ? { HIKYAKU_STORAGE_DIRECTORY: this.pg.url, HIKYAKU_STORAGE_SPOOL: this.pg.url, HIKYAKU_STORAGE_MAILSTORE: this.pg.url } : {};
    // readers.processes as shipped (1) unless BENCH_READERS_PROCESSES says otherwise: on two
    // cores shared with the load generator a second session process measured no faster.
    return spawnServer(this.dir, { ...stores, HIKYAKU_READERS_PROCESSES: process.env.BENCH_READERS_PROCESSES ?? '1', HIKYAKU_MX_PORT: String(this.smtpPort), HIKYAKU_POP3_PORT: roles.includes('pop3') ? String(this.pop3Port) : '0', HIKYAKU_IMAP_PORT: roles.includes('imap') ? String(this.imapPort) : '0', HIKYAKU_ROLES: roles, HIKYAKU_LOG_LEVEL: 'warn' }, this.nodeArgs);
  }

  async resumeDelivery(): Promise<void> {
    // The delivery role in a process of its own, as a separate delivery node would be.
    this.processes.push(await this.spawn('delivery'));
  }

  async queueEmpty(): Promise<boolean> {
    if (this.pg) {
      const spool = openSpool(this.config());
      try {
        return Object.entries((await spool.stats()).byState).every(([state, n]) => state === 'bounced' || n === 0);
      } finally {
        await spool.close();
      }
    }
    const db = new Database(join(this.dir, 'spool/spool.db'), { readonly: true, fileMustExist: true });
    try {
      // A seeded backlog (deferred a day, see reset) is not what is being drained. The two
      // ranges let SQLite skip it by the message index: a scan of a million entries on every
      // poll took ~110 ms of a core that the drain being measured needs.
      return (db.prepare(`SELECT count(*) AS n FROM entries WHERE (message_id < 'backlog' OR message_id > 'backlog') AND state != 'bounced'`).get() as { n: number }).n === 0;
    } finally {
      db.close();
    }
  }

  async seedMailboxes(users: readonly string[], count: number, message: Buffer): Promise<void> {
    const config = this.config();
    const directory = openDirectoryStore(config);
    const ids = new Map((await directory.listAccounts()).map((a) => [a.address, a.id]));
    await directory.close();
    const store = openMailStore(config);
    const jobs = users.flatMap((u) => Array.from({ length: count }, (_, i) => ({ id: ids.get(u)!, key: `seed-${u}-${i}` })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          await store.append({ accountId: job.id, messageKey: job.key, header: Buffer.alloc(0), openBody: () => Readable.from([message]), bodySize: message.length, internalDate: Date.now(), quotaBytes: 0 });
        }
      }),
    );
    await store.close();
  }

  idleUser(i: number): string {
    // One mailbox per session: Hikyaku locks a maildrop for its POP3 session ([IN-USE]).
    return `idle${i}@example.test`;
  }

  /** The service's processes and their children (session workers). */
  memory(): Memory {
    return memoryOf(this.isOurs());
  }

  /** With every store on PostgreSQL, its server's processes count too: they do the storing. */
  cpuSeconds(): number {
    const ours = this.isOurs();
    return cpuOf((exe, pid) => ours(exe, pid) || (this.pg !== undefined && exe.startsWith('/usr/lib/postgresql/')));
  }

  /** The service's processes and their children (session workers). */
  private isOurs(): (exe: string, pid: number) => boolean {
    const pids = new Set(this.processes.map((p) => p.pid));
    return (_, pid) => pids.has(pid) || pids.has(parentOf(pid));
  }

  async stop(): Promise<void> {
    for (const p of this.processes) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    this.processes = [];
    if (this.dir) removeDir(this.dir);
    this.dir = '';
    if (this.pg) await dropSchemas([this.pg.schema]);
    this.pg = undefined;
  }
}
