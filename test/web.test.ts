import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { python, removeDir, run, seedDirectory, startTestService, tempDir, type TestService } from './helpers/service.js';

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
    t = await startTestService(dir, { hostname: 'mail.provider.test' });
    await seedDirectory(t.directoryStore, 'example.com', ['alice']);
    await t.service.directory.refresh();
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

  test('hostile requests: wrong methods, an oversized body, path traversal, garbage', async () => {
    const base = `http://127.0.0.1:${t.webPort}`;
    assert.equal((await curl(`${base}/autodiscover/autodiscover.xml`)).status, 405);
    assert.equal((await curl('-X', 'DELETE', '-H', 'Host: autoconfig.example.com', `${base}/mail/config-v1.1.xml`)).status, 405);
    assert.equal((await curl('-X', 'POST', '--data-binary', 'x'.repeat(100_000), `${base}/autodiscover/autodiscover.xml`)).status, 413);
    assert.equal((await curl('--path-as-is', `${base}/../../etc/passwd`)).status, 404);
    assert.equal((await curl('-X', 'POST', '--data-binary', '<EMailAddress><<<', `${base}/autodiscover/autodiscover.xml`)).status, 404);
    assert.equal((await curl('-H', 'Host: autoconfig.example.com', `${base}/mail/config-v1.1.xml`)).status, 200, 'still serving');
  });
});
