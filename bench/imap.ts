/**
 * IMAP scenarios against Hikyaku and Dovecot: UID FETCH 1:* BODY.PEEK[] by 1 and 16 clients,
 * SELECT of a folder of 100,000 messages, and server memory per IDLE session.
 */
import { connect, type Socket } from 'node:net';
import { testMessage } from '../test/helpers/smtp-client.js';
import { pool } from './retrieval.js';
import type { Target } from './targets/target.js';
import type { Figures } from './scenarios.js';

/** A minimal IMAP client for load: one command at a time, literals counted, not kept. */
export class ImapBenchClient {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private tag = 0;
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, d]) : d;
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static async open(port: number): Promise<ImapBenchClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new ImapBenchClient(socket);
    await c.line();
    return c;
  }

  private async more(): Promise<void> {
    if (this.ended) throw new Error('IMAP connection closed');
    await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
  }

  private async line(): Promise<string> {
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buffer.subarray(0, i).toString('latin1');
        this.buffer = this.buffer.subarray(i + 2);
        return l;
      }
      await this.more();
    }
  }

  /** Sends a command; returns the tagged reply, the number of literals in the answer and their bytes. */
  async command(text: string): Promise<{ reply: string; literals: number; bytes: number }> {
    const tag = `b${++this.tag}`;
    this.socket.write(`${tag} ${text}\r\n`);
    let literals = 0;
    let bytes = 0;
    for (;;) {
      const l = await this.line();
      if (l.startsWith(`${tag} `)) return { reply: l.slice(tag.length + 1), literals, bytes };
      const m = /\{(\d+)\}$/.exec(l);
      if (!m) continue;
      let want = Number(m[1]);
      literals++;
      bytes += want;
      // The literal's bytes, then the rest of the response line.
      while (want > 0) {
        if (this.buffer.length === 0) await this.more();
        const take = Math.min(want, this.buffer.length);
        this.buffer = this.buffer.subarray(take);
        want -= take;
      }
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
    for (;;) if ((await this.line()).startsWith('+')) return;
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
  // Both systems read each mailbox once before timing, as a server that has been running has:
  // Dovecot indexes new Maildir files on first access and the kernel caches them, Node.js
  // compiles the hot paths. The timed runs measure the steady state.
  await pool(users, 16, async (u) => {
    const c = await session(target, u);
    await c.must('SELECT INBOX');
    await c.must('UID FETCH 1:* BODY.PEEK[]');
    c.destroy();
  });
  const out: Figures = {};
  for (const clients of [1, 16]) {
    const started = performance.now();
    const results = await Promise.all(
      users.slice(0, clients).map(async (u) => {
        const c = await session(target, u);
        await c.must('SELECT INBOX');
        const r = await c.must('UID FETCH 1:* BODY.PEEK[]');
        await c.command('LOGOUT');
        c.destroy();
        return r;
      }),
    );
    const s = (performance.now() - started) / 1000;
    const n = results.reduce((a, r) => a + r.literals, 0);
    if (n !== clients * perMailbox) throw new Error(`${target.name}: fetched ${n} of ${clients * perMailbox}`);
    out[`clients${clients}PerSecond`] = n / s;
    out[`clients${clients}MBPerSecond`] = results.reduce((a, r) => a + r.bytes, 0) / s / 1e6;
  }
  return out;
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

/** Server memory per IDLE session (logged in, INBOX selected, IDLE running). */
export async function imapIdle(target: Target, sessions: number): Promise<Figures> {
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  await target.reset();
  await settle();
  const before = target.memory();
  const open: ImapBenchClient[] = [];
  await pool(Array.from({ length: sessions }), 32, async (_, i) => {
    const c = await session(target, target.idleUser(i));
    await c.must('SELECT INBOX');
    await c.idle();
    open.push(c);
  });
  await settle();
  const after = target.memory();
  for (const c of open) c.destroy();
  return { imapIdlePssKBPerSession: (after.pss - before.pss) / sessions / 1024, imapIdleRssKBPerSession: (after.rss - before.rss) / sessions / 1024 };
}
