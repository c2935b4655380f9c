/**
 * IMAP scenarios against Hikyaku and Dovecot: UID FETCH 1:* BODY.PEEK[] by 1 and 16 clients,
 * SELECT of a folder of 100,000 messages, and server memory per IDLE session.
 */
import { connect, type Socket } from 'node:net';
import { testMessage } from '../test/helpers/smtp-client.js';
import { pool, retrievalRuns } from './retrieval.js';
import type { Target } from './targets/target.js';
import type { Figures } from './scenarios.js';

/**
 * A minimal IMAP client for load: one command at a time. Incoming bytes are scanned where
 * they lie: literal data is counted and skipped, never copied or decoded, and only the
 * short text lines are kept, so the client costs little beside the server it measures.
 */
export class ImapBenchClient {
  /** The text line being read (literal data never goes here). */
  private line: Buffer[] = [];
  /** Literal bytes still to skip. */
  private skip = 0;
  private literals = 0;
  private bytes = 0;
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private tag = 0;
  private ended = false;
  private greeted = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.scan(d));
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  private scan(d: Buffer): void {
    let at = 0;
    while (at < d.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, d.length - at);
        this.skip -= take;
        at += take;
        continue;
      }
      const lf = d.indexOf(0x0a, at);
      if (lf < 0) {
        this.line.push(d.subarray(at));
        break;
      }
      this.line.push(d.subarray(at, lf + 1));
      at = lf + 1;
      const text = (this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line)).toString('latin1').replace(/\r?\n$/, '');
      this.line = [];
      const m = /\{(\d+)\}$/.exec(text);
      if (m) {
        this.skip = Number(m[1]);
        this.literals++;
        this.bytes += this.skip;
      }
      // Only what a caller waits for is kept: tagged replies, continuations, and the greeting.
      if (this.greeted ? text.startsWith('b') || text.startsWith('+') : true) this.lines.push(text);
    }
    if (this.lines.length) this.wake?.();
  }

  static async open(port: number): Promise<ImapBenchClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new ImapBenchClient(socket);
    await c.next();
    c.greeted = true;
    return c;
  }

  private async next(): Promise<string> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.ended) throw new Error('IMAP connection closed');
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** Sends a command; returns the tagged reply, the number of literals in the answer and their bytes. */
  async command(text: string): Promise<{ reply: string; literals: number; bytes: number }> {
    const tag = `b${++this.tag}`;
    this.literals = 0;
    this.bytes = 0;
    this.socket.write(`${tag} ${text}\r\n`);
    for (;;) {
      const l = await this.next();
      if (l.startsWith(`${tag} `)) return { reply: l.slice(tag.length + 1), literals: this.literals, bytes: this.bytes };
    }
  }

  async must(text: string): Promise<{ literals: number; bytes: number }> {
    const r = await this.command(text);
    if (!r.reply.startsWith('OK')) throw new Error(`${text.split(' ')[0]}: ${r.reply}`);
    return r;
  }

  /** Starts IDLE and waits for the continuation. */
  async idle(): Promise<void> {
    this.socket.write(`b${++this.tag} IDLE\r\n`);
    for (;;) if ((await this.next()).startsWith('+')) return;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

async function session(target: Target, user: string): Promise<ImapBenchClient> {
  const c = await ImapBenchClient.open(target.imapPort);
  await c.must(`LOGIN ${user} ${target.password}`);
  return c;
}

/** UID FETCH 1:* BODY.PEEK[] of `perMailbox` 4 KiB messages, by 1 client and by 16 clients on 16 mailboxes. */
export async function imapRetrieval(target: Target, perMailbox: number): Promise<Figures> {
  await target.reset();
  const users = target.users.slice(0, 16);
  await target.seedMailboxes(users, perMailbox, testMessage('imap', 4096));
  return retrievalRuns(target, users, perMailbox, async (u) => {
    const c = await session(target, u);
    await c.must('SELECT INBOX');
    const r = await c.must('UID FETCH 1:* BODY.PEEK[]');
    await c.command('LOGOUT');
    c.destroy();
    return { messages: r.literals, bytes: r.bytes };
  });
}

/** LOGIN + SELECT of a folder of `count` messages (after one SELECT that lets Dovecot build its index): median of 5, in ms. */
export async function imapSelectLarge(target: Target, count: number): Promise<Figures> {
  await target.reset();
  const user = target.users[99]!;
  await target.seedMailboxes([user], count, testMessage('big', 1024));
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    const c = await session(target, user);
    await c.must('SELECT INBOX');
    if (i > 0) times.push(performance.now() - started);
    await c.command('LOGOUT');
    c.destroy();
  }
  times.sort((a, b) => a - b);
  return { selectMs: times[Math.floor(times.length / 2)]! };
}

/**
 * Server memory per IDLE session (logged in, INBOX selected, IDLE running): the growth from
 * the first half of the sessions to all of them, so that what a fresh process allocates and
 * frees on its first connections is not counted.
 */
export async function imapIdle(target: Target, sessions: number): Promise<Figures> {
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  await target.reset();
  const open: ImapBenchClient[] = [];
  const openSessions = (from: number, to: number) =>
    pool(Array.from({ length: to - from }), 32, async (_, i) => {
      const c = await session(target, target.idleUser(from + i));
      await c.must('SELECT INBOX');
      await c.idle();
      open.push(c);
    });
  const half = Math.floor(sessions / 2);
  await openSessions(0, half);
  await settle();
  const before = target.memory();
  await openSessions(half, sessions);
  await settle();
  const after = target.memory();
  for (const c of open) c.destroy();
  const n = sessions - half;
  return { imapIdlePssKBPerSession: (after.pss - before.pss) / n / 1024, imapIdleRssKBPerSession: (after.rss - before.rss) / n / 1024 };
}
