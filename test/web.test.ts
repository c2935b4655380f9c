import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { X509Certificate } from 'node:crypto';
import { selfSigned } from '../src/servers/index.js';
import { python, removeDir, run, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

/** Reads a Thunderbird autoconfig file with Python's ElementTree, the fields Thunderbird reads. */
const THUNDERBIRD_FIELDS = String.raw`
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
p = root.find('emailProvider')
servers = [{'kind': s.tag, 'type': s.get('type'), **{c.tag: c.text for c in s}} for s in list(p.findall('incomingServer')) + list(p.findall('outgoingServer'))]
print(json.dumps({'version': root.get('version'), 'id': p.get('id'), 'domains': [d.text for d in p.findall('domain')], 'servers': servers}))
`;

describe('web role: client autoconfiguration', () => {
  let dir: string;
  let t: TestService;
  const curl = async (...args: string[]) => {
    const r = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args]);
    const i = r.stdout.lastIndexOf('\n');
    return { body: r.stdout.slice(0, i), status: Number(r.stdout.slice(i + 1)) };
  };

  before(async () => {
    dir = tempDir();
    // The operator's own certificate for shop.test, in web.certsDir before the first request.
    const own = await selfSigned('shop.test', ['shop.test', 'www.shop.test']);
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs', 'shop.test.crt'), own.cert);
    writeFileSync(join(dir, 'certs', 'shop.test.key'), own.private);
    t = await startTestService(dir, { hostname: 'mail.provider.test' });
    await seedDirectory(t.directoryStore, 'example.com', ['alice']);
    await t.directoryStore.addDomain('shop.test');
    mkdirSync(join(dir, 'sites', 'shop.test'), { recursive: true });
    writeFileSync(join(dir, 'sites', 'shop.test', 'index.html'), '<p>The shop</p>');
    await t.service.directory.refresh();
    const site = join(dir, 'sites', 'example.com');
    mkdirSync(join(site, 'docs'), { recursive: true });
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>Example</title><p>Welcome</p>');
    writeFileSync(join(site, '404.html'), '<!doctype html><p>Our own not-found page</p>');
    writeFileSync(join(site, 'docs', 'index.html'), '<p>docs</p>');
    writeFileSync(join(site, 'style.css'), 'body { color: #333; }\n'.repeat(200));
    writeFileSync(join(site, 'data.bin'), Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)));
    writeFileSync(join(dir, 'secret.txt'), 'outside the site');
    symlinkSync(join(dir, 'secret.txt'), join(site, 'link.txt'));
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('Thunderbird: autoconfig.<domain>/mail/config-v1.1.xml names IMAP, POP3 and SMTP over TLS with the address as user name', async () => {
    const base = `http://127.0.0.1:${t.webPort}`;
    for (const args of [['-H', 'Host: autoconfig.example.com', `${base}/mail/config-v1.1.xml`], [`${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.com`]]) {
      const r = await curl(...args);
      assert.equal(r.status, 200, r.body);
      const run2 = await python<{ version: string; id: string; domains: string[]; servers: Record<string, string>[] }>(`import io,sys\nsys.stdin = io.StringIO(${JSON.stringify(r.body)})\n${THUNDERBIRD_FIELDS}`);
      assert.equal(run2.version, '1.1');
      assert.equal(run2.id, 'example.com');
      assert.deepEqual(run2.domains, ['example.com']);
      assert.deepEqual(
        run2.servers.map((s) => [s.kind, s.type, s.hostname, Number(s.port), s.socketType, s.username, s.authentication]),
        [
          ['incomingServer', 'imap', 'mail.provider.test', t.config['imap.tlsPort'], 'SSL', '%EMAILADDRESS%', 'password-cleartext'],
          ['incomingServer', 'pop3', 'mail.provider.test', t.config['pop3.tlsPort'], 'SSL', '%EMAILADDRESS%', 'password-cleartext'],
          ['outgoingServer', 'smtp', 'mail.provider.test', t.config['submission.tlsPort'], 'SSL', '%EMAILADDRESS%', 'password-cleartext'],
        ],
      );
    }
    assert.equal((await curl('-H', 'Host: autoconfig.unknown.test', `${base}/mail/config-v1.1.xml`)).status, 404, 'a domain we do not host');
  });

  test('Outlook: POST /autodiscover/autodiscover.xml answers IMAP and SMTP for a hosted address', async () => {
    const request = '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>Alice@Example.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>';
    const r = await curl('-X', 'POST', '-H', 'Content-Type: text/xml', '--data-binary', request, `http://127.0.0.1:${t.webPort}/autodiscover/autodiscover.xml`);
    assert.equal(r.status, 200, r.body);
    const protocols = [...r.body.matchAll(/<Protocol>([\s\S]*?)<\/Protocol>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((x) => [x[1], x[2]])));
    assert.deepEqual(
      protocols.map((p) => [p.Type, p.Server, Number(p.Port), p.LoginName, p.SSL]),
      [
        ['IMAP', 'mail.provider.test', t.config['imap.tlsPort'], 'alice@example.com', 'on'],
        ['SMTP', 'mail.provider.test', t.config['submission.tlsPort'], 'alice@example.com', 'on'],
      ],
    );
    const other = request.replace('Alice@Example.com', 'x@unknown.test');
    assert.equal((await curl('-X', 'POST', '--data-binary', other, `http://127.0.0.1:${t.webPort}/autodiscover/autodiscover.xml`)).status, 404);
  });

  test('websites by Host (and www.): index pages, the site\'s 404, content types, ranges, conditional requests, gzip and brotli for text', async () => {
    const base = `http://127.0.0.1:${t.webPort}`;
    const get = (path: string, ...args: string[]) => curl('-H', 'Host: www.example.com', ...args, `${base}${path}`);
    const home = await get('/');
    assert.equal(home.status, 200);
    assert.match(home.body, /Welcome/);
    assert.equal((await curl('-o', '/dev/null', '-H', 'Host: example.com', `${base}/docs`)).status, 301, 'a folder without its slash is redirected');
    assert.match((await get('/docs/')).body, /docs/);
    const missing = await get('/nope.html');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /Our own not-found page/);
    const headers = (await run('curl', ['-s', '-D', '-', '-o', '/dev/null', '-H', 'Host: example.com', `${base}/style.css`])).stdout;
    assert.match(headers, /content-type: text\/css; charset=utf-8/i);
    const etag = /etag: (\S+)/i.exec(headers)![1]!;
    const lastModified = /last-modified: ([^\r\n]+)/i.exec(headers)![1]!;
    assert.equal((await get('/style.css', '-H', `If-None-Match: ${etag}`)).status, 304);
    assert.equal((await get('/style.css', '-H', `If-Modified-Since: ${lastModified}`)).status, 304);
    assert.equal((await get('/style.css', '-H', 'If-None-Match: "other"')).status, 200);
    const range = await run('curl', ['-s', '-D', '-', '-H', 'Host: example.com', '-H', 'Range: bytes=10-19', `${base}/data.bin`]);
    assert.match(range.stdout, /^HTTP\/1\.1 206/);
    assert.match(range.stdout, /content-range: bytes 10-19\/1000/i);
    const out = join(dir, 'download');
    await run('curl', ['-s', '-o', out, '-H', 'Host: example.com', '-H', 'Range: bytes=-5', `${base}/data.bin`]);
    assert.deepEqual([...readFileSync(out)], [995, 996, 997, 998, 999].map((n) => n % 256));
    assert.equal((await get('/data.bin', '-H', 'Range: bytes=5000-')).status, 416);
    const gz = await run('curl', ['-s', '-D', '-', '-o', out, '-H', 'Host: example.com', '-H', 'Accept-Encoding: gzip', `${base}/style.css`]);
    assert.match(gz.stdout, /content-encoding: gzip/i);
    assert.equal(gunzipSync(readFileSync(out)).toString(), 'body { color: #333; }\n'.repeat(200));
    const br = await curl('--compressed', '-H', 'Host: example.com', '-H', 'Accept-Encoding: br', `${base}/style.css`);
    assert.equal(br.body, 'body { color: #333; }\n'.repeat(200), 'brotli, decoded by curl');
    assert.equal((await curl('-H', 'Host: other.test', `${base}/`)).status, 404, 'a host we do not serve');
  });

  test('hostile requests: wrong methods, an oversized body, path traversal, garbage', async () => {
    const base = `http://127.0.0.1:${t.webPort}`;
    assert.equal((await curl(`${base}/autodiscover/autodiscover.xml`)).status, 405);
    assert.equal((await curl('-X', 'DELETE', '-H', 'Host: autoconfig.example.com', `${base}/mail/config-v1.1.xml`)).status, 405);
    assert.equal((await curl('-X', 'POST', '--data-binary', 'x'.repeat(100_000), `${base}/autodiscover/autodiscover.xml`)).status, 413);
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/secret.txt', '/docs/..%2f..%2fsecret.txt', '/link.txt', '/%00', '/%zz']) {
      const r = await curl('--path-as-is', '-H', 'Host: example.com', `${base}${path}`);
      assert.ok([400, 404].includes(r.status), `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /outside the site|root:/, path);
    }
    assert.equal((await curl('-X', 'PUT', '-H', 'Host: example.com', `${base}/index.html`)).status, 405);
    assert.equal((await curl('-X', 'POST', '--data-binary', '<EMailAddress><<<', `${base}/autodiscover/autodiscover.xml`)).status, 404);
    assert.equal((await curl('-H', 'Host: autoconfig.example.com', `${base}/mail/config-v1.1.xml`)).status, 200, 'still serving');
  });

  test('HTTPS: each domain\'s certificate by SNI (self-signed by default, covering www., mta-sts., autoconfig.; the operator\'s files where given), verified by curl against it', async () => {
    const https = (name: string, path: string, ...args: string[]) => curl('--resolve', `${name}:${t.websPort}:127.0.0.1`, ...args, `https://${name}:${t.websPort}${path}`);
    const first = await https('example.com', '/', '-k');
    assert.equal(first.status, 200);
    assert.match(first.body, /Welcome/);
    const made = readFileSync(join(dir, 'certs', 'self-signed', 'example.com.crt'));
    const cert = new X509Certificate(made);
    assert.deepEqual(cert.subjectAltName?.split(', ').sort(), ['DNS:autoconfig.example.com', 'DNS:autodiscover.example.com', 'DNS:example.com', 'DNS:mta-sts.example.com', 'DNS:www.example.com']);
    const ca = join(dir, 'example.pem');
    writeFileSync(ca, made);
    for (const name of ['example.com', 'www.example.com']) {
      const r = await https(name, '/', '--cacert', ca);
      assert.equal(r.status, 200, `${name} verifies against its own certificate`);
    }
    const config = await https('autoconfig.example.com', '/mail/config-v1.1.xml', '--cacert', ca);
    assert.equal(config.status, 200);
    assert.match(config.body, /<clientConfig/);
    const shopCa = join(dir, 'certs', 'shop.test.crt');
    const shop = await https('www.shop.test', '/', '--cacert', shopCa);
    assert.equal(shop.status, 200, 'the operator\'s certificate for shop.test');
    assert.match(shop.body, /The shop/);
    assert.notEqual((await https('shop.test', '/', '--cacert', ca)).status, 200, 'and not example.com\'s');
    const plain = await curl(`http://127.0.0.1:${t.webPort}/`, '-H', 'Host: shop.test');
    assert.equal(plain.status, 200, 'plain HTTP serves the same site');
  });

  test('MTA-STS: the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt naming our MX; nothing else on that host', async () => {
    const https = (path: string) => curl('-k', '--resolve', `mta-sts.example.com:${t.websPort}:127.0.0.1`, `https://mta-sts.example.com:${t.websPort}${path}`);
    const policy = await https('/.well-known/mta-sts.txt');
    assert.equal(policy.status, 200);
    assert.equal(policy.body, 'version: STSv1\r\nmode: testing\r\nmx: mail.provider.test\r\nmax_age: 604800\r\n');
    assert.equal((await https('/')).status, 404);
    assert.equal((await https('/index.html')).status, 404, 'not the website');
  });
});

describe('web role: worker processes on the same socket', () => {
  test('with web.processes 2 a worker answers beside the service, learns a new domain within seconds, and its end leaves the service answering', async () => {
    const dir = tempDir();
    const t = await startTestService(dir, { 'web.processes': 2, 'directory.refreshMs': 100 });
    try {
      const workers = () => run('pgrep', ['-P', String(process.pid), '-f', 'web-worker.js']).then((r) => r.stdout.split('\n').filter(Boolean).map(Number));
      const [worker] = await workers();
      assert.ok(worker, 'a worker process runs');
      await t.directoryStore.addDomain('late.test');
      mkdirSync(join(dir, 'sites', 'late.test'), { recursive: true });
      writeFileSync(join(dir, 'sites', 'late.test', 'index.html'), 'late');
      const everyone = async () => {
        // Separate connections, so both processes take some of them.
        const bodies = await Promise.all(Array.from({ length: 20 }, () => run('curl', ['-s', '-H', 'Host: late.test', `http://127.0.0.1:${t.webPort}/`]).then((r) => r.stdout)));
        return bodies.every((b) => b === 'late');
      };
      assert.ok(await waitFor(everyone, 5_000, 200), 'every process serves the new domain');
      process.kill(worker!, 'SIGKILL');
      assert.ok(await waitFor(async () => (await workers()).length === 0, 5_000, 50));
      assert.ok(await everyone(), 'the service answers alone');
    } finally {
      await t.stop();
      removeDir(dir);
    }
  });
});
