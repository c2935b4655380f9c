import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { freePort, hikyaku, mailboxMessages, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { startDnsServer } from './helpers/dns-server.js';
import { startRemoteSmtp } from './helpers/remote-smtp.js';
import { SmtpClient } from './helpers/smtp-client.js';

/**
 * Relay over real sockets: Hikyaku (mx, submission, delivery) sends to "remote" SMTP servers
 * on other 127.0.0.x addresses, found through a test DNS server. Retries run on a
 * compressed schedule: 100 ms doubling to 400 ms, delay warning after 2 s, give-up after 6 s.
 */
describe('outbound relay', () => {
  let dir: string;
  let t: TestService;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let remote: Awaited<ReturnType<typeof startRemoteSmtp>>;
  let senderMx: Awaited<ReturnType<typeof startRemoteSmtp>>;
  let ids: Map<string, number>;

  const submit = (from: string, to: string[], subject: string, extra: Record<string, string> = {}) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: t.submissionPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'user1@hosted.test', pass: 'test-password' } })
      .sendMail({ from, to, subject, text: `body of ${subject}\n`, headers: extra });

  const mailbox = async (address: string) => mailboxMessages(t.service.mailStore, ids.get(address)!);

  before(async () => {
    dir = tempDir();
    const port = await freePort();
    dns = await startDnsServer({
      mx: { 'remote.test': [{ exchange: 'mx1.remote.test', priority: 10 }], 'dead.test': [{ exchange: 'mx.dead.test', priority: 10 }], 'sender.test': [{ exchange: 'mx.sender.test', priority: 10 }], 'nomail.test': [{ exchange: '.', priority: 0 }] },
      a: { 'mx1.remote.test': ['127.0.0.2'], 'mx.dead.test': ['127.0.0.9'], 'mx.sender.test': ['127.0.0.3'], 'plain-a.test': ['127.0.0.2'] },
      txt: {},
    });
    remote = await startRemoteSmtp('127.0.0.2', port, dir + '/remote-tls');
    senderMx = await startRemoteSmtp('127.0.0.3', port, dir + '/sender-tls');
    t = await startTestService(dir, {
      'relay.port': port,
      'relay.dnsServers': `127.0.0.1:${dns.port}`,
      'relay.retryBaseMs': 100,
      'relay.retryMaxMs': 400,
      'relay.maxQueueSeconds': 6,
      'relay.delayWarningSeconds': 2,
    });
    assert.equal((await hikyaku(dir, ['domain', 'add', 'hosted.test'])).code, 0);
    ids = await seedDirectory(t.directoryStore, 'hosted.test', ['user1', 'fwd']);
    await t.directoryStore.setAlias('sales@hosted.test', ['user1@hosted.test']);
    await t.directoryStore.setForward('fwd@hosted.test', ['target@remote.test'], false);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    await Promise.all([remote.close(), senderMx.close(), dns.close()]);
    removeDir(dir);
  });

  test('three recipients at one domain go in one transaction, over STARTTLS, DKIM-signed with the published key', async () => {
    const info = await submit('User One <user1@hosted.test>', ['a@remote.test', 'b@remote.test', 'c@remote.test', 'sales@hosted.test'], 'to three');
    assert.equal(info.rejected.length, 0);
    assert.ok(await waitFor(() => remote.received.some((r) => r.body.includes('to three')), 10_000));
    const txns = remote.received.filter((r) => r.body.includes('to three'));
    assert.equal(txns.length, 1, 'one transaction');
    assert.deepEqual(txns[0]!.rcpts.sort(), ['a@remote.test', 'b@remote.test', 'c@remote.test']);
    assert.equal(txns[0]!.mailFrom, 'user1@hosted.test');
    assert.ok(txns[0]!.secure, 'STARTTLS was used');
    assert.ok(await waitFor(async () => (await mailbox('user1@hosted.test')).some((m) => m.includes('to three'))), 'the hosted recipient got it locally');

    // The key as the customer publishes it, from `hikyaku domain dns`.
    const records = (await hikyaku(dir, ['domain', 'dns', 'hosted.test'])).stdout.split('\n').filter((l) => l.includes('._domainkey.'));
    const zone = new Map(records.map((l) => [l.split(' ')[0]!.replace(/\.$/, ''), [...l.matchAll(/"([^"]*)"/g)].map((m) => m[1]!).join('')]));
    const result = await dkimVerify(txns[0]!.body, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && zone.has(name)) return [[zone.get(name)!]];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    assert.equal(result.results[0]?.status.result, 'pass', JSON.stringify(result.results));
    assert.equal(result.results[0]?.signingDomain, 'hosted.test');
  });

  test('messages to one domain in a row share one session (RSET between them); a session the remote dropped while idle is replaced; each message arrives once', async () => {
    // No session left over from the tests before.
    remote.dropConnections();
    await new Promise((r) => setTimeout(r, 100));
    const before = remote.connections;
    for (let i = 0; i < 4; i++) {
      await submit('user1@hosted.test', [`reuse${i}@remote.test`], `reuse ${i}`);
      assert.ok(await waitFor(() => remote.received.some((r) => r.body.includes(`reuse ${i}`)), 10_000));
    }
    assert.equal(remote.connections - before, 1, 'one session for four messages');
    remote.dropConnections();
    await new Promise((r) => setTimeout(r, 100));
    await submit('user1@hosted.test', ['reuse-after@remote.test'], 'after the drop');
    assert.ok(await waitFor(() => remote.received.some((r) => r.body.includes('after the drop')), 10_000));
    assert.equal(remote.connections - before, 2, 'a new session after the old one was dropped');
    for (const subject of ['reuse 0', 'reuse 1', 'reuse 2', 'reuse 3', 'after the drop']) assert.equal(remote.received.filter((r) => r.body.includes(subject)).length, 1, subject);
  });

  test('an MX-less domain is reached through its A record (implicit MX)', async () => {
    await submit('user1@hosted.test', ['x@plain-a.test'], 'implicit mx');
    assert.ok(await waitFor(() => remote.received.some((r) => r.body.includes('implicit mx') && r.rcpts[0] === 'x@plain-a.test'), 10_000));
  });

  test('a remote answering 451 then 250 gets the message once', async () => {
    let refusals = 0;
    remote.script = { data: (_f, rcpts) => (rcpts.includes('retry@remote.test') && refusals++ < 2 ? '451 4.3.0 try again later' : undefined) };
    await submit('user1@hosted.test', ['retry@remote.test'], 'retry me');
    assert.ok(await waitFor(() => remote.received.some((r) => r.body.includes('retry me')), 15_000));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(refusals, 3, 'two refusals, then the accepted attempt');
    assert.equal(remote.received.filter((r) => r.body.includes('retry me')).length, 1, 'delivered once');
    assert.ok(!(await t.service.spool.list(100)).some((e) => e.rcpt === 'retry@remote.test'), 'the entry left the queue');
    remote.script = {};
  });

  test('a 550 from the remote bounces: a DSN with the original headers reaches the sender', async () => {
    remote.script = { rcpt: (r) => (r === 'nobody@remote.test' ? '550 5.1.1 no such user here' : undefined) };
    await submit('user1@hosted.test', ['nobody@remote.test'], 'bounce me', { 'X-Original-Marker': 'kept-123' });
    assert.ok(await waitFor(async () => (await mailbox('user1@hosted.test')).some((m) => m.includes('nobody@remote.test') && m.includes('multipart/report')), 15_000));
    const dsn = (await mailbox('user1@hosted.test')).find((m) => m.includes('nobody@remote.test') && m.includes('multipart/report'))!;
    assert.match(dsn, /^Return-Path: <>\r\n/, 'sent with the null sender');
    assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status;/);
    assert.match(dsn, /Content-Type: message\/delivery-status\r\n.*\r\n\r\nReporting-MTA: dns; mx\.hikyaku\.test\r\nArrival-Date: /);
    assert.match(dsn, /Final-Recipient: rfc822; nobody@remote\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx1\.remote\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user here/);
    const attached = dsn.slice(dsn.indexOf('Content-Type: text/rfc822-headers'));
    assert.match(attached, /\r\nSubject: bounce me\r\n/);
    assert.match(attached, /\r\nX-Original-Marker: kept-123\r\n/);
    assert.doesNotMatch(attached, /body of bounce me/, 'headers only, not the body');
    assert.match(dsn, /Auto-Submitted: auto-replied/);
    remote.script = {};
  });

  test('an unreachable remote: retried, a delay warning, then a bounce; queue list shows the attempts', async () => {
    await submit('user1@hosted.test', ['someone@dead.test'], 'unreachable');
    assert.ok(await waitFor(async () => (await t.service.spool.list(100)).some((e) => e.rcpt === 'someone@dead.test' && e.attempts >= 2), 5000));
    const listed = await hikyaku(dir, ['queue', 'list', '--json']);
    const entry = (JSON.parse(listed.stdout) as { rcpt: string; route: string; state: string; attempts: number; lastError: string }[]).find((e) => e.rcpt === 'someone@dead.test');
    assert.ok(entry, listed.stdout);
    assert.equal(entry.route, 'remote');
    assert.match(entry.lastError, /127\.0\.0\.9|mx\.dead\.test/);
    const dsns = async () => (await mailbox('user1@hosted.test')).filter((m) => m.includes('someone@dead.test') && m.includes('multipart/report'));
    assert.ok(await waitFor(async () => (await dsns()).some((m) => /Action: delayed/.test(m)), 10_000), 'delay warning');
    assert.ok(await waitFor(async () => (await dsns()).some((m) => /Action: failed/.test(m)), 15_000), 'bounce after the queue lifetime');
    const delayed = (await dsns()).filter((m) => /Action: delayed/.test(m));
    assert.equal(delayed.length, 1, 'one warning only');
    assert.match(delayed[0]!, /Will-Retry-Until: /);
    assert.match((await dsns()).find((m) => /Action: failed/.test(m))!, /Status: 5\.4\.7/);
    assert.ok(!(await t.service.spool.list(100)).some((e) => e.rcpt === 'someone@dead.test'));
  });

  test('a null-MX domain bounces at once (RFC 7505)', async () => {
    await submit('user1@hosted.test', ['x@nomail.test'], 'null mx');
    assert.ok(await waitFor(async () => (await mailbox('user1@hosted.test')).some((m) => m.includes('x@nomail.test') && /Status: 5\.1\.10/.test(m)), 10_000));
  });

  test('a forward to another domain carries an SRS sender; a bounce to it goes back to the original sender', async () => {
    const c = await SmtpClient.open(t.port);
    const r = await c.send('alice@sender.test', ['fwd@hosted.test'], Buffer.from('Subject: forward me\r\n\r\nhello\r\n'));
    assert.equal(r.reply.code, 250);
    assert.ok(await waitFor(() => remote.received.some((m) => m.body.includes('forward me')), 10_000));
    const forwarded = remote.received.find((m) => m.body.includes('forward me'))!;
    assert.deepEqual(forwarded.rcpts, ['target@remote.test']);
    assert.match(forwarded.mailFrom, /^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=sender\.test=alice@hosted\.test$/i);
    assert.equal((await mailbox('fwd@hosted.test')).length, 0, 'no copy kept');

    // The destination bounces to the SRS address, through our MX.
    const forged = forwarded.mailFrom.replace(/=alice@/, '=mallory@');
    assert.equal((await c.command('MAIL FROM:<>')).code, 250);
    assert.equal((await c.command(`RCPT TO:<${forged}>`)).code, 550, 'a forged SRS address is refused');
    const bounce = await c.send('', [forwarded.mailFrom], Buffer.from('Subject: Undelivered: forward me\r\n\r\nsorry\r\n'));
    assert.equal(bounce.reply.code, 250);
    assert.ok(await waitFor(() => senderMx.received.some((m) => m.body.includes('Undelivered: forward me')), 10_000));
    const back = senderMx.received.find((m) => m.body.includes('Undelivered: forward me'))!;
    assert.deepEqual(back.rcpts, ['alice@sender.test']);
    assert.equal(back.mailFrom, '', 'a bounce stays a bounce');
    await c.quit();
  });
});

describe('smarthost', () => {
  test('everything goes through the smarthost, with AUTH over STARTTLS whose certificate checks out', async () => {
    const dir = tempDir();
    const port = await freePort();
    // The remote's certificate names 127.0.0.1; relay.smarthostCa makes it trusted.
    const smarthost = await startRemoteSmtp('127.0.0.1', port, dir + '/smarthost-tls', {}, { user: 'relay-user', pass: 'relay-pass' });
    const t = await startTestService(dir, { 'relay.smarthost': `127.0.0.1:${port}`, 'relay.smarthostUser': 'relay-user', 'relay.smarthostPassword': 'relay-pass', 'relay.smarthostCa': dir + '/smarthost-tls/tls/cert.pem' });
    try {
      await seedDirectory(t.directoryStore, 'hosted.test', ['user1']);
      await t.service.directory.refresh();
      await nodemailer
        .createTransport({ host: '127.0.0.1', port: t.submissionsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'user1@hosted.test', pass: 'test-password' } })
        .sendMail({ from: 'user1@hosted.test', to: ['someone@anywhere.test'], subject: 'via smarthost', text: 'x' });
      assert.ok(await waitFor(() => smarthost.received.length === 1, 10_000));
      assert.equal(smarthost.received[0]!.user, 'relay-user');
      assert.equal(smarthost.received[0]!.secure, true);
      assert.deepEqual(smarthost.received[0]!.rcpts, ['someone@anywhere.test']);
    } finally {
      await t.stop();
      await smarthost.close();
      removeDir(dir);
    }
  });

  test('a smarthost whose certificate does not check out never gets the password; the mail waits', async () => {
    const dir = tempDir();
    const port = await freePort();
    let authTried = 0;
    const smarthost = await startRemoteSmtp('127.0.0.1', port, dir + '/smarthost-tls', { rcpt: () => undefined }, { user: 'relay-user', pass: 'relay-pass' });
    smarthost.onAuth = () => void authTried++;
    const t = await startTestService(dir, { 'relay.smarthost': `127.0.0.1:${port}`, 'relay.smarthostUser': 'relay-user', 'relay.smarthostPassword': 'relay-pass' });
    try {
      await seedDirectory(t.directoryStore, 'hosted.test', ['user1']);
      await t.service.directory.refresh();
      await nodemailer
        .createTransport({ host: '127.0.0.1', port: t.submissionsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'user1@hosted.test', pass: 'test-password' } })
        .sendMail({ from: 'user1@hosted.test', to: ['someone@anywhere.test'], subject: 'not via an untrusted smarthost', text: 'x' });
      assert.ok(await waitFor(async () => (await t.service.spool.list(10)).some((e) => e.state === 'deferred' && /certificate/i.test(e.lastError ?? '')), 10_000), JSON.stringify(await t.service.spool.list(10)));
      assert.equal(authTried, 0, 'no AUTH was attempted');
      assert.equal(smarthost.received.length, 0);
    } finally {
      await t.stop();
      await smarthost.close();
      removeDir(dir);
    }
  });
});
