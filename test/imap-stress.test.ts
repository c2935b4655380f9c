/**
 * A state-checking stress test in the manner of Dovecot's imaptest: several sessions on one
 * mailbox do random APPEND, STORE, EXPUNGE, MOVE and FETCH at once, and each checks that
 * what the server tells it stays consistent: sequence numbers in range, UIDs increasing with
 * them and never changing for a message, MODSEQ never going backwards, EXISTS never shrinking
 * without EXPUNGE, APPENDUID above every UID seen before. At the end every session's view
 * equals the store's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { removeDir, seedDirectory, startTestService, tempDir, type TestService } from './helpers/service.js';
import { dropSchemas, pgStoreUrl } from './helpers/postgres.js';

const PW = 'test-password';

interface Entry {
  uid: number;
  flags: string;
  modseq: number;
}

/** A minimal IMAP client that keeps its own view of the selected mailbox from untagged responses, and checks it. */
class CheckingClient {
  private buffer = '';
  private waiting: ((line: string) => void) | undefined;
  private lines: string[] = [];
  private tag = 0;
  readonly view: (Entry | undefined)[] = [];
  /** Highest modseq seen per UID (messages keep theirs when others are expunged). */
  private readonly modseqs = new Map<number, number>();
  maxUidSeen = 0;
  readonly problems: string[] = [];

  private constructor(private readonly socket: Socket, readonly name: string) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      let i: number;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      }
    });
  }

  static async open(port: number, name: string): Promise<CheckingClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const c = new CheckingClient(socket, name);
    await c.line();
    return c;
  }

  private line(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer in 20 s`)), 20_000);
      this.waiting = (x) => {
        clearTimeout(timer);
        resolve(x);
      };
    });
  }

  private problem(text: string): void {
    this.problems.push(`${this.name}: ${text}`);
  }

  /** Applies one untagged response to the view, checking it. */
  private untagged(line: string): void {
    let m: RegExpExecArray | null;
    if ((m = /^\* (\d+) EXISTS$/.exec(line))) {
      const n = Number(m[1]);
      if (n < this.view.length) this.problem(`EXISTS ${n} shrank the mailbox from ${this.view.length}`);
      while (this.view.length < n) this.view.push(undefined);
    } else if ((m = /^\* (\d+) EXPUNGE$/.exec(line))) {
      const n = Number(m[1]);
      if (n < 1 || n > this.view.length) this.problem(`EXPUNGE ${n} out of range 1..${this.view.length}`);
      else this.view.splice(n - 1, 1);
    } else if ((m = /^\* (\d+) FETCH \((.*)\)$/.exec(line))) {
      const n = Number(m[1]);
      if (n < 1 || n > this.view.length) return this.problem(`FETCH ${n} out of range 1..${this.view.length}`);
      const uid = Number(/UID (\d+)/.exec(m[2]!)?.[1] ?? 0);
      const flags = /FLAGS \(([^)]*)\)/.exec(m[2]!)?.[1];
      const modseq = Number(/MODSEQ \((\d+)\)/.exec(m[2]!)?.[1] ?? 0);
      const e = this.view[n - 1];
      const known = uid || e?.uid || 0;
      if (e?.uid && uid && e.uid !== uid) this.problem(`message ${n} changed its UID from ${e.uid} to ${uid}`);
      if (known && modseq && modseq < (this.modseqs.get(known) ?? 0)) this.problem(`UID ${known}: MODSEQ went back from ${this.modseqs.get(known)} to ${modseq}`);
      if (known && modseq) this.modseqs.set(known, modseq);
      this.view[n - 1] = { uid: known, flags: flags !== undefined ? flags.split(' ').filter(Boolean).sort().join(' ') : (e?.flags ?? ''), modseq: modseq || (e?.modseq ?? 0) };
      this.maxUidSeen = Math.max(this.maxUidSeen, known);
      const prev = this.view.slice(0, n - 1).reverse().find((x) => x?.uid);
      const next = this.view.slice(n).find((x) => x?.uid);
      if (known && ((prev && prev.uid >= known) || (next && next.uid <= known))) this.problem(`UID ${known} at ${n} is out of order`);
    }
  }

  /** Sends a command (parts joined; a Buffer part follows a {n+} announcement); returns the tagged reply. */
  async command(text: string, literal?: Buffer): Promise<string> {
    const tag = `${this.name}${++this.tag}`;
    this.socket.write(literal ? Buffer.concat([Buffer.from(`${tag} ${text} {${literal.length}+}\r\n`), literal, Buffer.from('\r\n')]) : `${tag} ${text}\r\n`);
    for (;;) {
      const line = await this.line();
      if (line.startsWith(`${tag} `)) return line.slice(tag.length + 1);
      if (line.startsWith('* ')) this.untagged(line);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

for (const backend of ['sqlite', 'postgres'] as const) describe(`IMAP under concurrent sessions (imaptest-style), ${backend}`, () => {
  let dir: string;
  let t: TestService;
  let accountId: number;
  const pg = pgStoreUrl();
  const stores = backend === 'postgres' ? { 'storage.directory': pg.url, 'storage.spool': pg.url, 'storage.mailstore': pg.url } : {};

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'imap.storeTimeoutMs': 10_000, ...stores });
    accountId = (await seedDirectory(t.directoryStore, 'example.com', ['stress'])).get('stress@example.com')!;
    await t.service.directory.refresh();
    for (let i = 0; i < 20; i++) await t.service.mailStore.appendMessage(accountId, 'INBOX', { data: Buffer.from(`Subject: seed ${i}\r\n\r\nbody ${i}\r\n`), flags: [], internalDate: Date.now(), quotaBytes: 0 });
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
    if (backend === 'postgres') await dropSchemas([pg.schema]);
  });

  test('six sessions doing 60 random operations each keep consistent views, and end with the store\'s', async () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), (seed >>> 8) % n);
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => CheckingClient.open(t.imapPort, `s${i}`)));
    const failures: string[] = [];
    await Promise.all(
      clients.map(async (c) => {
        const must = async (text: string, literal?: Buffer) => {
          const r = await c.command(text, literal);
          if (!r.startsWith('OK')) failures.push(`${c.name}: ${text} → ${r}`);
          return r;
        };
        await must(`LOGIN stress@example.com ${PW}`);
        await must('ENABLE CONDSTORE');
        await must('SELECT INBOX');
        await must('UID FETCH 1:* (UID FLAGS MODSEQ)');
        for (let op = 0; op < 60; op++) {
          const count = c.view.length;
          const seq = 1 + rand(Math.max(1, count));
          switch (rand(8)) {
            case 0: {
              const before = c.maxUidSeen;
              const r = await must('APPEND INBOX (\\Seen)', Buffer.from(`Subject: ${c.name}-${op}\r\n\r\nfrom ${c.name}\r\n`));
              const uid = Number(/APPENDUID \d+ (\d+)/.exec(r)?.[1]);
              if (!(uid > before)) failures.push(`${c.name}: APPENDUID ${uid} not above ${before}`);
              break;
            }
            case 1:
              if (count) await must(`STORE ${seq} +FLAGS (\\Flagged $k${rand(3)})`);
              break;
            case 2:
              if (count) await must(`STORE ${seq} -FLAGS (\\Flagged)`);
              break;
            case 3:
              // Several at once, some marked by other sessions too: EXPUNGE numbering is put to the test.
              if (count) {
                await must(`STORE ${seq},${1 + rand(count)},${1 + rand(count)} +FLAGS.SILENT (\\Deleted)`);
                await must(rand(2) ? 'EXPUNGE' : `UID EXPUNGE 1:*`);
              }
              break;
            case 4: {
              const uids = [seq, 1 + rand(Math.max(1, count))].map((n) => c.view[n - 1]?.uid).filter((u) => u);
              if (uids.length) await must(`UID MOVE ${uids.join(',')} Archive`);
              break;
            }
            case 5:
              await must('NOOP');
              break;
            case 6:
              await must('UID FETCH 1:* (UID FLAGS MODSEQ)');
              break;
            default:
              if (count) await must(`FETCH ${seq}:* (FLAGS RFC822.SIZE)`);
          }
        }
      }),
    );
    assert.deepEqual(failures, []);
    const truth = (await t.service.mailStore.messages(accountId, 'INBOX')).messages;
    for (const c of clients) {
      await c.command('NOOP');
      await c.command('UID FETCH 1:* (UID FLAGS MODSEQ)');
      assert.deepEqual(c.problems, [], c.name);
      assert.deepEqual(
        c.view.map((e) => [e?.uid, e?.flags]),
        truth.map((m) => [m.uid, [...m.flags].sort().join(' ')]),
        `${c.name}'s view is the store's`,
      );
      c.close();
    }
    const archive = (await t.service.mailStore.messages(accountId, 'Archive')).messages;
    assert.ok(truth.length + archive.length > 0);
  });
});
