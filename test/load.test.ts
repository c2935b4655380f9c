import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { freePort, hikyaku, queueDrained, removeDir, seededDataDir, startTestService, type TestService } from './helpers/service.js';
import { readMailbox } from './helpers/portal.js';

interface Summary {
  attempted: number;
  accepted: number;
  acceptedPerSecond: number;
  byCode: Record<string, number>;
  errors: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}

describe('hikyaku load', () => {
  let dir = '';
  let t: TestService;

  before(async () => {
    dir = (await seededDataDir('load.test', ['u1', 'u2', 'u3', 'u4'])).dir;
    t = await startTestService(dir);
  });
  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('sends the count asked for on a schedule, spread over the recipients, sizes from the mix; a progress line each second and a JSON summary; every message arrives', async () => {
    const r = await hikyaku(dir, ['load', 'smtp', '--target', `127.0.0.1:${t.port}`, '--rcpt', 'u{1..4}@load.test', '--sizes', '1k:3,20k:1', '--count', '120', '--rate', '50', '--concurrency', '6']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    assert.equal(s.attempted, 120);
    assert.equal(s.accepted, 120);
    assert.deepEqual(s.byCode, { '250': 120 });
    assert.deepEqual(s.errors, {});
    assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50 && s.latencyMs.max >= s.latencyMs.p99);
    // 120 at 50/s take more than two seconds: at least two progress lines.
    const lines = r.stderr.split('\n').filter((l) => /^\d+ s · \d+ sent · \d+\/s · p50 [\d.]+ \/ p99 [\d.]+ ms · 250×\d+/.test(l));
    assert.ok(lines.length >= 2, r.stderr);

    assert.ok(await queueDrained(dir, 30_000));
    const ids = new Set<string>();
    let large = 0;
    for (const user of ['u1', 'u2', 'u3', 'u4']) {
      const messages = await readMailbox(t.pop3Port, `${user}@load.test`);
      assert.equal(messages.length, 30, `${user} got a quarter`);
      for (const m of messages) {
        ids.add(/X-Load-Id: (\S+)/.exec(m)![1]!);
        if (m.length > 20_000) large++;
      }
    }
    assert.equal(ids.size, 120, 'every message once');
    assert.ok(large > 5 && large < 60, `about a quarter are 20k (${large})`);
  });

  test('POP3 readers poll each account, retrieve what is new once, time every command; a wrong password is -ERR [AUTH]; --delete empties the mailbox', async () => {
    interface Pop3Summary { polls: number; commands: number; retrieved: number; retrievedBytes: number; byCode: Record<string, number>; temporaryShare: number; errors: Record<string, number>; latencyMs: { p50: number; max: number } }
    const run = (users: string, password: string, more: string[] = []) =>
      hikyaku(dir, ['load', 'pop3', '--target', `127.0.0.1:${t.pop3Port}`, '--users', users, '--password-stdin', '--every', '1', '--duration', '3', ...more], { input: `${password}\n` });
    const r = await run('u{1..3}@load.test', 'test-password');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Pop3Summary;
    assert.ok(s.polls >= 6, `every account polls each second (${s.polls} polls)`);
    assert.equal(s.retrieved, 90, 'the 30 messages of each account, once');
    assert.ok(s.retrievedBytes > 90 * 1000);
    assert.deepEqual(Object.keys(s.byCode), ['+OK'], r.stdout);
    assert.equal(s.temporaryShare, 0);
    assert.deepEqual(s.errors, {});
    assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.max >= s.latencyMs.p50);
    assert.match(r.stderr, /^\d+ s · \d+ answers · \d+\/s · p50 [\d.]+ \/ p99 [\d.]+ ms · \+OK×\d+/m);

    const wrong = JSON.parse((await run('u1@load.test', 'not-the-password')).stdout) as Pop3Summary;
    assert.ok(wrong.byCode['-ERR [AUTH]']! >= 1, JSON.stringify(wrong.byCode));
    assert.equal(wrong.retrieved, 0);

    const emptied = JSON.parse((await run('u4@load.test', 'test-password', ['--delete'])).stdout) as Pop3Summary;
    assert.equal(emptied.retrieved, 30);
    assert.deepEqual(await readMailbox(t.pop3Port, 'u4@load.test'), [], 'DELE took effect at QUIT');
    const missing = await hikyaku(dir, ['load', 'pop3', '--target', `127.0.0.1:${t.pop3Port}`, '--users', 'u1@load.test']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--password-stdin/);
  });

  test('member-site logins: log in, the session, log out, each timed; a wrong password is a 401 and nobody is logged in', async () => {
    interface PortalSummary { logins: number; loggedIn: number; requests: number; byStatus: Record<string, number>; errors: Record<string, number>; latencyMs: { p50: number } }
    const run = (password: string) =>
      hikyaku(dir, ['load', 'portal', '--target', `127.0.0.1:${t.portalPort}`, '--users', 'u{1..4}@load.test', '--password-stdin', '--every', '1', '--duration', '2'], { input: `${password}\n` });
    const ok = await run('test-password');
    assert.equal(ok.code, 0, ok.stderr);
    const s = JSON.parse(ok.stdout) as PortalSummary;
    assert.ok(s.logins >= 4, `each account logs in (${s.logins})`);
    assert.equal(s.loggedIn, s.logins);
    assert.deepEqual(s.byStatus, { '200': s.logins * 2, '204': s.logins }, 'a login, the session and a logout each');
    assert.deepEqual(s.errors, {});
    const wrong = JSON.parse((await run('not-the-password')).stdout) as PortalSummary;
    assert.equal(wrong.loggedIn, 0);
    assert.deepEqual(Object.keys(wrong.byStatus), ['401'], JSON.stringify(wrong.byStatus));
  });

  test("refusals are counted by reply code, failed connections by reason; the run still ends with its summary", async () => {
    const refused = await hikyaku(dir, ['load', 'smtp', '--target', `127.0.0.1:${t.port}`, '--rcpt', 'nobody@load.test', '--count', '5', '--concurrency', '2']);
    assert.equal(refused.code, 0, refused.stderr);
    const s = JSON.parse(refused.stdout) as Summary;
    assert.equal(s.accepted, 0);
    assert.equal(s.byCode['550'], 5, refused.stdout);

    const closed = await freePort();
    const down = await hikyaku(dir, ['load', 'smtp', '--target', `127.0.0.1:${closed}`, '--rcpt', 'u1@load.test', '--count', '3', '--concurrency', '1']);
    assert.equal(down.code, 0, down.stderr);
    const d = JSON.parse(down.stdout) as Summary;
    assert.equal(d.attempted, 3);
    assert.deepEqual(d.errors, { [`connect ECONNREFUSED 127.0.0.1:${closed}`]: 3 });
  });

  test('a hostile server (endless reply, garbage, bare LF, NUL, a close mid-reply) costs its messages, with a reason, never the run', async () => {
    const behaviours: [string, (sock: import('node:net').Socket) => void, RegExp][] = [
      ['endless', (c) => c.write('220-' + 'x'.repeat(70_000)), /an answer longer than 64 KiB/],
      ['garbage then close', (c) => c.end('hello there\r\n\0\xff\nnot smtp\n'), /the server closed the connection/],
      ['bare LF replies', (c) => c.write('220 hi\n'), /no answer in|closed/],
      ['refusing greeting', (c) => c.end('554 5.7.1 go away\r\n'), /greeting 554 5\.7\.1 go away/],
    ];
    for (const [name, greet, reason] of behaviours) {
      const server: Server = createServer((c) => {
        c.on('error', () => undefined);
        greet(c);
        setTimeout(() => c.destroy(), 1500).unref();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const r = await hikyaku(dir, ['load', 'smtp', '--target', `127.0.0.1:${(server.address() as AddressInfo).port}`, '--rcpt', 'u1@load.test', '--count', '2', '--concurrency', '1', '--duration', '10']);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        const s = JSON.parse(r.stdout) as Summary;
        assert.equal(s.attempted, 2, name);
        assert.equal(s.accepted, 0, name);
        const reasons = Object.keys(s.errors);
        assert.ok(reasons.length > 0 && reasons.every((x) => reason.test(x)), `${name}: ${reasons.join('; ')}`);
      } finally {
        server.close();
      }
    }
  });

  test('bad options are refused with a sentence and exit code 2, and load goes to this machine only unless the target is allowed', async () => {
    const cases: [string[], RegExp][] = [
      [['--target', '192.0.2.1:25', '--rcpt', 'u1@load.test'], /192\.0\.2\.1 is not on this machine: .* --allow-target 192\.0\.2\.1/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'u1@load.test', '--sizes', '4q'], /--sizes takes sizes such as/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'u1@load.test', '--sizes', '10'], /from 64 bytes to 50m/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'u{9..1}@load.test'], /a range must go up/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'not an address'], /not an address/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'u1@load.test', '--count', '0'], /--count takes a whole number from 1/],
      [['--target', `127.0.0.1:${t.port}`, '--rcpt', 'u1@load.test', '--concurrency', '1e3'], /--concurrency takes a whole number/],
      [['--target', 'nowhere', '--rcpt', 'u1@load.test'], /--target takes HOST:PORT/],
      [['--rcpt', 'u1@load.test'], /--target takes HOST:PORT, got nothing/],
    ];
    for (const [args, message] of cases) {
      const r = await hikyaku(dir, ['load', 'smtp', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    const unknown = await hikyaku(dir, ['load', 'imap']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /load smtp --target[^]*load pop3 --target/);
  });
});
