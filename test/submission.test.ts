import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { mailboxMessages, python, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { SMTPLIB_SUBMIT } from './helpers/py.js';
import { SmtpClient } from './helpers/smtp-client.js';

interface SubmitResult {
  features: string[];
  auth_offered: string;
  auth: [number, string];
  code: number;
  text?: string;
  refused?: Record<string, [number, string]>;
}

const PASSWORD = 'test-password';

/** Authenticated submission (role submission) with real clients: Python's smtplib and nodemailer. */
describe('submission', () => {
  let dir: string;
  let t: TestService;
  let ids: Map<string, number>;

  const smtplib = (port: number, mode: 'starttls' | 'tls' | 'plain', from: string, to: string[], message: string, opts: { user?: string; password?: string; mech?: string } = {}) =>
    python<SubmitResult>(SMTPLIB_SUBMIT, [port, mode, opts.user ?? 'user1@example.com', opts.password ?? PASSWORD, opts.mech ?? 'PLAIN', from, to.join(','), message]);

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'submission.maxRecipients': 3, 'submission.maxMessagesPerHour': 6 });
    ids = await seedDirectory(t.directoryStore, 'example.com', ['user1', 'user2', 'limited']);
    await t.directoryStore.setAlias('sales@example.com', ['user1@example.com']);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('smtplib over STARTTLS with AUTH PLAIN: delivered, Date and Message-ID added, AUTH offered only after TLS', async () => {
    const r = await smtplib(t.submissionPort, 'starttls', 'user1@example.com', ['user2@example.com'], 'From: user1@example.com\r\nSubject: via starttls\r\n\r\nhello\r\n');
    assert.equal(r.code, 250, JSON.stringify(r));
    assert.deepEqual(r.auth, [235, '2.7.0 Authentication successful']);
    assert.match(r.auth_offered, /PLAIN LOGIN/);
    assert.ok(await waitFor(async () => (await mailboxMessages(t.service.mailStore, ids.get('user2@example.com')!)).some((m) => m.includes('via starttls'))));
    const m = (await mailboxMessages(t.service.mailStore, ids.get('user2@example.com')!)).find((x) => x.includes('via starttls'))!;
    assert.match(m, /with ESMTPSA id /);
    assert.match(m, /\r\nDate: \w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    assert.match(m, /\r\nMessage-ID: <[^@\s]+@mx\.hikyaku\.test>\r\n/);

    const plain = await smtplib(t.submissionPort, 'plain', 'user1@example.com', ['user2@example.com'], 'Subject: x\r\n\r\nx\r\n');
    assert.ok(!plain.features.includes('auth'), 'AUTH not offered before TLS');
    assert.equal(plain.auth[0], 530);
    assert.match(plain.auth[1], /^5\.7\.0 Must issue a STARTTLS command first/);
    assert.equal(plain.code, 530, 'no mail without AUTH');
  });

  test('smtplib over implicit TLS with AUTH LOGIN; a message with its own Date and Message-ID keeps them', async () => {
    const msg = 'From: Sales <sales@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0900\r\nMessage-ID: <own@example.com>\r\nSubject: via tls\r\n\r\nhi\r\n';
    const r = await smtplib(t.submissionsPort, 'tls', 'sales@example.com', ['user2@example.com'], msg, { mech: 'LOGIN' });
    assert.equal(r.code, 250, JSON.stringify(r));
    assert.equal(r.auth[0], 235);
    assert.ok(await waitFor(async () => (await mailboxMessages(t.service.mailStore, ids.get('user2@example.com')!)).some((m) => m.includes('via tls'))));
    const m = (await mailboxMessages(t.service.mailStore, ids.get('user2@example.com')!)).find((x) => x.includes('via tls'))!;
    assert.equal(m.match(/\r\nMessage-ID: /g)?.length, 1);
    assert.match(m, /\r\nMessage-ID: <own@example\.com>\r\n/);
  });

  test('nodemailer over STARTTLS sends to local and remote recipients; the remote one is queued for relay', async () => {
    const info = await nodemailer
      .createTransport({ host: '127.0.0.1', port: t.submissionPort, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'user1@example.com', pass: PASSWORD } })
      .sendMail({ from: 'user1@example.com', to: ['user2@example.com', 'Friend@Elsewhere.Test'], subject: 'nodemailer', text: 'こんにちは' });
    assert.deepEqual(info.accepted.map(String).sort(), ['Friend@elsewhere.test', 'user2@example.com']);
    assert.ok(await waitFor(async () => (await t.service.spool.list(100)).some((e) => e.rcpt === 'Friend@elsewhere.test' && e.route === 'remote')), 'remote recipient queued, local part case kept');
  });

  test('a wrong password or an unknown user: 535 5.7.8, and no mail', async () => {
    const bad = await smtplib(t.submissionPort, 'starttls', 'user2@example.com', ['user1@example.com'], 'Subject: x\r\n\r\nx\r\n', { user: 'user2@example.com', password: 'wrong' });
    assert.deepEqual(bad.auth, [535, '5.7.8 Authentication credentials invalid']);
    assert.equal(bad.code, 530);
    const nobody = await smtplib(t.submissionPort, 'starttls', 'x@example.com', ['user1@example.com'], 'x', { user: 'nobody@example.com', password: 'whatever' });
    assert.equal(nobody.auth[0], 535);
  });

  test('sending as someone else is refused with 553 5.7.1, in the envelope and in From:', async () => {
    const envelope = await smtplib(t.submissionPort, 'starttls', 'user2@example.com', ['user2@example.com'], 'Subject: x\r\n\r\nx\r\n');
    assert.equal(envelope.code, 553);
    assert.match(envelope.text!, /^5\.7\.1 Sender address rejected/);
    const header = await smtplib(t.submissionPort, 'starttls', 'user1@example.com', ['user2@example.com'], 'From: "Boss" <ceo@example.com>\r\nSubject: spoof\r\n\r\nx\r\n');
    assert.equal(header.code, 553);
    assert.match(header.text!, /^5\.7\.1 .*ceo@example\.com/);
    const many = await smtplib(t.submissionPort, 'starttls', 'user1@example.com', ['user2@example.com'], 'From: user1@example.com, other@evil.test\r\nSubject: x\r\n\r\nx\r\n');
    assert.equal(many.code, 553, 'every From: address must be the user\'s');
    const nullSender = await smtplib(t.submissionPort, 'starttls', '', ['user2@example.com'], 'Subject: x\r\n\r\nx\r\n');
    assert.equal(nullSender.code, 553);
    const unknown = await smtplib(t.submissionPort, 'starttls', 'user1@example.com', ['ghost@example.com'], 'Subject: x\r\n\r\nx\r\n');
    assert.deepEqual(unknown.refused, { 'ghost@example.com': [550, '5.1.1 No such user here: <ghost@example.com>'] });
    assert.ok(!(await mailboxMessages(t.service.mailStore, ids.get('user2@example.com')!)).some((m) => m.includes('spoof')));
  });

  test('limits: more than 3 recipients get 452 4.5.3; past 6 messages an hour MAIL gets 550 5.4.5', async () => {
    const r = await smtplib(t.submissionPort, 'starttls', 'limited@example.com', ['user1@example.com', 'user2@example.com', 'a@x.test', 'b@x.test'], 'Subject: x\r\n\r\nx\r\n', { user: 'limited@example.com' });
    assert.equal(r.code, 250);
    assert.deepEqual(r.refused, { 'b@x.test': [452, '4.5.3 Too many recipients: at most 3 per message'] });
    for (let i = 0; i < 5; i++) assert.equal((await smtplib(t.submissionPort, 'starttls', 'limited@example.com', ['user1@example.com'], 'Subject: x\r\n\r\nx\r\n', { user: 'limited@example.com' })).code, 250);
    const over = await smtplib(t.submissionPort, 'starttls', 'limited@example.com', ['user1@example.com'], 'Subject: x\r\n\r\nx\r\n', { user: 'limited@example.com' });
    assert.equal(over.code, 550);
    assert.match(over.text!, /^5\.4\.5 Hourly sending limit reached, try again later: limited@example\.com may send 6 messages per hour/);
  });

  test('hostile input: AUTH in the clear, NUL, garbage, unknown mechanism, over-long line get replies, never a crash', async () => {
    const c = await SmtpClient.open(t.submissionPort);
    assert.equal((await c.command('AUTH PLAIN AHVzZXIxQGV4YW1wbGUuY29tAHRlc3QtcGFzc3dvcmQ=')).code, 530, 'no AUTH before TLS');
    assert.equal((await c.command('MAIL FROM:<user1@example.com>')).code, 530);
    assert.equal((await c.command('MAIL FROM:<a\u0000b@example.com>')).code >= 500, true);
    assert.equal((await c.command('\u00ff\u00fe garbage ' + 'Y'.repeat(600))).code, 500);
    assert.equal((await c.command('NOOP')).code, 250, 'the session survives');
    assert.equal((await c.command('X'.repeat(5000))).code, 500, 'a line past the limit: 500 5.5.2 (RFC 5321 §4.5.3.1.4), then the session ends');
    const tls = await python<SubmitResult>(SMTPLIB_SUBMIT, [t.submissionPort, 'starttls', 'user1@example.com', PASSWORD, 'CRAM-MD5', 'user1@example.com', 'user2@example.com', 'x']);
    assert.equal(tls.auth[0], 504, 'unknown mechanism');
  });
});

describe('submission session time limit', () => {
  test('a session past smtp.maxSessionSeconds gets 421 4.4.2, even a busy one', async () => {
    const dir = tempDir();
    const t = await startTestService(dir, { 'smtp.maxSessionSeconds': 2, 'submission.plaintextLogin': 'loopback' });
    try {
      await seedDirectory(t.directoryStore, 'limit.test', ['busy']);
      await t.service.directory.refresh();
      const c = await SmtpClient.open(t.submissionPort);
      // Logged in: smtp-server's own limit on unauthenticated commands does not apply.
      assert.equal((await c.command(`AUTH PLAIN ${Buffer.from('\0busy@limit.test\0test-password').toString('base64')}`)).code, 235);
      const last = await c.noopUntilRefused();
      c.destroy();
      assert.equal(last.code, 421);
      assert.match(last.text, /^4\.4\.2 Session time limit/);
    } finally {
      await t.stop();
      removeDir(dir);
    }
  });
});
