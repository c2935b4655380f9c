import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { SMTPLIB_SEND } from './helpers/py.js';
import { Pop3Client } from './helpers/pop3-client.js';
import { childrenOf, freePort, python, removeDir, seededDataDir, spawnServer, waitFor } from './helpers/service.js';

const PASSWORD = 'test-password';
const DOMAIN = 'workers.test';
const USERS = ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `${l}@${DOMAIN}`);
// Accounts that never had mail nor folders: their first SELECT makes them.
const FRESH = Array.from({ length: 24 }, (_, i) => `fresh${i}@${DOMAIN}`);

/** argv: port, mode (plain|starttls|implicit), user, password → {"body": hex of message 1, "exists": n} */
const IMAPLIB_FETCH = String.raw`
import imaplib, json, ssl, sys
port, mode, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
if mode == 'implicit':
    c = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx)
else:
    c = imaplib.IMAP4('127.0.0.1', port)
    if mode == 'starttls':
        c.starttls(ssl_context=ctx)
c.login(user, password)
typ, data = c.select('INBOX')
typ, msg = c.fetch('1', '(BODY.PEEK[])')
c.logout()
print(json.dumps({'exists': int(data[0]), 'body': msg[0][1].hex()}))
`;

/** argv: port, password, users… → {"user": "OK"|error} after LOGIN + SELECT INBOX + LIST, all users at once (threads). */
const IMAPLIB_FIRST_SELECTS = String.raw`
import imaplib, json, sys, threading
port, password, users = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
out = {}
def first(user):
    try:
        c = imaplib.IMAP4('127.0.0.1', port)
        c.login(user, password)
        typ, data = c.select('INBOX')
        typ2, folders = c.list()
        c.logout()
        names = set(f.decode().rsplit(' ', 1)[1] for f in folders)
        out[user] = 'OK' if typ == 'OK' and typ2 == 'OK' and len(names) == 6 else '%s %s %s' % (typ, data, folders)
    except Exception as e:
        out[user] = repr(e)
threads = [threading.Thread(target=first, args=(u,)) for u in users]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out))
`;

/** argv: port, password, user, then steps (one per line in argv[4]) → the tagged result of each, run on a fresh connection each. */
const IMAPLIB_STEPS = String.raw`
import imaplib, json, sys
port, password, user, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
out = []
for step in steps:
    c = imaplib.IMAP4('127.0.0.1', port)
    c.login(user, password)
    res = []
    for cmd, args in step:
        if cmd == 'append':
            typ, data = c.append(args[0], args[1], None, args[2].encode())
        elif cmd == 'move':
            typ, data = c.uid('MOVE', *args)
        else:
            typ, data = getattr(c, cmd)(*args)
        res.append([typ, [d.decode(errors='replace') if isinstance(d, bytes) else (b' '.join(d).decode(errors='replace') if isinstance(d, tuple) else str(d)) for d in data]])
    c.logout()
    out.append(res)
print(json.dumps(out))
`;

/** The JSON log lines the server printed since the test began. */
type LogLine = { msg: string; user?: string; worker?: number; reason?: string };

/**
 * readers.processes = 3 on the embedded store: the main process and two session workers serve
 * POP3 and IMAP in turn; failed-login counts and maildrop locks stay the node's, whichever
 * process a session lands on.
 */
describe('POP3 and IMAP sessions on three processes (readers.processes = 3)', () => {
  let dir = '';
  let server: ChildProcess;
  let output = '';
  const ports = { mx: 0, pop3: 0, pop3s: 0, imap: 0, imaps: 0, metrics: 0 };
  const sent = new Map<string, string>();

  const logs = (): LogLine[] =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  /** The lines saying `msg` since line `from`, once `count` of them have come (log lines travel apart from the replies). */
  const logged = async (from: number, msg: string, count: number, match: (l: LogLine) => boolean = () => true): Promise<LogLine[]> => {
    const lines = () => logs().slice(from).filter((l) => l.msg === msg && match(l));
    await waitFor(() => lines().length >= count, 5000, 20);
    return lines();
  };
  /** Which process wrote a log line: a worker's pid, or 0 for the main process. */
  const processOf = (l: LogLine) => l.worker ?? 0;
  const workers = (): number[] => childrenOf(server.pid!);
  const pop3Login = async (user: string, password = PASSWORD): Promise<{ c: Pop3Client; reply: string }> => {
    const c = await Pop3Client.open(ports.pop3);
    await c.command(`USER ${user}`);
    return { c, reply: String(await c.command(`PASS ${password}`)) };
  };
  const metric = async (labels: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`hikyaku_auth_logins_total{${labels}}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  before(async () => {
    ({ dir } = await seededDataDir(DOMAIN, [...USERS, ...FRESH].map((u) => u.split('@')[0]!)));
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    server = await spawnServer(dir, {
      HIKYAKU_ROLES: 'mx,delivery,pop3,imap',
      HIKYAKU_READERS_PROCESSES: '3',
      HIKYAKU_LOG_LEVEL: 'info',
      HIKYAKU_HOSTNAME: `mx.${DOMAIN}`,
      HIKYAKU_MX_PORT: String(ports.mx),
      HIKYAKU_POP3_PORT: String(ports.pop3),
      HIKYAKU_POP3_TLS_PORT: String(ports.pop3s),
      HIKYAKU_IMAP_PORT: String(ports.imap),
      HIKYAKU_IMAP_TLS_PORT: String(ports.imaps),
      HIKYAKU_METRICS_LISTEN: `127.0.0.1:${ports.metrics}`,
      HIKYAKU_AUTH_MAX_FAILURES_PER_ACCOUNT: '3',
      HIKYAKU_AUTH_FAILURE_DELAY_MS: '10',
    });
    server.stdout!.on('data', (d) => (output += d));
    for (const user of USERS) {
      const msg = `From: s@client.test\r\nTo: ${user}\r\nSubject: for ${user}\r\n\r\nA line for ${user}.\r\n`;
      const r = await python<{ code: number }>(SMTPLIB_SEND, [ports.mx, 0, 's@client.test', user, msg]);
      assert.equal(r.code, 250);
      sent.set(user, msg);
    }
    // Delivered: every account's message is listed (the main process answers STAT too).
    for (const user of USERS) {
      assert.ok(
        await waitFor(async () => {
          const { c, reply } = await pop3Login(user);
          const stat = reply.startsWith('+OK') ? String(await c.command('STAT')) : reply;
          await c.quit();
          return stat.startsWith('+OK 1 ');
        }, 20_000, 200),
        `${user}'s message was delivered`,
      );
    }
  });

  after(async () => {
    const children = workers();
    server.kill('SIGTERM');
    const code = await new Promise((r) => (server.exitCode !== null ? r(server.exitCode) : server.once('exit', r)));
    removeDir(dir);
    assert.equal(code, 0, 'SIGTERM stops the service cleanly');
    assert.ok(await waitFor(() => children.every((pid) => !existsPid(pid)), 5000), 'its session workers end with it');
  });

  test('two session workers start beside the main process and sessions go to each process in turn: POP3 and IMAP, plain, STARTTLS and implicit TLS, byte-exact', async () => {
    assert.equal(workers().length, 2, 'two session workers run');
    const from = logs().length;
    for (const user of USERS) {
      const { c, reply } = await pop3Login(user);
      assert.match(reply, /^\+OK/);
      const body = (await c.command('RETR 1', true)) as Buffer;
      assert.ok(body.toString('latin1').includes(`A line for ${user}.\r\n`), `${user} reads its own message`);
      await c.quit();
    }
    const pop3Logins = await logged(from, 'logged in', USERS.length);
    assert.equal(pop3Logins.length, USERS.length);
    assert.equal(new Set(pop3Logins.map(processOf)).size, 3, 'the six POP3 sessions were served by all three processes');

    const imapFrom = logs().length;
    for (const [i, mode] of (['plain', 'starttls', 'implicit'] as const).entries()) {
      const user = USERS[i]!;
      const r = await python<{ exists: number; body: string }>(IMAPLIB_FETCH, [mode === 'implicit' ? ports.imaps : ports.imap, mode, user, PASSWORD]);
      assert.equal(r.exists, 1);
      const body = Buffer.from(r.body, 'hex').toString('latin1');
      assert.ok(body.endsWith(sent.get(user)!), `${mode}: the message as sent, after the trace headers`);
    }
    const imapLogins = await logged(imapFrom, 'logged in', 3);
    assert.equal(new Set(imapLogins.map(processOf)).size, 3, 'the three IMAP sessions were served by all three processes');
  });

  test('the first SELECT of 24 fresh accounts at once, across the processes, makes their folders and answers OK for every one', async () => {
    const r = await python<Record<string, string>>(IMAPLIB_FIRST_SELECTS, [ports.imap, PASSWORD, ...FRESH]);
    assert.deepEqual(r, Object.fromEntries(FRESH.map((u) => [u, 'OK'])));
  });

  test('IMAP changes made on one process are seen on the others: CREATE, APPEND, STORE, MOVE, EXPUNGE', async () => {
    const user = USERS[5]!;
    const from = logs().length;
    // Each step on a connection of its own: three steps, three processes in turn.
    const [made, changed, seen] = await python<[string, string[]][][]>(IMAPLIB_STEPS, [
      ports.imap,
      PASSWORD,
      user,
      JSON.stringify([
        [['create', ['Projects']], ['append', ['Projects', '(\\Flagged)', 'Subject: kept\r\n\r\nkept\r\n']], ['append', ['Projects', '()', 'Subject: gone\r\n\r\ngone\r\n']]],
        [['select', ['Projects']], ['store', ['2', '+FLAGS', '(\\Deleted)']], ['expunge', []], ['move', ['*', 'Archive']]],
        [['select', ['Archive']], ['fetch', ['1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])']], ['select', ['Projects']]],
      ]),
    ]);
    assert.deepEqual(made!.map(([typ]) => typ), ['OK', 'OK', 'OK']);
    assert.deepEqual(changed!.map(([typ]) => typ), ['OK', 'OK', 'OK', 'OK']);
    assert.deepEqual(changed![2]![1], ['2'], 'EXPUNGE of the second message');
    const [archive, fetched, projects] = seen!;
    assert.equal(archive![1][0], '1', 'Archive holds the moved message');
    assert.match(fetched![1].join(' '), /\\Flagged/);
    assert.match(fetched![1].join(' '), /Subject: kept/);
    assert.equal(projects![1][0], '0', 'Projects is empty');
    const served = new Set((await logged(from, 'logged in', 3)).map(processOf));
    assert.equal(served.size, 3, 'the three steps ran on three processes');
  });

  test('a maildrop is locked for the node: while one session holds it, sessions on every other process are told [IN-USE]; after QUIT the next login gets it', async () => {
    const { c: holder, reply } = await pop3Login(USERS[0]!);
    assert.match(reply, /^\+OK/);
    const from = logs().length;
    for (let i = 0; i < 4; i++) {
      const { c, reply: r } = await pop3Login(USERS[0]!);
      assert.match(r, /^-ERR \[IN-USE\]/, `attempt ${i + 1}`);
      c.destroy();
    }
    const refusals = await logged(from, 'maildrop in use', 4);
    assert.equal(refusals.length, 4);
    assert.equal(new Set(refusals.map(processOf)).size, 3, 'every process refused the maildrop, including those the holder is not on');
    await holder.quit();
    const { c, reply: again } = await pop3Login(USERS[0]!);
    assert.match(again, /^\+OK/, 'released with QUIT');
    await c.quit();
  });

  test('failed logins count for the node: three wrong passwords, each on another process, lock the account out on every process', async () => {
    const from = logs().length;
    for (let i = 0; i < 3; i++) {
      const { c, reply } = await pop3Login(USERS[1]!, 'wrong-password');
      assert.match(reply, /^-ERR \[AUTH\]/);
      c.destroy();
    }
    const failures = await logged(from, 'login failed', 3);
    assert.equal(new Set(failures.map(processOf)).size, 3, 'each failure was on another process');
    for (let i = 0; i < 3; i++) {
      const { c, reply } = await pop3Login(USERS[1]!);
      assert.match(reply, /Too many failed logins/, `the right password is refused too (attempt ${i + 1})`);
      c.destroy();
    }
    const limited = await logged(from, 'login failed', 3, (l) => l.reason === 'rate-limited');
    assert.equal(new Set(limited.map(processOf)).size, 3, 'every process refused it');
  });

  test('/metrics adds up the logins of every process', async () => {
    const before = await metric('protocol="pop3",result="ok"');
    for (const user of USERS.slice(2)) {
      const { c, reply } = await pop3Login(user);
      assert.match(reply, /^\+OK/);
      await c.quit();
    }
    assert.equal(await metric('protocol="pop3",result="ok"'), before + 4);
  });

  test('a worker killed while its session holds a maildrop gives the lock back; the other processes answer meanwhile, and a new worker takes its place', async () => {
    const [first, second] = workers();
    // Sessions until one lands on the first worker (each process gets one in three).
    let held: Pop3Client | undefined;
    let user = '';
    for (const candidate of USERS.slice(2)) {
      const from = logs().length;
      const { c, reply } = await pop3Login(candidate);
      assert.match(reply, /^\+OK/);
      if ((await logged(from, 'logged in', 1)).some((l) => l.worker === first)) {
        held = c;
        user = candidate;
        break;
      }
      await c.quit();
    }
    assert.ok(held, 'a session landed on the first worker');
    process.kill(first!, 'SIGKILL');
    let readers = 0;
    assert.ok(
      await waitFor(async () => {
        const { c, reply } = await pop3Login(user);
        c.destroy();
        if (reply.startsWith('+OK')) return true;
        assert.match(reply, /^-ERR \[IN-USE\]/);
        readers++;
        return false;
      }, 10_000, 100),
      "the killed worker's lock was given back",
    );
    held.destroy();
    const started = () => logs().find((l) => l.msg === 'session worker ready' && l.worker !== first && l.worker !== second)?.worker;
    assert.ok(await waitFor(() => started() !== undefined, 10_000), 'a new worker was started');
    const replacement = started()!;
    assert.deepEqual(workers().sort(), [second!, replacement].sort());
    const from = logs().length;
    for (const u of USERS.slice(3)) {
      const { c, reply } = await pop3Login(u);
      assert.match(reply, /^\+OK/);
      await c.quit();
    }
    const served = new Set((await logged(from, 'logged in', 3)).map(processOf));
    assert.ok(served.has(replacement), `the new worker serves sessions (${readers} refusals while the lock was held)`);
  });
});

function existsPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
