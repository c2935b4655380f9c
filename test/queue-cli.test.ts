import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDirectoryStore, openSpool } from '../src/wiring.js';
import { hikyaku, removeDir, tempDir, testConfig } from './helpers/service.js';

const MINUTE = 60_000;

/**
 * `hikyaku queue shape` and `queue why` on a spool with a known backlog: entries of three
 * recipient domains, from two senders, of known ages, some deferred with known errors.
 */
describe('queue shape and queue why', () => {
  let dir: string;

  before(async () => {
    dir = tempDir();
    const spool = openSpool(testConfig(dir));
    const accept = async (from: string, to: string[]) => {
      const w = await spool.begin();
      await w.write(Buffer.from('Subject: x\r\n\r\nx\r\n'));
      await w.commit({ mailFrom: from, recipients: to, smtputf8: false, remote: to });
    };
    await accept('news@sender.test', ['a@slow.test', 'b@slow.test', 'c@slow.test']);
    await accept('news@sender.test', ['d@Slow.test', 'e@fine.test']);
    await accept('', ['postmaster@bounce.test']);
    const leased = await spool.lease('w', 10, 60_000);
    for (const e of leased) {
      if (e.rcpt.endsWith('@fine.test')) await spool.defer(e, '421 4.7.0 fine.test: try again later', Date.now() + 3_600_000);
      else if (e.rcpt.toLowerCase().endsWith('@slow.test')) await spool.defer(e, 'connection to mx.slow.test timed out', Date.now() + 3_600_000);
      else await spool.defer(e, '', Date.now() + 3_600_000);
    }
    await spool.close();
    // Ages: the slow.test entries 3, 7, 30 and 2000 minutes old; fine.test 15, the bounce 16.
    const db = new Database(join(dir, 'spool/spool.db'));
    const age = db.prepare('UPDATE entries SET created_at = ? WHERE rcpt = ?');
    const now = Date.now();
    for (const [rcpt, minutes] of [['a@slow.test', 3], ['b@slow.test', 7], ['c@slow.test', 30], ['d@Slow.test', 2000], ['e@fine.test', 15], ['postmaster@bounce.test', 16]] as const) age.run(now - minutes * MINUTE, rcpt);
    db.close();
    const directory = openDirectoryStore(testConfig(dir));
    await directory.addTenant('acme', 'Acme');
    await directory.addDomain('sender.test', undefined, 'acme');
    await directory.close();
  });

  after(() => removeDir(dir));

  test('queue shape: recipient domains by age bucket, busiest first, with a total line', async () => {
    const r = await hikyaku(dir, ['queue', 'shape']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['RECIPIENT', 'DOMAIN', 'T', '5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    assert.deepEqual(lines[1]!.split(/\s+/), ['TOTAL', '6', '1', '1', '2', '1', '0', '0', '0', '0', '0', '1']);
    assert.deepEqual(lines[2]!.split(/\s+/), ['slow.test', '4', '1', '1', '0', '1', '0', '0', '0', '0', '0', '1']);
    assert.deepEqual(lines.slice(3, 5).map((l) => l.split(/\s+/)[0]), ['bounce.test', 'fine.test']);
  });

  test('queue shape --by sender --state deferred --json: sender domains, the null sender as <>', async () => {
    const r = await hikyaku(dir, ['queue', 'shape', '--by', 'sender', '--state', 'deferred', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { domain: string; total: number; '5': number; '1280+': number }[];
    assert.deepEqual(rows.map((x) => [x.domain, x.total, x['5'], x['1280+']]), [
      ['sender.test', 5, 1, 1],
      ['<>', 1, 0, 0],
    ]);
    assert.equal((await hikyaku(dir, ['queue', 'shape', '--state', 'queued', '--json'])).stdout.trim(), '[]');
    const top = await hikyaku(dir, ['queue', 'shape', '--limit', '1']);
    assert.match(top.stdout, /\(2 more domains; --limit N shows more\)/);
  });

  test('queue shape --by tenant: relayed mail counts for the sender\'s customer; mail of no hosted domain apart', async () => {
    const r = await hikyaku(dir, ['queue', 'shape', '--by', 'tenant', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { domain: string; total: number; '5': number; '1280+': number }[];
    assert.deepEqual(rows.map((x) => [x.domain, x.total, x['5'], x['1280+']]), [
      ['acme', 5, 1, 1],
      ['(not hosted)', 1, 0, 0],
    ]);
    assert.match((await hikyaku(dir, ['queue', 'shape', '--by', 'tenant'])).stdout, /^TENANT\s+T\s+5\s/);
  });

  test('queue why: deferred entries grouped by last error, most common first', async () => {
    const r = await hikyaku(dir, ['queue', 'why', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { count: number; error: string }[];
    assert.deepEqual(rows.map((x) => [x.count, x.error]), [
      [4, 'connection to mx.slow.test timed out'],
      [1, '(no error recorded)'],
      [1, '421 4.7.0 fine.test: try again later'],
    ]);
    const text = await hikyaku(dir, ['queue', 'why', '--limit', '1']);
    assert.match(text.stdout, /^ENTRIES\s+OLDEST ARRIVAL\s+LAST ERROR\n4\s+\d{4}-\d\d-\d\dT\S+Z\s+connection to mx\.slow\.test timed out\n$/);
  });

  test('bad options are refused with a sentence and exit code 2', async () => {
    for (const [args, said] of [
      [['queue', 'shape', '--by', 'planet'], /--by must be recipient, sender or tenant, got "planet"/],
      [['queue', 'shape', '--state', 'bounced'], /--state must be queued, active, deferred or held, got "bounced"/],
      [['queue', 'why', '--limit=-3'], /--limit must be a whole number above 0, got "-3"/],
      [['queue', 'shape', '--limit', '1e9'], /--limit must be a whole number above 0/],
    ] as const) {
      const r = await hikyaku(dir, [...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, said);
    }
  });
});
