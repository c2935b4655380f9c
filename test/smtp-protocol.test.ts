import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RAW_SESSION } from './helpers/py.js';
import { SmtpClient, testMessage } from './helpers/smtp-client.js';
import { mailboxMessages, python, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

const raw = (port: number, data: string) => python<string[]>(RAW_SESSION, [port, Buffer.from(data).toString('hex')]);

/**
 * argv: port, kind (smtp|pop3). Sends a STARTTLS/STLS and, in the same packet, a command
 * that must not run (CVE-2011-0411), upgrades, sends one command over TLS and prints every
 * line read over TLS.
 */
const INJECTION = String.raw`
import json, socket, ssl, sys, time
port, kind = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port), timeout=5)
f = s.makefile('rb')
def line(): return f.readline().decode('latin1').rstrip('\r\n')
line()
if kind == 'smtp':
    s.sendall(b'EHLO c\r\n')
    while True:
        l = line()
        if l[3] == ' ': break
    s.sendall(b'STARTTLS\r\nRSET\r\n')
else:
    s.sendall(b'STLS\r\nCAPA\r\n')
ready = line()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
t.sendall(b'NOOP\r\n' if kind == 'smtp' else b'QUIT\r\n')
t.settimeout(2)
out = b''
deadline = time.time() + 5
while time.time() < deadline:
    try:
        chunk = t.recv(65536)
    except (socket.timeout, ssl.SSLError):
        break
    if not chunk: break
    out += chunk
print(json.dumps({'ready': ready, 'after': [l for l in out.decode('latin1').split('\r\n') if l]}))
`;

describe('SMTP protocol details: postmaster, mail loops, STARTTLS injection', () => {
  let dir: string;
  let t: TestService;
  let ids: Map<string, number>;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    ids = await seedDirectory(t.directoryStore, 'example.com', ['admin', 'bob']);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('RCPT TO:<postmaster> without a domain and postmaster@ a hosted domain are accepted and reach its first account (RFC 5321 §4.5.1)', async () => {
    const lines = await raw(t.port, 'EHLO c\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<PostMaster@example.com>\r\nRCPT TO:<postmaster@elsewhere.test>\r\nQUIT\r\n');
    const rcpt = lines.filter((l) => /^(250 2\.1\.5|5\d\d)/.test(l));
    assert.deepEqual(rcpt.map((l) => l.slice(0, 9)), ['250 2.1.5', '250 2.1.5', '554 5.7.1'], lines.join('\n'));
    const c = await SmtpClient.open(t.port);
    assert.equal((await c.send('s@client.test', ['postmaster'], testMessage('to-postmaster', 512))).reply.code, 250);
    assert.equal((await c.send('s@client.test', ['postmaster@example.com'], testMessage('to-postmaster-domain', 512))).reply.code, 250);
    await c.quit();
    const admin = ids.get('admin@example.com')!;
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(admin)).length === 2, 10_000), 'both reached the administrator');
    assert.equal((await t.service.mailStore.list(ids.get('bob@example.com')!)).length, 0);
  });

  test('a message with 50 Received: fields is refused as a loop with 554 5.4.6; 49 pass', async () => {
    const withHops = (n: number, id: string) => Buffer.concat([Buffer.from('Received: from relay.test by mx.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(n)), testMessage(id, 512)]);
    const c = await SmtpClient.open(t.port);
    const looping = await c.send('s@client.test', ['bob@example.com'], withHops(50, 'looping'));
    assert.equal(looping.reply.code, 554);
    assert.match(looping.reply.text, /^5\.4\.6 /);
    assert.equal((await c.send('s@client.test', ['bob@example.com'], withHops(49, 'far-travelled'))).reply.code, 250, 'the session goes on');
    await c.quit();
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(ids.get('bob@example.com')!)).length === 1, 10_000));
    const [stored] = await mailboxMessages(t.service.mailStore, ids.get('bob@example.com')!);
    assert.match(stored!, /X-Test-Id: far-travelled/);
  });

  test('STARTTLS: a command sent in the same packet runs neither before nor after the upgrade (CVE-2011-0411)', async () => {
    const r = await python<{ ready: string; after: string[] }>(INJECTION, [t.port, 'smtp']);
    assert.match(r.ready, /^220 /);
    assert.equal(r.after.length, 1, `only the NOOP is answered over TLS: ${r.after.join(' | ')}`);
    assert.match(r.after[0]!, /^250 /);
  });

  test('POP3 STLS: a command sent in the same packet is dropped, not run over TLS (CVE-2011-0411)', async () => {
    const r = await python<{ ready: string; after: string[] }>(INJECTION, [t.pop3Port, 'pop3']);
    assert.match(r.ready, /^\+OK/);
    assert.equal(r.after.length, 1, `only the QUIT is answered over TLS: ${r.after.join(' | ')}`);
    assert.match(r.after[0]!, /^\+OK/);
  });
});
