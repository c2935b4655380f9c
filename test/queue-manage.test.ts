import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDirectoryStore, openMailStore, openSpool } from '../src/wiring.js';
import type { QueueListing } from '../src/queue/index.js';
import { SMTPLIB_SEND } from './helpers/py.js';
import { freePort, hikyaku, mailboxMessages, python, queueDrained, removeDir, seededDataDir, spawnServer, testConfig, waitFor } from './helpers/service.js';

/**
 * Queue management on the running service: mail for a remote domain that cannot be
 * reached (no DNS answers) waits deferred; the operator holds, releases, retries and
 * deletes it with the CLI, as a user of hikyaku would, and the service acts on it at once.
 */
describe('queue hold, release, retry and delete on the running service', () => {
  let dir: string;
  let ids: Map<string, number>;
  let port: number;
  let server: ChildProcess | undefined;

  const entries = async (): Promise<QueueListing[]> => {
    const spool = openSpool(testConfig(dir));
    try {
      return await spool.list(100);
    } finally {
      await spool.close();
    }
  };
  const send = async (subject: string) => {
    const msg = `From: alice@manage.test\r\nTo: bob@manage.test\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`;
    assert.equal((await python<{ code: number }>(SMTPLIB_SEND, [port, 0, 'alice@manage.test', 'bob@manage.test', msg])).code, 250);
  };
  const remoteStates = async () => (await entries()).filter((e) => e.rcpt.endsWith('@elsewhere.test')).map((e) => e.state);

  before(async () => {
    ({ dir, ids } = await seededDataDir('manage.test', ['alice', 'bob']));
    const store = openDirectoryStore(testConfig(dir));
    await store.setForward('bob@manage.test', ['bob@elsewhere.test'], false);
    await store.close();
    // The host name in the data dir's configuration, so the service and the CLI (which writes DSNs) agree.
    writeFileSync(join(dir, 'hikyaku.json'), JSON.stringify({ hostname: 'mx.manage.test' }));
    port = await freePort();
    // Nothing answers DNS at 127.0.0.1:9: relaying is a temporary failure, retried in 5 minutes.
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_RELAY_DNS_SERVERS: '127.0.0.1:9' });
  });

  after(() => {
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('hold puts deferred mail aside, release and retry bring it back, and every command is in the audit log', async () => {
    for (const s of ['one', 'two', 'three']) await send(s);
    assert.ok(await waitFor(async () => (await remoteStates()).join() === 'deferred,deferred,deferred', 30_000, 200), 'three relay entries deferred');

    const oldest = (await entries())[0]!;
    const shown = await hikyaku(dir, ['queue', 'show', String(oldest.id)]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^message \S+, \d+ bytes, received \d{4}-\d\d-\d\dT\S+Z\nsender  alice@manage\.test\nFrom: +alice@manage\.test\nTo: +bob@manage\.test\nSubject: +one\n/);
    assert.match(shown.stdout, new RegExp(`\\n${oldest.id} +bob@elsewhere\\.test +remote +deferred +1 `));
    assert.match(shown.stdout, /FAILED ATTEMPT AT +ENTRY +ERROR\n\S+ +\d+ +DNS lookup of the MX of elsewhere\.test failed/);
    const asJson = JSON.parse((await hikyaku(dir, ['queue', 'show', String(oldest.id), '--json'])).stdout) as { headers: Record<string, string>; attempts: { entryId: number }[] };
    assert.equal(asJson.headers.Subject, 'one');
    assert.deepEqual(asJson.attempts.map((a) => a.entryId), [oldest.id]);
    const none = await hikyaku(dir, ['queue', 'show', '99999']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no entry 99999 in the queue/);
    assert.equal((await hikyaku(dir, ['queue', 'show', 'x'])).code, 2);

    const held = await hikyaku(dir, ['queue', 'hold', '--rcpt', '@Elsewhere.test']);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(held.stdout.trim(), 'held 3 entries');
    assert.deepEqual(await remoteStates(), ['held', 'held', 'held']);
    assert.equal((await hikyaku(dir, ['queue', 'retry', '--all'])).stdout.trim(), 'retrying 0 entries', 'retry does not touch held entries');
    const shape = JSON.parse((await hikyaku(dir, ['queue', 'shape', '--state', 'held', '--json'])).stdout) as { domain: string; total: number }[];
    assert.deepEqual(shape.map((r) => [r.domain, r.total]), [['elsewhere.test', 3]]);

    const first = (await entries()).find((e) => e.state === 'held')!;
    const released = await hikyaku(dir, ['queue', 'release', '--id', String(first.id)]);
    assert.equal(released.stdout.trim(), 'released 1 entry');
    // Queued and due now, the service tries it at once: it fails again and is deferred with a new attempt.
    assert.ok(await waitFor(async () => (await entries()).some((e) => e.id === first.id && e.state === 'deferred' && e.attempts === first.attempts + 1), 20_000, 200), 'the released entry was tried again');
    const retried = await hikyaku(dir, ['queue', 'retry', '--id', String(first.id)]);
    assert.equal(retried.stdout.trim(), 'retrying 1 entry');
    assert.ok(await waitFor(async () => (await entries()).some((e) => e.id === first.id && e.state === 'deferred' && e.attempts === first.attempts + 2), 20_000, 200), 'retry now made it due at once');

    const audit = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { command: string; changed: number; user: string; at: string });
    assert.deepEqual(audit.map((a) => [a.command, a.changed]), [['queue hold', 3], ['queue retry', 0], ['queue release', 1], ['queue retry', 1]]);
    assert.ok(audit.every((a) => a.user && !Number.isNaN(Date.parse(a.at))));
  });

  test('delete needs --yes; with --dsn each sender is told, without it the entries just go', async () => {
    const refused = await hikyaku(dir, ['queue', 'delete', '--rcpt', '@elsewhere.test', '--dsn']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /3 entries match; nothing was deleted\. Run again with --yes to delete them, each sender getting a DSN/);
    assert.equal((await remoteStates()).length, 3);

    // The entry retried above may be in delivery at this moment: it is left alone, and deleted by a second run.
    let deleted = 0;
    assert.ok(
      await waitFor(async () => {
        const r = await hikyaku(dir, ['queue', 'delete', '--rcpt', '@elsewhere.test', '--dsn', '--yes']);
        assert.equal(r.code, 0, r.stderr);
        deleted += Number(/^deleted (\d+)/.exec(r.stdout)![1]);
        return deleted === 3;
      }, 20_000, 500),
      'all three deleted',
    );
    assert.deepEqual(await remoteStates(), []);
    // The forward's SRS sender is ours: its DSNs come back to alice's mailbox.
    const mailStore = openMailStore(testConfig(dir));
    try {
      const dsns = async () => (await mailboxMessages(mailStore, ids.get('alice@manage.test')!)).filter((m) => /deleted from the queue by the administrators of mx\.manage\.test/.test(m));
      assert.ok(await waitFor(async () => (await dsns()).length === 3, 20_000, 200), 'alice got three DSNs');
      assert.ok((await dsns()).every((m) => /^Status: 5\.0\.0$/m.test(m) && /bob@elsewhere\.test/i.test(m)));

      await send('four');
      assert.ok(await waitFor(async () => (await remoteStates()).join() === 'deferred', 30_000, 200));
      const silent = await hikyaku(dir, ['queue', 'delete', '--rcpt', 'bob@elsewhere.test', '--yes']);
      assert.equal(silent.stdout.trim(), 'deleted 1 entry');
      assert.ok(await queueDrained(dir, 20_000), 'nothing left in the queue');
      assert.equal((await dsns()).length, 3, 'no DSN for a silent delete');
    } finally {
      await mailStore.close();
    }
    const audit = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { command: string; dsn?: boolean });
    assert.deepEqual(audit.filter((a) => a.command === 'queue delete').at(-1), { ...audit.at(-1), command: 'queue delete', dsn: false });
  });

  test('a filter is required, and bad filters are refused with a sentence and exit code 2', async () => {
    for (const [args, said] of [
      [['queue', 'hold'], /queue hold needs a filter \(--id, --sender, --rcpt, --older, --state\) or --all/],
      [['queue', 'delete', '--id', 'abc', '--yes'], /--id must be an entry number \(see queue list\), got "abc"/],
      [['queue', 'retry', '--state', 'held'], /--state for queue retry must be deferred, got "held"/],
      [['queue', 'hold', '--sender', 'not an address'], /--sender must be an address, @domain or <>, got "not an address"/],
      [['queue', 'release', '--older=-5'], /--older must be a whole number of minutes/],
    ] as const) {
      const r = await hikyaku(dir, [...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, said);
    }
  });
});
