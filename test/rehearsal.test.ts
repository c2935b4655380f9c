import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ROOT, hikyaku, removeDir, run as runCommand, tempDir } from './helpers/service.js';
import { TEST_PG_URL } from './helpers/postgres.js';
import { launchBrowser, screenshot } from './helpers/browser.js';

interface Report {
  verdicts: { promise: string; held: boolean; figure: string }[];
  accepted: number;
  readBack: { messages: number; lost: string[]; duplicated: string[]; unexpected: string[]; unreadable: Record<string, string> };
  totals: Record<'smtp' | 'pop3' | 'portal', { byCode: Record<string, number>; errors: Record<string, number>; max: number }>;
  incidents: { title: string; opened: number; closed: number | null }[];
  samples: { status: { ms: number | null; waiting: number | null }; deliveryProcesses: number }[];
  drainedAfter: number | null;
}

/**
 * The short version of the 2016-10 scenario (test/fixtures/rehearsal-short.json, about a
 * minute and a half), run as an operator runs it: `hikyaku rehearse` against a fresh
 * installation on this machine's PostgreSQL, the fault proxy before the mailbox store. The
 * promises are checked from its report.json figure by figure, not from its own verdicts.
 */
describe('hikyaku rehearse: the night of 2016-10, short', () => {
  const out = tempDir();
  after(() => removeDir(out));
  let report: Report;
  let run: Awaited<ReturnType<typeof runCommand>>;

  test('the rehearsal runs to its end, says every promise held, and removes its schema', async () => {
    run = await runCommand(process.execPath, [join(ROOT, 'bin/hikyaku.js'), 'rehearse', join(ROOT, 'test/fixtures/rehearsal-short.json'), '--database', TEST_PG_URL, '--out', join(out, 'report')], { timeoutMs: 300_000 });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
    report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8')) as Report;
    assert.equal(report.verdicts.filter((v) => !v.held).length, 0, run.stdout);
    const schema = /schema (rehearsal_\w+)/.exec(run.stderr)?.[1];
    assert.ok(schema, run.stderr);
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema])).rows[0].n, 0, 'the installation\'s schema is gone');
    } finally {
      await admin.end();
    }
  });

  test('every message answered 250 is in its mailbox exactly once, and SMTP never answered anything but 250', () => {
    assert.ok(report.accepted > 1000, `enough mail: ${report.accepted}`);
    assert.deepEqual([report.readBack.lost, report.readBack.duplicated, report.readBack.unexpected, report.readBack.unreadable], [[], [], [], {}]);
    assert.ok(report.readBack.messages >= report.accepted);
    assert.deepEqual(Object.keys(report.totals.smtp.byCode), ['250']);
    assert.deepEqual(report.totals.smtp.errors, {});
  });

  test('every POP3 answer and member-site request came within 2 s, a success or a temporary error', () => {
    assert.ok(report.totals.pop3.max < 2000 && report.totals.portal.max < 2000, `POP3 max ${report.totals.pop3.max} ms, member site max ${report.totals.portal.max} ms`);
    for (const code of Object.keys(report.totals.pop3.byCode)) assert.match(code, /^(\+OK|-ERR \[SYS\/TEMP\]|-ERR \[IN-USE\])$/);
    for (const code of Object.keys(report.totals.portal.byCode)) assert.match(code, /^(2\d\d|503)$/);
    assert.ok((report.totals.pop3.byCode['+OK'] ?? 0) > 100 && (report.totals.portal.byCode['200'] ?? 0) > 10);
    assert.deepEqual([report.totals.pop3.errors, report.totals.portal.errors], [{}, {}]);
  });

  test('the status page showed the backlog every second, an incident opened by itself and closed, the backlog drained faster with three delivery processes', () => {
    assert.ok(report.samples.every((s) => s.status.ms !== null && s.status.ms < 2000 && s.status.waiting !== null));
    assert.ok(Math.max(...report.samples.map((s) => s.status.waiting ?? 0)) > 100, 'a backlog built up while the storage was sick');
    assert.ok(report.incidents.length >= 1 && report.incidents.every((i) => i.closed !== null), JSON.stringify(report.incidents));
    assert.ok(report.drainedAfter !== null);
    const drain = report.verdicts.find((v) => v.promise === 'Added delivery processes drain faster')!;
    const [one, three] = [/1 process: (\d+) msg\/s/.exec(drain.figure), /3 processes: (\d+) msg\/s/.exec(drain.figure)];
    assert.ok(one && three && Number(three[1]) > Number(one[1]), drain.figure);
  });

  test('the report shows the verdicts and eight plots in a browser, each plot also as a PNG', async () => {
    for (const f of ['smtp', 'pop3-time', 'pop3-answers', 'portal-time', 'backlog', 'oldest', 'drain', 'storage']) {
      assert.deepEqual([...readFileSync(join(out, 'report', `${f}.png`)).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f}.png is a PNG`);
    }
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'report', 'report.html')).href);
      assert.equal(await page.locator('.verdict').textContent(), 'Every promise held.');
      assert.equal(await page.locator('tr.held').count(), report.verdicts.length);
      assert.equal(await page.locator('figure svg').count(), 8);
      const box = await page.locator('figure svg').first().boundingBox();
      assert.ok(box && box.width > 600 && box.height > 150, 'the plots are drawn at a readable size');
      await screenshot(page, 'rehearsal-report');
    } finally {
      await browser.close();
    }
  });
});

describe('hikyaku rehearse: what it refuses', () => {
  const dir = tempDir();
  after(() => removeDir(dir));

  test('an unknown scenario, a broken file, a database elsewhere or without a URL: exit 2 with a sentence; --print gives a scenario to start from', async () => {
    const unknown = await hikyaku(dir, ['rehearse', 'no-such-night', '--database', TEST_PG_URL]);
    assert.deepEqual([unknown.code, /no scenario "no-such-night"/.test(unknown.stderr)], [2, true], unknown.stderr);
    const broken = join(dir, 'broken.json');
    await import('node:fs').then((fs) => fs.writeFileSync(broken, '{"name": "x", "accounts": 1, "rate": 1, "phases": [{"name": "a", "seconds": 1, "inbound": -1}]}'));
    const bad = await hikyaku(dir, ['rehearse', broken, '--database', TEST_PG_URL]);
    assert.deepEqual([bad.code, /phases\[0\]\.inbound must be a number from 0 to 100/.test(bad.stderr)], [2, true], bad.stderr);
    const remote = await hikyaku(dir, ['rehearse', '2016-10', '--database', 'postgres://db.example.net/prod']);
    assert.deepEqual([remote.code, /on this machine only/.test(remote.stderr)], [2, true], remote.stderr);
    const none = await hikyaku(dir, ['rehearse', '2016-10']);
    assert.deepEqual([none.code, /--database postgres:\/\/HOST:PORT\/DATABASE/.test(none.stderr)], [2, true], none.stderr);
    const rate = await hikyaku(dir, ['rehearse', '2016-10', '--database', TEST_PG_URL, '--rate', '1e9']);
    assert.deepEqual([rate.code, /--rate takes messages per second/.test(rate.stderr)], [2, true], rate.stderr);
    const printed = await hikyaku(dir, ['rehearse', '2016-10', '--print']);
    assert.equal(printed.code, 0);
    assert.equal(JSON.parse(printed.stdout).name, '2016-10');
    assert.ok(!existsSync(join(dir, 'report.json')));
  });
});
