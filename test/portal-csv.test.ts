import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { POPLIB_SESSION } from './helpers/py.js';
import { python, removeDir, startTestService, tempDir, type TestService } from './helpers/service.js';
import { PortalClient, seedTenants } from './helpers/portal.js';

describe('accounts as CSV in the portal', () => {
  let dir: string;
  let t: TestService;
  let admin: PortalClient;
  const importCsv = (body: string | Buffer, query = '') => admin.call('POST', `/api/v1/accounts/import${query}`, Buffer.isBuffer(body) ? body : Buffer.from(body), { 'content-type': 'text/csv' });
  const count = async () => (await t.directoryStore.listAccounts('a.test')).length;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    await seedTenants(t.directoryStore);
    await t.directoryStore.setAlias('info@a.test', ['admin@a.test']);
    await t.directoryStore.updateAccount('user1@a.test', { name: '山田 太郎', department: '=HYPERLINK("http://evil.test")' });
    await t.service.directory.refresh();
    admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    await admin.login('admin@a.test');
  });
  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('export: UTF-8 with a byte order mark, or Shift_JIS; only the administrator\'s domains; no passwords; formulas written as text', async () => {
    const res = await fetch(`${admin.base}/api/v1/accounts/export`, { headers: { cookie: admin.cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="accounts-\d{4}-\d\d-\d\d\.csv"$/);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString();
    assert.match(text, /^address,name,department,quota,role,state\r\n/);
    assert.match(text, /^user1@a\.test,山田 太郎,"'=HYPERLINK\(""http:\/\/evil\.test""\)",0,user,active\r$/m);
    assert.doesNotMatch(text, /b\.test|argon2/);
    const sjis = await fetch(`${admin.base}/api/v1/accounts/export?encoding=shift_jis`, { headers: { cookie: admin.cookie } });
    assert.match(sjis.headers.get('content-type') ?? '', /Shift_JIS/);
    assert.equal(iconv.decode(Buffer.from(await sjis.arrayBuffer()), 'cp932'), text);
  });

  test('preview: every row\'s error before anything is written', async () => {
    const before = await count();
    const csv = [
      'メールアドレス,パスワード,氏名,部署,容量,権限',
      'sato@a.test,cherry-blossom-71,佐藤 一郎,営業,2G,',
      'not an address,cherry-blossom-71,x,,,',
      'bob@b.test,cherry-blossom-71,not mine,,,',
      'sato@a.test,cherry-blossom-71,twice,,,',
      'short@a.test,abc,,,,',
      'info@a.test,cherry-blossom-71,,,,',
      'quota@a.test,cherry-blossom-71,,,lots,',
      'role@a.test,cherry-blossom-71,,,,king',
      'nopass@a.test,,,,,',
      'user2@a.test,,鈴木 花子,総務,500,',
    ].join('\r\n');
    const r = await importCsv(csv);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.counts, { add: 1, update: 1, error: 8 });
    const byLine = new Map(r.body.rows.map((row: { line: number; action: string; error?: string }) => [row.line, row.error ?? row.action]));
    assert.equal(byLine.get(2), 'add');
    assert.match(byLine.get(3) as string, /not an e-mail address/);
    assert.match(byLine.get(4) as string, /b\.test is not a domain you manage/);
    assert.match(byLine.get(5) as string, /in the file twice/);
    assert.match(byLine.get(6) as string, /at least 10 characters/);
    assert.match(byLine.get(7) as string, /is an alias/);
    assert.match(byLine.get(8) as string, /not a quota/);
    assert.match(byLine.get(9) as string, /not a role/);
    assert.match(byLine.get(10) as string, /needs a password/);
    assert.equal(byLine.get(11), 'update');
    assert.ok(!r.text.includes('cherry-blossom'), 'no password in the preview');
    assert.equal(await count(), before, 'nothing written');
    const refused = await importCsv(csv, '?commit=true');
    assert.equal(refused.status, 400, 'errors must be fixed or skipped on purpose');
    assert.equal(await count(), before);
  });

  test('import from a Shift_JIS file (detected): progress lines, then the result; the imported password works over POP3', async () => {
    const csv = iconv.encode('address,password,name,department,quota\r\nkato@a.test,plum-tree-gate-5,加藤 三郎,経理,100\r\nuser2@a.test,,鈴木 花子,総務,500\r\nbad,,,,\r\n', 'cp932');
    const preview = await importCsv(csv);
    assert.equal(preview.body.encoding, 'shift_jis');
    assert.equal(preview.body.rows[0].name, '加藤 三郎');
    const r = await importCsv(csv, '?commit=true&skipErrors=true&mustChangePassword=false');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/x-ndjson/);
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { done: 0, total: 2 });
    assert.deepEqual(lines.at(-1), { result: { added: 1, updated: 1, skipped: 1 } });
    const accounts = await t.directoryStore.listAccounts('a.test');
    const kato = accounts.find((a) => a.address === 'kato@a.test')!;
    assert.deepEqual([kato.name, kato.department, kato.quotaBytes, kato.mustChangePassword], ['加藤 三郎', '経理', 100 * 1024 * 1024, false]);
    const suzuki = accounts.find((a) => a.address === 'user2@a.test')!;
    assert.deepEqual([suzuki.name, suzuki.quotaBytes], ['鈴木 花子', 500 * 1024 * 1024]);
    await t.service.directory.refresh();
    const pop = await python<{ login: string }>(POPLIB_SESSION, [t.pop3Port, 'plain', 'kato@a.test', 'plum-tree-gate-5', '[]']);
    assert.match(pop.login, /^\+OK/);
    assert.match((await python<{ login: string }>(POPLIB_SESSION, [t.pop3Port, 'plain', 'user2@a.test', 'test-password', '[]'])).login, /^\+OK/, 'an empty password keeps the old one');
  });

  test('hostile files: no header, binary garbage, broken quoting, too large, wrong type: a 4xx problem each', async () => {
    for (const [body, status] of [
      ['', 400],
      ['just,some,words\r\n', 400],
      ['address,password\r\n"unterminated,x\r\n', 400],
      [Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x81, 0x0a]), 400],
      [Buffer.alloc(6 * 1024 * 1024, 0x61), 413],
    ] as [string | Buffer, number][]) {
      const r = await importCsv(body);
      assert.equal(r.status, status, `${String(body).slice(0, 20)}: ${r.text.slice(0, 200)}`);
      assert.match(r.type, /^application\/problem\+json/);
    }
    assert.equal((await admin.call('POST', '/api/v1/accounts/import', { address: 'x' })).status, 415);
  });
});
