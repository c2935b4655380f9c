import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPLIB_SEND } from './helpers/py.js';
import { Readable } from 'node:stream';
import { python, queueDrained, removeDir, startTestService, tempDir, testPasswordHash, waitFor, type TestService } from './helpers/service.js';
import { PortalClient, readMailbox, seedTenants } from './helpers/portal.js';

describe('automatic replies, forwards, quotas and retention set in the portal, as delivery carries them out', () => {
  let dir: string;
  let t: TestService;
  let user: PortalClient;

  /** Sends a message from a hosted sender (so the reply lands in a mailbox here) over the MX with smtplib. */
  const send = async (from: string, to: string, headers: string) => {
    const r = await python<{ code: number }>(SMTPLIB_SEND, [t.port, 0, from, to, `From: ${from}\r\n${headers}\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@b.test>\r\n\r\nHello.\r\n`]);
    assert.equal(r.code, 250);
  };
  /** Every message in a mailbox, read with poplib, once the queue is empty. */
  const mailbox = async (address: string) => {
    assert.ok(await queueDrained(dir, 15_000), 'the queue drains');
    return readMailbox(t.pop3Port, address);
  };
  const replies = async (address: string) => (await mailbox(address)).filter((m) => /^Auto-Submitted: auto-replied$/m.test(m));

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'delivery.retentionIntervalSeconds': 1 });
    await seedTenants(t.directoryStore);
    // Senders in a hosted domain, so replies land in mailboxes here (bob@ forwards, so not him).
    for (const local of ['carol', 'dave']) await t.directoryStore.addAccount({ address: `${local}@b.test`, passwordHash: await testPasswordHash(), quotaBytes: 0 });
    await t.service.directory.refresh();
    user = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    assert.equal((await user.login('user1@a.test')).status, 200);
  });
  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('a sender gets exactly one reply for two messages, with In-Reply-To and the user\'s text; never to lists, bulk, Bcc copies or automatic mail', async () => {
    const set = await user.call('PUT', '/api/v1/me/autoreply', { enabled: true, subject: '不在のお知らせ', body: '1月5日まで休暇をいただいております。', startsAt: null, endsAt: null });
    assert.equal(set.status, 200, set.text);
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: first');
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: second');
    const got = await replies('carol@b.test');
    assert.equal(got.length, 1, 'one reply for two messages');
    assert.match(got[0]!, /^From: <user1@a\.test>$/m);
    assert.match(got[0]!, /^In-Reply-To: <[a-z0-9]+@b\.test>$/m);
    assert.match(got[0]!, /^Subject: =\?UTF-8\?B\?/m);
    const text = Buffer.from(got[0]!.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString();
    assert.equal(text.trim(), '1月5日まで休暇をいただいております。');
    assert.match((await mailbox('carol@b.test'))[0]!, /Return-Path: <>/, 'sent from the null sender (RFC 3834 §3.3)');

    // Others: each case from a sender who has had no reply yet.
    await send('dave@b.test', 'user1@a.test', 'To: list@b.test\r\nList-Id: <news.b.test>\r\nSubject: list');
    await send('dave@b.test', 'user1@a.test', 'To: user1@a.test\r\nPrecedence: bulk\r\nSubject: bulk');
    await send('dave@b.test', 'user1@a.test', 'To: someone@b.test\r\nSubject: you are in Bcc');
    await send('dave@b.test', 'user1@a.test', 'To: user1@a.test\r\nAuto-Submitted: auto-generated\r\nSubject: robot');
    assert.deepEqual(await replies('dave@b.test'), []);
    // The user's mailbox has every message: replies are extra, never instead.
    assert.equal((await mailbox('user1@a.test')).length, 6);
  });

  test('a reply outside its dates, or switched off, sends nothing', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    assert.equal((await user.call('PUT', '/api/v1/me/autoreply', { enabled: true, subject: '', body: 'later', startsAt: future, endsAt: null })).status, 200);
    const bad = await user.call('PUT', '/api/v1/me/autoreply', { enabled: true, subject: '', body: 'x', startsAt: future, endsAt: new Date().toISOString() });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /end .* after its start/);
    await t.service.directory.refresh();
    await send('carol@b.test', 'user2@a.test', 'To: user2@a.test\r\nSubject: to user2');
    const admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    await admin.login('admin@a.test');
    // An administrator sets user2's reply, without user2's password; it is off.
    assert.equal((await admin.call('PUT', `/api/v1/accounts/${encodeURIComponent('user2@a.test')}/autoreply`, { enabled: false, subject: '', body: 'off' })).status, 200);
    await send('dave@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: not yet');
    await send('dave@b.test', 'user2@a.test', 'To: user2@a.test\r\nSubject: off');
    assert.deepEqual(await replies('dave@b.test'), []);
  });

  test('forwarding switched off keeps its targets and delivers to the mailbox only; on again, it forwards', async () => {
    assert.equal((await user.call('PUT', '/api/v1/me/forward', { targets: ['user2@a.test'], keepCopy: false, enabled: false })).body.enabled, false);
    await t.service.directory.refresh();
    const before = (await mailbox('user2@a.test')).length;
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: stays');
    assert.equal((await mailbox('user2@a.test')).length, before, 'not forwarded while off');
    assert.ok((await mailbox('user1@a.test')).some((m) => /Subject: stays/.test(m)));
    const me = await user.call('GET', '/api/v1/me');
    assert.deepEqual(me.body.forward, { targets: ['user2@a.test'], keepCopy: false, enabled: false, conditions: null });
    await user.call('PUT', '/api/v1/me/forward', { targets: ['user2@a.test'], keepCopy: false, enabled: true });
    await t.service.directory.refresh();
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: goes');
    assert.ok((await mailbox('user2@a.test')).some((m) => /Subject: goes/.test(m)));
  });

  test('a mailbox past 90% of its quota gets one warning from its postmaster, in Japanese and English, not one per message', async () => {
    await t.directoryStore.addAccount({ address: 'small@a.test', passwordHash: await testPasswordHash(), quotaBytes: 40_000 });
    await t.service.directory.refresh();
    const big = 'x'.repeat(76) + '\r\n';
    await send('carol@b.test', 'small@a.test', `To: small@a.test\r\nSubject: small one`);
    assert.equal((await mailbox('small@a.test')).length, 1, 'far below the quota: no warning');
    await send('carol@b.test', 'small@a.test', `To: small@a.test\r\nSubject: big one\r\nX-Fill: 1\r\n\r\n${big.repeat(460)}`);
    await send('carol@b.test', 'small@a.test', 'To: small@a.test\r\nSubject: one more');
    const all = await mailbox('small@a.test');
    const warnings = all.filter((m) => /^Auto-Submitted: auto-generated$/m.test(m));
    assert.equal(warnings.length, 1, 'one warning');
    assert.match(warnings[0]!, /^From: <postmaster@a\.test>$/m);
    assert.match(warnings[0]!, /^Return-Path: <>$/m);
    const text = Buffer.from(warnings[0]!.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString();
    assert.match(text, /使用量が容量の 9\d% に達しました/);
    assert.match(text, /The mailbox small@a\.test uses 9\d% of its quota: 3\d KB \/ 39 KB \(9\d%\)/);
  });

  test('conditional forwarding: only mail whose (encoded) subject or sender matches goes on; the rest stays', async () => {
    await user.call('PUT', '/api/v1/me/forward', { targets: ['user2@a.test'], keepCopy: true, enabled: true, conditions: { subjectContains: '至急', fromContains: '' } });
    await t.service.directory.refresh();
    const before = (await mailbox('user2@a.test')).length;
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: =?UTF-8?B?44CQ6Iez5oCl44CR6KaL56mN5pu4?=');
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: weekly newsletter');
    const forwarded = (await mailbox('user2@a.test')).slice(before);
    assert.equal(forwarded.length, 1, 'only the matching one');
    assert.match(forwarded[0]!, /Subject: =\?UTF-8\?B\?44CQ6Iez5oCl44CR6KaL56mN5pu4\?=/);
    assert.ok((await mailbox('user1@a.test')).some((m) => /weekly newsletter/.test(m)), 'the other stays with the user');
    await user.call('PUT', '/api/v1/me/forward', { targets: ['user2@a.test'], keepCopy: true, conditions: { subjectContains: '', fromContains: 'dave@' } });
    await t.service.directory.refresh();
    await send('dave@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: from dave');
    await send('carol@b.test', 'user1@a.test', 'To: user1@a.test\r\nSubject: from carol');
    const now = (await mailbox('user2@a.test')).slice(before + 1);
    assert.deepEqual(now.map((m) => /Subject: (.*)/.exec(m)?.[1]), ['from dave']);
    await user.call('DELETE', '/api/v1/me/forward');
  });

  test('a domain\'s retention rule removes mail older than its days from every mailbox of the domain, and only that', async () => {
    await t.directoryStore.addDomain('keep.test', undefined, 'acme');
    const old = await t.directoryStore.addAccount({ address: 'archive@keep.test', passwordHash: await testPasswordHash(), quotaBytes: 0 });
    const put = (key: string, ageDays: number) =>
      t.service.mailStore.append({
        accountId: old.id,
        messageKey: key,
        header: Buffer.from('Delivered-To: archive@keep.test\r\n'),
        openBody: () => Readable.from([Buffer.from(`Subject: ${key}\r\n\r\nbody\r\n`)]),
        bodySize: Buffer.byteLength(`Subject: ${key}\r\n\r\nbody\r\n`),
        internalDate: Date.now() - ageDays * 86_400_000,
        quotaBytes: 0,
      });
    await put('forty-days', 40);
    await put('twenty-days', 20);
    await put('today', 0);
    const other = await mailbox('user1@a.test');
    await t.service.directory.refresh();
    const admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    await admin.login('admin@a.test');
    assert.equal((await admin.call('PUT', '/api/v1/domains/keep.test/retention', { days: 30 })).status, 200);
    assert.equal((await admin.call('PUT', '/api/v1/domains/keep.test/retention', { days: 0 })).status, 400);
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(old.id)).length === 2, 15_000), 'the old message goes within a run');
    const left = (await mailbox('archive@keep.test')).map((m) => /Subject: (\S+)/.exec(m)?.[1]);
    assert.deepEqual(left.sort(), ['today', 'twenty-days']);
    assert.equal((await mailbox('user1@a.test')).length, other.length, 'another domain is untouched');
    const domains = (await admin.call('GET', '/api/v1/domains')).body.items;
    assert.equal(domains.find((d: { name: string }) => d.name === 'keep.test').retentionDays, 30);
    assert.equal((await admin.call('PUT', '/api/v1/domains/keep.test/retention', { days: null })).status, 200);
  });
});
