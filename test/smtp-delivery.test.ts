import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { SMTPLIB_SEND } from './helpers/py.js';
import { mailboxMessages, python, run, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

interface SendResult {
  code: number;
  text?: string;
  tls: boolean;
  features: string[];
  refused: Record<string, [number, string]>;
}

describe('delivery to accounts, aliases, catch-all and forwards', () => {
  let dir: string;
  let t: TestService;
  let ids: Map<string, number>;
  const count = async (addr: string) => (await t.service.mailStore.list(ids.get(addr)!)).length;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    ids = await seedDirectory(t.directoryStore, 'example.com', ['alice', 'bob', 'carol', 'dave', 'erin']);
    await t.directoryStore.addDomain('other.example');
    const more = await seedDirectory(t.directoryStore, 'other.example', ['frank']);
    for (const [k, v] of more) ids.set(k, v);
    await t.directoryStore.setAlias('sales@example.com', ['alice@example.com', 'bob@example.com']);
    await t.directoryStore.setAlias('@other.example', ['carol@example.com']);
    await t.directoryStore.setForward('dave@example.com', ['frank@other.example'], false);
    await t.directoryStore.setForward('erin@example.com', ['frank@other.example'], true);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('smtplib over STARTTLS: the message lands byte-exact with trace headers', async () => {
    const body = 'From: Sender <s@client.test>\r\nTo: alice@example.com\r\nSubject: hello\r\n\r\nLine one\r\n.leading dot\r\nLast line\r\n';
    const r = await python<SendResult>(SMTPLIB_SEND, [t.port, 1, 's@client.test', 'alice@example.com', body]);
    assert.equal(r.code, 250);
    assert.equal(r.tls, true);
    assert.ok(await waitFor(async () => (await count('alice@example.com')) === 1));
    const [msg] = await mailboxMessages(t.service.mailStore, ids.get('alice@example.com')!);
    assert.match(msg!, /^Return-Path: <s@client\.test>\r\nDelivered-To: alice@example\.com\r\nReceived: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.hikyaku\.test \(Hikyaku\) with ESMTPS id \w+\r\n\tfor <alice@example\.com>;\r\n\t\w{3}, /);
    assert.ok(msg!.endsWith('\r\n' + body), 'body is stored byte-exact after the trace headers');
  });

  test('features advertised: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS', async () => {
    const r = await python<SendResult>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'bob@example.com', 'Subject: x\r\n\r\nx\r\n']);
    for (const f of ['pipelining', 'size', '8bitmime', 'smtputf8', 'enhancedstatuscodes', 'starttls']) assert.ok(r.features.includes(f), f);
  });

  test('alias to two accounts, catch-all, forward without and with a kept copy', async () => {
    const before = new Map(await Promise.all([...ids.keys()].map(async (a) => [a, await count(a)] as const)));
    const send = (to: string) => python<SendResult>(SMTPLIB_SEND, [t.port, 0, 's@client.test', to, `Subject: to ${to}\r\n\r\nhi\r\n`]);
    assert.equal((await send('sales@example.com')).code, 250);
    assert.equal((await send('anything@other.example')).code, 250);
    assert.equal((await send('dave@example.com')).code, 250);
    assert.equal((await send('erin@example.com')).code, 250);
    const expected: Record<string, number> = {
      'alice@example.com': 1, // sales
      'bob@example.com': 1, // sales
      'carol@example.com': 1, // catch-all
      'dave@example.com': 0, // forwarded away
      'frank@other.example': 2, // dave's and erin's forwards
      'erin@example.com': 1, // kept copy
    };
    // Bounded generously: under a loaded CI machine four deliveries with fsync can take a while.
    const settled = await waitFor(async () => {
      for (const [a, n] of Object.entries(expected)) if ((await count(a)) !== before.get(a)! + n) return false;
      return true;
    }, 30_000);
    const now = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (a) => [a, (await count(a)) - before.get(a)!] as const)));
    assert.ok(settled, `every copy delivered: ${JSON.stringify(now)}`);
    const frank = await mailboxMessages(t.service.mailStore, ids.get('frank@other.example')!);
    assert.ok(frank.some((m) => m.includes('Delivered-To: frank@other.example\r\n') && m.includes('Subject: to dave@example.com')));
  });

  test('one message to several recipients that expand to the same mailbox is stored once there', async () => {
    const n = await count('alice@example.com');
    const r = await python<SendResult>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'alice@example.com,sales@example.com,ALICE@Example.com', 'Subject: dup\r\n\r\nx\r\n']);
    assert.equal(r.code, 250);
    assert.ok(await waitFor(async () => (await count('bob@example.com')) > 0 && (await t.service.spool.stats()).byState.queued === 0));
    await waitFor(async () => (await count('alice@example.com')) === n + 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await count('alice@example.com'), n + 1);
  });

  test('nodemailer with STARTTLS, a UTF-8 subject and an 8-bit body', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, name: 'client.test' });
    const n = await count('carol@example.com');
    const info = await transport.sendMail({ from: 'sender@client.test', to: 'carol@example.com', subject: '飛脚 test', text: 'こんにちは — 8-bit body\n' });
    transport.close();
    assert.match(info.response, /^250 2\.6\.0 /);
    assert.deepEqual(info.accepted, ['carol@example.com']);
    assert.ok(await waitFor(async () => (await count('carol@example.com')) === n + 1));
    const msgs = await mailboxMessages(t.service.mailStore, ids.get('carol@example.com')!);
    assert.ok(msgs.at(-1)!.includes('Subject: =?UTF-8?'));
  });

  test('nodemailer is told which recipients were refused', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, secure: false, ignoreTLS: true, name: 'client.test' });
    const info = await transport.sendMail({ from: 'sender@client.test', to: ['bob@example.com', 'ghost@example.com', 'x@not-hosted.test'], subject: 'partial', text: 'x' });
    transport.close();
    assert.deepEqual(info.accepted, ['bob@example.com']);
    assert.deepEqual([...info.rejected].sort(), ['ghost@example.com', 'x@not-hosted.test']);
  });

  test('swaks over STARTTLS', async () => {
    const r = await run('swaks', ['--server', `127.0.0.1:${t.port}`, '--tls', '--ehlo', 'client.test', '--from', 's@client.test', '--to', 'bob@example.com', '--header', 'Subject: swaks test']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<~  250 2\.6\.0 Ok: queued as \w+/);
    const delivered = async () => (await mailboxMessages(t.service.mailStore, ids.get('bob@example.com')!)).filter((m) => m.includes('Subject: swaks test')).length;
    assert.ok(await waitFor(async () => (await delivered()) === 1));
  });

  test('over quota: the message waits in the queue (deferred), and is delivered once the quota is raised', async () => {
    const small = await t.directoryStore.addAccount({ address: 'tiny@example.com', passwordHash: 'x', quotaBytes: 1024 });
    await t.service.directory.refresh();
    const r = await python<SendResult>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'tiny@example.com', 'Subject: big\r\n\r\n' + ('z'.repeat(76) + '\r\n').repeat(50)]);
    assert.equal(r.code, 250, 'accepted: quota is enforced at delivery');
    assert.ok(await waitFor(async () => (await t.service.spool.stats()).byState.deferred === 1));
    assert.equal((await t.service.mailStore.list(small.id)).length, 0);
    await t.directoryStore.setQuota('tiny@example.com', 1024 * 1024);
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(small.id)).length === 1, 20_000));
  });

  test('UIDs in a mailbox increase and UIDVALIDITY is set', async () => {
    const id = ids.get('alice@example.com')!;
    const list = await t.service.mailStore.list(id);
    const uids = list.map((e) => e.uid);
    assert.deepEqual(uids, [...uids].sort((a, b) => a - b));
    assert.equal(new Set(uids).size, uids.length);
    const status = await t.service.mailStore.status(id);
    assert.ok(status.uidValidity > 0);
    assert.equal(status.uidNext, Math.max(...uids) + 1);
  });
});
