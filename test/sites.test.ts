import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { python, removeDir, run, startTestService, tempDir, testPasswordHash, type TestService } from './helpers/service.js';
import { PortalClient } from './helpers/portal.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

const QUOTA = 200_000;

/** Writes a ZIP with Python's zipfile: [name, content, unix mode?] per entry. */
async function zip(path: string, entries: [string, string, number?][], compression = 'ZIP_DEFLATED'): Promise<void> {
  await python(
    `import json, sys, zipfile
entries = json.loads(sys.argv[2])
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.${compression}) as z:
    for name, data, mode in entries:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.${compression}
        if mode: info.external_attr = mode << 16
        z.writestr(info, bytes(int(data[7:])) if data.startswith('@zeros:') else data)
print('null')`,
    [path, JSON.stringify(entries.map(([n, d, m]) => [n, d, m ?? 0]))],
  );
}

/** Runs OpenSSH's sftp with `commands` on stdin, the password given by SSH_ASKPASS (no terminal needed). */
async function sftp(port: number, user: string, password: string, commands: string, dir: string): Promise<{ code: number; out: string }> {
  const askpass = join(dir, `askpass-${Date.now()}.sh`);
  writeFileSync(askpass, `#!/bin/sh\necho '${password}'\n`);
  chmodSync(askpass, 0o700);
  const child = spawn('sftp', ['-P', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=10', `${user}@127.0.0.1`], {
    env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(commands);
  const timer = setTimeout(() => child.kill(), 30_000);
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
  clearTimeout(timer);
  return { code, out };
}

/** Websites uploaded by tenant administrators: files and ZIPs through the member site's API, and SFTP; then served by the web role. */
describe('websites: uploads through the API and SFTP, within a quota, served at once', () => {
  let dir: string;
  let t: TestService;
  let admin: PortalClient;
  const site = () => join(dir, 'sites', 'shop.test');
  const get = async (path: string) => {
    const r = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '-H', 'Host: shop.test', `http://127.0.0.1:${t.webPort}${path}`]);
    const i = r.stdout.lastIndexOf('\n');
    return { body: r.stdout.slice(0, i), status: Number(r.stdout.slice(i + 1)) };
  };

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'web.siteQuotaBytes': QUOTA });
    await t.directoryStore.addTenant('shops', 'Shops');
    await t.directoryStore.addDomain('shop.test', undefined, 'shops');
    await t.directoryStore.addDomain('other.test');
    await t.directoryStore.addAccount({ address: 'admin@shop.test', passwordHash: await testPasswordHash(), quotaBytes: 0, role: 'tenant-admin' });
    await t.service.directory.refresh();
    admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    assert.equal((await admin.login('admin@shop.test')).status, 200);
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('one file at a time: uploaded as sent (any type), listed with the space used, served, replaced, deleted', async () => {
    const put = (path: string, body: string | Buffer, type = 'text/html') => admin.call('PUT', `/api/v1/domains/shop.test/site/files/${path}`, Buffer.from(body), { 'content-type': type });
    assert.equal((await put('index.html', '<h1>Shop</h1>')).status, 201);
    assert.equal((await put('data/prices.json', '{"not": "parsed"', 'application/json')).status, 201, 'JSON is a file like any other');
    assert.equal((await put('index.html', '<h1>Shop, new</h1>')).status, 200, 'replaced');
    assert.equal((await get('/')).body, '<h1>Shop, new</h1>');
    assert.equal((await get('/data/prices.json')).body, '{"not": "parsed"');
    const listed = await admin.call('GET', '/api/v1/domains/shop.test/site');
    assert.deepEqual(listed.body.files.map((f: { path: string; size: number }) => [f.path, f.size]), [['data/prices.json', 16], ['index.html', 18]]);
    assert.equal(listed.body.usedBytes, 34);
    assert.equal(listed.body.quotaBytes, QUOTA);
    assert.deepEqual(listed.body.sftp, { user: 'shop.test', port: t.config['web.sftpPort'], enabled: false });
    assert.equal((await admin.call('DELETE', '/api/v1/domains/shop.test/site/files/data')).status, 204, 'a folder with its files');
    assert.equal((await get('/data/prices.json')).status, 404);
    assert.equal((await admin.call('DELETE', '/api/v1/domains/shop.test/site/files/nothing.html')).status, 404);
  });

  test('hostile uploads: over the quota, paths out of the site, a file where a folder is, another tenant\'s site; nothing half-written stays', async () => {
    const put = (path: string, body: Buffer) => admin.call('PUT', `/api/v1/domains/shop.test/site/files/${path}`, body, { 'content-type': 'application/octet-stream' });
    const big = await put('big.bin', Buffer.alloc(QUOTA + 1, 1));
    assert.equal(big.status, 507, big.text);
    assert.match(big.type, /problem\+json/);
    assert.equal(big.body.code, 'ERR_SITE_QUOTA');
    assert.ok(!existsSync(join(site(), 'big.bin')));
    assert.deepEqual(readdirSync(join(dir, 'sites', '.tmp')), [], 'the partial upload is gone');
    for (const path of ['..%2F..%2Fescape.html', '%2E%2E/escape.html', 'a%00b', 'a%5Cb', 'x'.repeat(300)]) {
      const r = await put(path, Buffer.from('x'));
      // fetch itself resolves %2E%2E/ before sending: then no route matches.
      assert.ok(r.status === 400 || (path.startsWith('%2E') && r.status === 404), `${path}: ${r.status} ${r.text}`);
      if (r.status === 400) assert.equal(r.body.code, 'ERR_SITE_PATH');
    }
    assert.ok(!existsSync(join(dir, 'escape.html')) && !existsSync(join(dir, 'sites', 'escape.html')));
    assert.equal((await put('index.html/inner.html', Buffer.from('x'))).status, 400, 'index.html is a file, not a folder');
    assert.equal((await admin.call('PUT', '/api/v1/domains/other.test/site/files/index.html', Buffer.from('owned'), { 'content-type': 'text/html' })).status, 404, 'not this tenant\'s domain');
    assert.ok(!existsSync(join(dir, 'sites', 'other.test', 'index.html')));
  });

  test('a ZIP replaces the whole site at once (one top folder unpacked from inside); a hostile ZIP is refused whole and the site stays', async () => {
    const good = join(dir, 'good.zip');
    await zip(good, [['mysite/', ''], ['mysite/index.html', '<h1>From the ZIP</h1>'], ['mysite/css/site.css', 'body{}'], ['__MACOSX/._index.html', 'junk']]);
    const r = await admin.call('PUT', '/api/v1/domains/shop.test/site', readFileSync(good), { 'content-type': 'application/zip' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { files: 2, bytes: 27 });
    assert.equal((await get('/')).body, '<h1>From the ZIP</h1>');
    assert.equal((await get('/css/site.css')).body, 'body{}');
    assert.ok(!existsSync(join(site(), '__MACOSX')));
    const hostile: [string, [string, string, number?][], string?][] = [
      ['slip', [['index.html', 'x'], ['../../escape.html', 'owned']]],
      ['absolute', [['/etc/escape.html', 'owned']]],
      ['link', [['index.html', 'x'], ['passwd', '/etc/passwd', 0o120777]]],
      ['backslash', [['..\\..\\escape.html', 'owned']]],
      ['bomb', [['index.html', 'x'], ['zeros.bin', `@zeros:${QUOTA * 5}`]]],
      ['clash', [['a', 'file'], ['a/b.html', 'folder']]],
      ['empty', [['folder/', '']]],
    ];
    for (const [name, entries] of hostile) {
      const file = join(dir, `${name}.zip`);
      await zip(file, entries);
      const refused = await admin.call('PUT', '/api/v1/domains/shop.test/site', readFileSync(file), { 'content-type': 'application/zip' });
      assert.ok(refused.status === 400 || refused.status === 507, `${name}: ${refused.status} ${refused.text}`);
      assert.match(refused.body.code, /^ERR_SITE_(ARCHIVE|QUOTA)$/, name);
      assert.equal((await get('/')).body, '<h1>From the ZIP</h1>', `${name}: the site is as it was`);
    }
    assert.ok(!existsSync(join(dir, 'escape.html')) && !existsSync(join(dir, 'sites', 'escape.html')));
    const notZip = await admin.call('PUT', '/api/v1/domains/shop.test/site', Buffer.from('PK but not really'), { 'content-type': 'application/zip' });
    assert.equal(notZip.status, 400);
    assert.match(notZip.body.detail, /not a ZIP file/);
    assert.equal((await admin.call('PUT', '/api/v1/domains/shop.test/site', Buffer.from('x'), { 'content-type': 'text/plain' })).status, 415);
    assert.deepEqual(readdirSync(join(dir, 'sites', '.tmp')), [], 'no unpacked leftovers');
  });

  test('SFTP with OpenSSH\'s sftp: the domain\'s login once its administrator sets a password; confined to the site; uploads served; the quota holds', async () => {
    const password = 'site-upload-password-1';
    assert.match((await sftp(t.sftpPort, 'shop.test', password, 'ls\n', dir)).out, /Permission denied/, 'no login before a password is set');
    const weak = await admin.call('PUT', '/api/v1/domains/shop.test/site/sftp-password', { password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal((await admin.call('PUT', '/api/v1/domains/shop.test/site/sftp-password', { password })).status, 204);
    assert.equal((await admin.call('GET', '/api/v1/domains/shop.test/site')).body.sftp.enabled, true);
    assert.match((await sftp(t.sftpPort, 'shop.test', 'wrong-password-here', 'ls\n', dir)).out, /Permission denied/);
    assert.match((await sftp(t.sftpPort, 'other.test', password, 'ls\n', dir)).out, /Permission denied/, 'another domain\'s login');

    const local = join(dir, 'upload');
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, 'page.html'), '<p>over SFTP</p>');
    writeFileSync(join(local, 'big.bin'), Buffer.alloc(QUOTA, 2));
    const session = await sftp(
      t.sftpPort,
      'shop.test',
      password,
      [`cd /`, `mkdir news`, `put ${join(local, 'page.html')} news/page.html`, `put ${join(local, 'page.html')} ../../../escape.html`, `cd ../../..`, `pwd`, `ls -l news`, `rename news/page.html news/today.html`, `get news/today.html ${join(local, 'back.html')}`, `put ${join(local, 'big.bin')} big.bin`, `ln -s /etc/passwd passwd`, `ls`, 'bye', ''].join('\n'),
      dir,
    );
    assert.equal(session.code, 0, `the session ends cleanly at bye: ${session.out}`);
    assert.match(session.out, /Remote working directory: \/\n/, 'cd .. stops at the site\'s root');
    assert.match(session.out, /-rw-r--r-- .* 16 .* page\.html/);
    assert.match(session.out, /Uploading .*big\.bin[^]*close remote: Failure/, 'the upload past the quota is refused');
    assert.match(session.out, /remote symlink .*: Operation unsupported/);
    assert.equal((await get('/news/today.html')).body, '<p>over SFTP</p>', 'served at once');
    assert.equal(readFileSync(join(local, 'back.html'), 'utf8'), '<p>over SFTP</p>');
    assert.ok(existsSync(join(site(), 'escape.html')), '../ at the root stays in the site');
    assert.ok(!existsSync(join(dir, 'escape.html')) && !existsSync(join(dir, 'sites', 'escape.html')));
    assert.ok(!existsSync(join(site(), 'big.bin')), 'nothing of the refused upload');
    assert.ok(!existsSync(join(site(), 'passwd')), 'no links');
    assert.equal((await admin.call('DELETE', '/api/v1/domains/shop.test/site/sftp-password')).status, 204);
    assert.match((await sftp(t.sftpPort, 'shop.test', password, 'ls\n', dir)).out, /Permission denied/, 'off again');
  });

  test('in the browser: files and a ZIP uploaded, the space used shown, a file removed, the SFTP password set', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ locale: 'en-US' });
      const errors = watchErrors(page);
      await page.goto(`http://127.0.0.1:${t.portalPort}/domains`);
      await page.getByLabel('Mail address').fill('admin@shop.test');
      await page.getByLabel('Password', { exact: true }).fill('test-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      const region = page.getByRole('region', { name: 'shop.test' });
      const zipFile = join(dir, 'browser.zip');
      await zip(zipFile, [['index.html', '<h1>Uploaded in the browser</h1>'], ['about/index.html', '<p>About</p>']]);
      page.once('dialog', (d) => void d.accept());
      await region.getByLabel('Replace the whole site with a ZIP').setInputFiles(zipFile);
      await page.getByRole('status').filter({ hasText: 'The website was replaced.' }).waitFor();
      assert.equal((await get('/')).body, '<h1>Uploaded in the browser</h1>');
      await region.getByLabel('Into folder (empty: the top)').fill('img');
      await region.getByLabel('Upload files').setInputFiles([{ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') }, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') }]);
      await page.getByRole('status').filter({ hasText: '2 file(s) uploaded.' }).waitFor();
      const files = region.getByRole('table', { name: 'Website files' });
      await files.getByRole('cell', { name: 'img/logo.svg', exact: true }).waitFor();
      assert.equal((await get('/img/notes.txt')).body, 'notes');
      await files.getByRole('button', { name: 'Remove img/notes.txt' }).click();
      await page.getByRole('status').filter({ hasText: 'img/notes.txt was deleted.' }).waitFor();
      assert.equal((await get('/img/notes.txt')).status, 404);
      await region.getByText(/3 file\(s\), 0\.1 KiB of 195\.3 KiB used\./).waitFor();
      await region.getByLabel('SFTP password', { exact: true }).fill('browser-sftp-password-1');
      await region.getByRole('button', { name: 'Set SFTP password' }).click();
      await region.getByText('SFTP is on.').waitFor();
      await screenshot(page, 'website');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
