import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSigned } from '../src/servers/index.js';
import { freePort, removeDir, run, startTestService, tempDir, untilOutput, waitFor, type TestService } from './helpers/service.js';

/**
 * ACME against pebble (Debian's test CA, RFC 8555): pebble resolves the names through our
 * own dns role and fetches the HTTP-01 answers from our web role; the certificate it issues
 * is then the one HTTPS serves, verified by curl against pebble's root.
 */
describe('web role: certificates from an ACME CA (pebble)', () => {
  let dir: string;
  let t: TestService;
  let pebble: ChildProcess;
  let pebbleCa: string;
  let managementPort: number;

  before(async () => {
    dir = tempDir();
    const [webPort, dnsPort, apiPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    managementPort = await freePort();
    // pebble's own HTTPS (its API), with a certificate the web role is told to trust.
    const api = await selfSigned('localhost', ['localhost'], ['127.0.0.1']);
    pebbleCa = join(dir, 'pebble-api.pem');
    writeFileSync(pebbleCa, api.cert);
    writeFileSync(join(dir, 'pebble-api.key'), api.private);
    const config = { pebble: { listenAddress: `127.0.0.1:${apiPort}`, managementListenAddress: `127.0.0.1:${managementPort}`, certificate: pebbleCa, privateKey: join(dir, 'pebble-api.key'), httpPort: webPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false } };
    writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
    pebble = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
      // No random waits before validation, no random nonce rejections: the test is about us, not pebble's chaos.
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await untilOutput(pebble, 'Listening on', 'pebble');
    t = await startTestService(dir, {
      hostname: 'mail.provider.test',
      'web.port': webPort,
      'dns.port': dnsPort,
      'web.acmeDirectory': `https://127.0.0.1:${apiPort}/dir`,
      'web.acmeCaFile': pebbleCa,
      'web.acmeEmail': 'hostmaster@provider.test',
      'dns.webAddresses': '127.0.0.1',
      'dns.webHost': 'web.provider.test',
      'dns.hostAddresses': 'web.provider.test=127.0.0.1',
      'directory.refreshMs': 100,
    });
  });

  after(async () => {
    await t?.stop();
    pebble?.kill();
    removeDir(dir);
  });

  test('a domain added is given a certificate for its five names within a minute, and HTTPS serves it, verified against the CA\'s root', async () => {
    await t.directoryStore.addDomain('provider.test');
    await t.directoryStore.addDomain('example.com');
    const issued = join(dir, 'certs', 'acme', 'example.com.crt');
    assert.ok(await waitFor(() => existsSync(issued), 60_000, 200), 'issued');
    const cert = new X509Certificate(readFileSync(issued));
    assert.deepEqual(cert.subjectAltName?.split(', ').sort(), ['DNS:autoconfig.example.com', 'DNS:autodiscover.example.com', 'DNS:example.com', 'DNS:mta-sts.example.com', 'DNS:www.example.com']);
    assert.doesNotMatch(cert.issuer, /example\.com/, 'issued by the CA, not self-signed');
    // The CA's root, from pebble's management interface.
    const root = await run('curl', ['-s', '--cacert', pebbleCa, `https://127.0.0.1:${managementPort}/roots/0`]);
    assert.match(root.stdout, /BEGIN CERTIFICATE/);
    const rootFile = join(dir, 'pebble-root.pem');
    writeFileSync(rootFile, root.stdout);
    for (const name of ['www.example.com', 'mta-sts.example.com']) {
      const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', rootFile, '--resolve', `${name}:${t.websPort}:127.0.0.1`, `https://${name}:${t.websPort}/.well-known/mta-sts.txt`]);
      assert.equal(r.code, 0, `curl verified ${name}: ${r.stderr}`);
      assert.equal(r.stdout, name.startsWith('mta-sts.') ? '200' : '404');
    }
  });
});
