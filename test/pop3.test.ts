import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect } from 'node:net';
import { FaultInjectingMailStore } from '../src/mailstore/index.js';
import { POPLIB_SESSION, RAW_SESSION, SMTPLIB_SEND } from './helpers/py.js';
import { testMessage } from './helpers/smtp-client.js';
import { mailboxMessages, python, removeDir, run, seedDirectory, startTestService, tempDir, type TestService } from './helpers/service.js';

interface PopResult {
  capa: string[];
  login: string;
  results: (string | string[] | number[])[];
  quit?: string;
}

const PW = 'test-password';
const raw = (port: number, data: string) => python<string[]>(RAW_SESSION, [port, Buffer.from(data).toString('hex')]);

describe('POP3', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let ids: Map<string, number>;
  const pop = (mode: 'plain' | 'stls' | 'ssl', user: string, steps: unknown[][], password = PW) =>
    python<PopResult>(POPLIB_SESSION, [mode === 'ssl' ? t.pop3sPort : t.pop3Port, mode, user, password, JSON.stringify(steps)]);
  const put = async (account: string, key: string, body: string) =>
    t.service.mailStore.append({
      accountId: ids.get(account)!,
      messageKey: key,
      header: Buffer.from(`Delivered-To: ${account}\r\n`),
      openBody: () => Readable.from([Buffer.from(body, 'latin1')]),
      bodySize: Buffer.byteLength(body, 'latin1'),
      internalDate: Date.now(),
      quotaBytes: 0,
    });

  before(async () => {
    dir = tempDir();
    const start = () =>
      startTestService(dir, { 'pop3.storeTimeoutMs': 300, 'auth.maxFailuresPerAccount': 3 }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    t = await start();
    ids = await seedDirectory(t.directoryStore, 'example.com', ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);
    await t.service.directory.refresh();
  });

  after(async () => {
    faulty.setFault({ kind: 'none' }, 'reads');
    await t.stop();
    removeDir(dir);
  });

  test('SMTP in, POP3 out over STLS: byte-exact, dot-stuffed lines intact', async () => {
    const body = 'Subject: pop\r\nFrom: s@client.test\r\n\r\n.starts with a dot\r\nplain line\r\n..two dots\r\n';
    assert.equal((await python<{ code: number }>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'alice@example.com', body])).code, 250);
    const stored = await (async () => {
      for (let i = 0; i < 200; i++) {
        const m = await mailboxMessages(t.service.mailStore, ids.get('alice@example.com')!);
        if (m.length) return m[0]!;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('not delivered');
    })();
    const r = await pop('stls', 'alice@example.com', [['stat'], ['retr', 1]]);
    assert.equal(r.login, '+OK Logged in');
    assert.deepEqual(r.results[0], [1, Buffer.byteLength(stored)]);
    // poplib strips the dot-stuffing and the line endings; the lines must be what was stored.
    assert.equal(r.results[1], stored.replace(/\r\n$/, ''));
    assert.ok((r.results[1] as string).includes('\r\n.starts with a dot\r\n'));
  });

  test('RETR sends whole messages of every size around the socket\'s buffer and the one-write limit (1 KiB to 300 KiB)', async () => {
    for (const [address, id] of await seedDirectory(t.directoryStore, 'example.com', ['sizes'])) ids.set(address, id);
    await t.service.directory.refresh();
    const sizes = [1_000, 15_000, 17_000, 40_000, 100_000, 130_000, 300_000];
    for (const [i, size] of sizes.entries()) await put('sizes@example.com', `size-${i}`, testMessage(`size-${i}`, size).toString('latin1'));
    const r = await pop('plain', 'sizes@example.com', sizes.map((_, i) => ['retr', i + 1]));
    assert.equal(r.results.length, sizes.length);
    for (const [i, size] of sizes.entries()) {
      const text = r.results[i] as string;
      assert.match(text, new RegExp(`X-Test-Id: size-${i}\r\n`), `message ${i + 1} (${size} bytes) came whole`);
      assert.ok(text.length >= size - 200, `message ${i + 1}: ${text.length} of about ${size} bytes`);
    }
  });

  test('implicit TLS, UIDL, TOP, LIST', async () => {
    await put('bob@example.com', 'b1', 'Subject: one\r\n\r\nline 1\r\nline 2\r\nline 3\r\n');
    await put('bob@example.com', 'b2', 'Subject: two\r\n\r\nbody\r\n');
    const r = await pop('ssl', 'bob@example.com', [['uidl'], ['top', 1, 1], ['list']]);
    assert.equal(r.login, '+OK Logged in');
    const uidl = r.results[0] as string[];
    assert.equal(uidl.length, 2);
    assert.match(uidl[0]!, /^1 \d+\.1$/);
    assert.equal(r.results[1], 'Delivered-To: bob@example.com\r\nSubject: one\r\n\r\nline 1');
    assert.deepEqual((r.results[2] as string[]).map((l) => l.split(' ')[0]), ['1', '2']);
  });

  test('capabilities: STLS offered before TLS, USER and SASL PLAIN allowed on loopback', async () => {
    const r = await pop('plain', 'nobody@example.com', []);
    for (const c of ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'USER', 'SASL', 'STLS']) assert.ok(r.capa.includes(c), c);
    assert.match(r.login, /^-ERR \[AUTH\] /);
  });

  test('DELE and QUIT remove; RSET unmarks; a dropped connection deletes nothing; re-login sees the right state', async () => {
    for (let i = 1; i <= 4; i++) await put('carol@example.com', `c${i}`, `Subject: ${i}\r\n\r\nx\r\n`);
    let r = await pop('plain', 'carol@example.com', [['dele', 1], ['dele', 1], ['retr', 1], ['rset'], ['dele', 2], ['stat']]);
    assert.match(r.results[0] as string, /^\+OK/);
    assert.match(r.results[1] as string, /^ERR -ERR Message 1 is already deleted/);
    assert.match(r.results[2] as string, /^ERR -ERR Message 1 is already deleted/);
    assert.match(r.results[3] as string, /^\+OK/);
    assert.equal((r.results[5] as number[])[0], 3);
    assert.match(r.quit!, /^\+OK .*1 messages deleted/);
    r = await pop('plain', 'carol@example.com', [['dele', 1], ['drop']]);
    r = await pop('plain', 'carol@example.com', [['stat'], ['top', 1, 0]]);
    assert.equal((r.results[0] as number[])[0], 3, 'the dropped session deleted nothing');
    assert.match(r.results[1] as string, /Subject: 1/);
  });

  test('messages arriving during a session are not shown in it', async () => {
    await put('dave@example.com', 'd1', 'Subject: d1\r\n\r\nx\r\n');
    const sock = connect(t.pop3Port, '127.0.0.1');
    const lines: string[] = [];
    sock.on('data', (d) => lines.push(...d.toString().split('\r\n').filter(Boolean)));
    const waitLines = async (n: number) => {
      for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await waitLines(1);
    sock.write(`USER dave@example.com\r\nPASS ${PW}\r\nSTAT\r\n`);
    await waitLines(4);
    await put('dave@example.com', 'd2', 'Subject: d2\r\n\r\nx\r\n');
    sock.write('STAT\r\nQUIT\r\n');
    await waitLines(6);
    sock.destroy();
    assert.match(lines[3]!, /^\+OK 1 /);
    assert.match(lines[4]!, /^\+OK 1 /, 'still one message');
  });

  test('curl: list and retrieve over STLS', async () => {
    await put('erin@example.com', 'e1', 'Subject: curl\r\n\r\nhello curl\r\n');
    const list = await run('curl', ['-s', '--ssl-reqd', '-k', '-u', `erin@example.com:${PW}`, `pop3://127.0.0.1:${t.pop3Port}/`]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^1 \d+\r\n$/);
    const retr = await run('curl', ['-s', '--ssl-reqd', '-k', '-u', `erin@example.com:${PW}`, `pop3://127.0.0.1:${t.pop3Port}/1`]);
    assert.equal(retr.code, 0, retr.stderr);
    assert.equal(retr.stdout, 'Delivered-To: erin@example.com\r\nSubject: curl\r\n\r\nhello curl\r\n');
    const bad = await run('curl', ['-s', '--ssl-reqd', '-k', '-u', 'erin@example.com:wrong', `pop3://127.0.0.1:${t.pop3Port}/`]);
    assert.notEqual(bad.code, 0);
  });

  test('mpop: downloads everything over STLS into an mbox and deletes it from the server', async () => {
    for (let i = 1; i <= 3; i++) await put('frank@example.com', `f${i}`, `Subject: mpop ${i}\r\n\r\nbody ${i}\r\n`);
    const home = mkdtempSync(join(tmpdir(), 'mpop-'));
    const mbox = join(home, 'mbox');
    writeFileSync(mbox, '');
    const conf = join(home, 'mpoprc');
    writeFileSync(
      conf,
      `account default\nhost 127.0.0.1\nport ${t.pop3Port}\nuser frank@example.com\npassword ${PW}\ntls on\ntls_starttls on\ntls_certcheck off\ndelivery mbox ${mbox}\nkeep off\n`,
      { mode: 0o600 },
    );
    const r = await run('mpop', ['-C', conf, '-q']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = readFileSync(mbox, 'utf8');
    assert.equal((got.match(/^From /gm) ?? []).length, 3);
    for (let i = 1; i <= 3; i++) assert.ok(got.includes(`Subject: mpop ${i}`));
    assert.equal((await t.service.mailStore.list(ids.get('frank@example.com')!)).length, 0, 'deleted after download');
    removeDir(home);
  });

  test('bad input: unknown command, out-of-range and non-numeric numbers, commands before login, broken base64, over-long line', async () => {
    const before = await raw(t.pop3Port, `STAT\r\nRETR 1\r\nFOO\r\nAUTH PLAIN !!!notbase64\r\nAUTH PLAIN ${Buffer.from('nonul').toString('base64')}\r\nUSER bob@example.com\r\nPASS ${PW}\r\nRETR 0\r\nRETR 99\r\nRETR abc\r\nTOP 1 -1\r\nLIST 1 2 3\r\nNOOP\r\nQUIT\r\n`);
    assert.match(before[0]!, /^\+OK /, 'greeting');
    const r = before.slice(1);
    assert.match(r[0]!, /^-ERR STAT is not valid before logging in/);
    assert.match(r[1]!, /^-ERR RETR is not valid before logging in/);
    assert.match(r[2]!, /^-ERR /);
    assert.match(r[3]!, /^-ERR Invalid base64/);
    assert.match(r[4]!, /^-ERR SASL PLAIN needs/);
    assert.match(r[5]!, /^\+OK/);
    assert.match(r[6]!, /^\+OK Logged in/);
    assert.match(r[7]!, /^-ERR No such message: 0/);
    assert.match(r[8]!, /^-ERR No such message: 99/);
    assert.match(r[9]!, /^-ERR No such message: abc/);
    assert.match(r[10]!, /^-ERR Usage: TOP/);
    assert.match(r.at(-2)!, /^\+OK$/);
    assert.match(r.at(-1)!, /^\+OK /);
    const long = await raw(t.pop3Port, 'USER ' + 'a'.repeat(5000) + '\r\n');
    assert.match(long.at(-1)!, /^-ERR Line too long/);
    const nul = await raw(t.pop3Port, 'US\0ER x\r\nQUIT\r\n');
    assert.match(nul[1]!, /^-ERR NUL in command/);
    const flood = await raw(t.pop3Port, 'NOOP\r\n'.repeat(30));
    assert.match(flood.at(-1)!, /^-ERR Too many commands without logging in/);
  });

  test('AUTH PLAIN with and without an initial response; wrong password gives [AUTH], then the account is rate-limited', async () => {
    const creds = Buffer.from(`\0alice@example.com\0${PW}`).toString('base64');
    const ok = await raw(t.pop3Port, `AUTH PLAIN ${creds}\r\nQUIT\r\n`);
    assert.match(ok[1]!, /^\+OK Logged in/);
    const cont = await raw(t.pop3Port, `AUTH PLAIN\r\n${creds}\r\nQUIT\r\n`);
    assert.equal(cont[1], '+ ');
    assert.match(cont[2]!, /^\+OK Logged in/);
    const wrong = Buffer.from('\0dave@example.com\0nope').toString('base64');
    const bad = await raw(t.pop3Port, `AUTH PLAIN ${wrong}\r\nAUTH PLAIN ${wrong}\r\nAUTH PLAIN ${wrong}\r\nUSER dave@example.com\r\nPASS ${PW}\r\nQUIT\r\n`);
    assert.match(bad[1]!, /^-ERR \[AUTH\] Invalid user name or password/);
    assert.match(bad[4]!, /^\+OK/);
    assert.match(bad[5]!, /^-ERR \[AUTH\] Too many failed logins/, 'even the right password is refused while limited');
  });

  test('two sessions on one mailbox: the second gets [IN-USE]; the lock goes with the first session', async () => {
    const first = connect(t.pop3Port, '127.0.0.1');
    let seen = '';
    first.on('data', (d) => (seen += d));
    first.write(`USER erin@example.com\r\nPASS ${PW}\r\n`);
    for (let i = 0; i < 200 && !seen.includes('Logged in'); i++) await new Promise((r) => setTimeout(r, 10));
    const second = await pop('plain', 'erin@example.com', []);
    assert.match(second.login, /^-ERR \[IN-USE\] /);
    first.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const third = await pop('plain', 'erin@example.com', [['stat']]);
    assert.equal(third.login, '+OK Logged in');
  });

  test('a client vanishing mid-RETR of a large message leaves the server and the mailbox intact', async () => {
    await put('bob@example.com', 'huge', 'Subject: huge\r\n\r\n' + ('y'.repeat(998) + '\r\n').repeat(5000));
    const sock = connect(t.pop3Port, '127.0.0.1');
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('RETR did not start')), 10_000);
      sock.on('data', (d) => {
        got += d.length;
        if (got > 100_000) {
          clearTimeout(timer);
          sock.destroy();
          resolve();
        }
      });
      sock.write(`USER bob@example.com\r\nPASS ${PW}\r\nRETR 3\r\n`);
    });
    await new Promise((r) => setTimeout(r, 100));
    const r = await pop('plain', 'bob@example.com', [['stat']]);
    assert.equal(r.login, '+OK Logged in');
    assert.equal((r.results[0] as number[])[0], 3);
  });

  test('slow store: login still works, store commands get -ERR [SYS/TEMP] instead of hanging', async () => {
    faulty.setFault({ kind: 'hang' }, 'reads');
    try {
      const r = await raw(t.pop3Port, `USER alice@example.com\r\nPASS ${PW}\r\nSTAT\r\nLIST\r\nQUIT\r\n`);
      assert.match(r[2]!, /^\+OK Logged in/, 'login does not need the store');
      assert.match(r[3]!, /^-ERR \[SYS\/TEMP\] /);
      assert.match(r[4]!, /^-ERR \[SYS\/TEMP\] /);
    } finally {
      faulty.setFault({ kind: 'none' }, 'reads');
    }
    const after = await pop('plain', 'alice@example.com', [['stat']]);
    assert.equal((after.results[0] as number[])[0], 1, 'works again once the store answers');
  });

  test('UIDL is stable across a restart', async () => {
    const before = (await pop('plain', 'bob@example.com', [['uidl']])).results[0];
    await t.stop();
    t = await startTestService(dir, { 'pop3.storeTimeoutMs': 300 }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    const after = (await pop('plain', 'bob@example.com', [['uidl']])).results[0];
    assert.deepEqual(after, before);
  });
});

describe('POP3 without TLS when plaintext login is not allowed', () => {
  test('USER is refused with [AUTH] and not advertised until STLS; after STLS login works', async () => {
    const dir = tempDir();
    const t = await startTestService(dir, { 'pop3.plaintextLogin': 'never' });
    try {
      await seedDirectory(t.directoryStore, 'example.com', ['alice']);
      await t.service.directory.refresh();
      const plain = await raw(t.pop3Port, `CAPA\r\nUSER alice@example.com\r\nAUTH PLAIN ${Buffer.from(`\0alice@example.com\0${PW}`).toString('base64')}\r\nQUIT\r\n`);
      assert.ok(!plain.includes('USER') && !plain.some((l) => l.startsWith('SASL')), plain.join('|'));
      assert.ok(plain.includes('STLS'));
      assert.equal(plain.filter((l) => l.startsWith('-ERR [AUTH] Plaintext authentication is not allowed')).length, 2);
      const tls = await python<PopResult>(POPLIB_SESSION, [t.pop3Port, 'stls', 'alice@example.com', PW, '[]']);
      assert.equal(tls.login, '+OK Logged in');
    } finally {
      await t.stop();
      removeDir(dir);
    }
  });
});

describe('POP3 idle timeout', () => {
  test('an idle session is closed with -ERR and its DELEs are not carried out', async () => {
    const dir = tempDir();
    const t = await startTestService(dir, { 'pop3.idleTimeoutSeconds': 1 });
    try {
      const ids = await seedDirectory(t.directoryStore, 'example.com', ['alice']);
      await t.service.directory.refresh();
      await t.service.mailStore.append({
        accountId: ids.get('alice@example.com')!,
        messageKey: 'idle-1',
        header: Buffer.alloc(0),
        openBody: () => Readable.from([Buffer.from('Subject: keep\r\n\r\nx\r\n')]),
        bodySize: 20,
        internalDate: Date.now(),
        quotaBytes: 0,
      });
      const lines = await raw(t.pop3Port, `USER alice@example.com\r\nPASS ${PW}\r\nDELE 1\r\n`);
      assert.match(lines[3]!, /^\+OK Message 1 deleted/);
      assert.match(lines.at(-1)!, /^-ERR Idle timeout/);
      assert.equal((await t.service.mailStore.list(ids.get('alice@example.com')!)).length, 1);
    } finally {
      await t.stop();
      removeDir(dir);
    }
  });
});
