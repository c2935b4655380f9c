import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RAW_SESSION, SMTPLIB_SEND } from './helpers/py.js';
import { SmtpClient } from './helpers/smtp-client.js';
import { mailboxMessages, python, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

// RFC 5321 §4.2: reply = 3 digits, then SP or "-", then text; with ENHANCEDSTATUSCODES (RFC 2034)
// every 2xx/4xx/5xx line after the greeting and EHLO carries class.subject.detail.
const REPLY_LINE = /^[2-5][0-5]\d[ -]/;

/** Sends raw bytes after the greeting and returns every reply line (greeting first). */
const raw = (port: number, data: string | Buffer) => python<string[]>(RAW_SESSION, [port, Buffer.from(data).toString('hex')]);

describe('MX refusals and limits', () => {
  let dir: string;
  let t: TestService;
  let ids: Map<string, number>;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'smtp.maxRecipients': 3, 'smtp.maxMessageBytes': 64 * 1024, 'smtp.maxLineLength': 998 });
    ids = await seedDirectory(t.directoryStore, 'example.com', ['alice', 'bob', 'carol', 'dave']);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('unknown local recipient: 550 5.1.1; not hosted: 554 5.7.1, even from loopback', async () => {
    const r = await python<{ refused: Record<string, [number, string]> }>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'nobody@example.com,victim@elsewhere.test', 'x']);
    assert.equal(r.refused['nobody@example.com']![0], 550);
    assert.match(r.refused['nobody@example.com']![1], /^5\.1\.1 /);
    assert.equal(r.refused['victim@elsewhere.test']![0], 554);
    assert.match(r.refused['victim@elsewhere.test']![1], /^5\.7\.1 Relay access denied/);
  });

  test('too many recipients: 452 4.5.3 for those past the limit, the first ones delivered', async () => {
    const lines = await raw(
      t.port,
      'EHLO c\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<carol@example.com>\r\nRCPT TO:<dave@example.com>\r\nQUIT\r\n',
    );
    const rcpt = lines.filter((l) => /^(250 2\.1\.5|452)/.test(l));
    assert.deepEqual(rcpt.map((l) => l.slice(0, 9)), ['250 2.1.5', '250 2.1.5', '250 2.1.5', '452 4.5.3']);
  });

  test('SIZE declared over the limit: 552 5.3.4 at MAIL FROM', async () => {
    const lines = await raw(t.port, `EHLO c\r\nMAIL FROM:<s@client.test> SIZE=${1024 * 1024}\r\nQUIT\r\n`);
    assert.ok(lines.some((l) => /^552 5\.3\.4 /.test(l)), lines.join('\n'));
  });

  test('message over the size limit: 552 5.3.4 after the data, nothing stored', async () => {
    const before = (await t.service.mailStore.list(ids.get('alice@example.com')!)).length;
    const c = await SmtpClient.open(t.port);
    const big = Buffer.from('Subject: big\r\n\r\n' + ('x'.repeat(78) + '\r\n').repeat(1200));
    const { reply } = await c.send('s@client.test', ['alice@example.com'], big);
    assert.equal(reply.code, 552);
    assert.match(reply.text, /^5\.3\.4 /);
    // The session goes on: the next message is accepted.
    const ok = await c.send('s@client.test', ['alice@example.com'], Buffer.from('Subject: small\r\n\r\nx\r\n'));
    assert.equal(ok.reply.code, 250);
    await c.quit();
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(ids.get('alice@example.com')!)).length === before + 1));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await t.service.mailStore.list(ids.get('alice@example.com')!)).length, before + 1);
  });

  test('a line longer than 998 octets: 550 5.6.0 after the data', async () => {
    const c = await SmtpClient.open(t.port);
    const { reply } = await c.send('s@client.test', ['bob@example.com'], Buffer.from('Subject: long\r\n\r\n' + 'y'.repeat(999) + '\r\n'));
    assert.equal(reply.code, 550);
    assert.match(reply.text, /^5\.6\.0 .*999 octets/);
    const ok = await c.send('s@client.test', ['bob@example.com'], Buffer.from('Subject: fine\r\n\r\n' + 'y'.repeat(998) + '\r\n'));
    assert.equal(ok.reply.code, 250);
    await c.quit();
  });

  test('SMTP smuggling: bare LF / bare CR end-of-data forms do not end the data', async () => {
    const id = ids.get('carol@example.com')!;
    const before = (await t.service.mailStore.list(id)).length;
    const forms = ['\n.\n', '\n.\r\n', '\r.\r', '\r\n.\r', '\r.\r\n', '\r\n.\n'];
    for (const form of forms) {
      const smuggled = `MAIL FROM:<admin@example.com>\r\nRCPT TO:<dave@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n`;
      const data = `EHLO c\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\nSubject: carrier\r\n\r\nbody${form}${smuggled}QUIT\r\n`;
      const lines = await raw(t.port, data);
      // Exactly one message accepted per session: the smuggled transaction is message content.
      assert.equal(lines.filter((l) => /^250 2\.6\.0 /.test(l)).length, 1, `${JSON.stringify(form)}: ${lines.join(' | ')}`);
    }
    assert.ok(await waitFor(async () => (await t.service.mailStore.list(id)).length === before + forms.length));
    const dave = await t.service.mailStore.list(ids.get('dave@example.com')!);
    assert.equal(dave.length, 0, 'no smuggled message was delivered');
    for (const m of (await mailboxMessages(t.service.mailStore, id)).slice(before)) {
      // Stored canonically: no bare CR or LF survives.
      assert.doesNotMatch(m.replace(/\r\n/g, ''), /[\r\n]/);
      assert.match(m, /Subject: smuggled/);
    }
  });

  test('hostile commands: an over-long line gets 500 5.5.2; NUL, garbage, invalid UTF-8, bad syntax — each refused, session survives', async () => {
    const lines = await raw(
      t.port,
      Buffer.concat([
        Buffer.from('EHLO c\r\n'),
        Buffer.from('NOOP ' + 'a'.repeat(3000) + '\r\n'),
      ]),
    );
    // RFC 5321 §4.5.3.1.4: "500 Line too long", not 421.
    assert.ok(lines.some((l) => /^500 5\.5\.2 /.test(l)), lines.join('\n'));
    assert.ok(!lines.some((l) => /^421 /.test(l)), lines.join('\n'));

    const more = await raw(
      t.port,
      Buffer.concat([
        Buffer.from('EHLO c\r\n'),
        Buffer.from('MAIL FROM:<a\0b@client.test>\r\n'),
        Buffer.from('XYZZY\r\n'),
        Buffer.from('MAIL FROM:<s@client.test>\r\n'),
        Buffer.from('RCPT TO:<\xff\xfe@example.com>\r\n', 'latin1'),
        Buffer.from('RCPT TO:<alice@example.com> BOGUS=1\r\n'),
        Buffer.from('RCPT TO:alice\r\n'),
        Buffer.from('RCPT TO:<alice@example.com>\r\n'),
        Buffer.from('QUIT\r\n'),
      ]),
    );
    for (const l of more) assert.match(l, REPLY_LINE, l);
    const replies = more.filter((l) => l[3] === ' ').slice(2); // after greeting and EHLO
    assert.equal(replies.length, 8, more.join('\n'));
    assert.match(replies[0]!, /^5\d\d /, 'NUL in address refused');
    assert.match(replies[1]!, /^500 5\.5\.2 /, 'unknown command');
    assert.match(replies[2]!, /^250 /);
    assert.match(replies[3]!, /^5\d\d /, 'invalid UTF-8 address refused');
    assert.match(replies[4]!, /^5\d\d /, 'unknown RCPT parameter refused');
    assert.match(replies[5]!, /^5\d\d /, 'RCPT without angle brackets refused');
    assert.match(replies[6]!, /^250 2\.1\.5 /, 'the session still works');
    assert.match(replies[7]!, /^221 /);
  });

  test('SMTPUTF8: a UTF-8 address without the parameter gets 553 5.6.7, with it 250', async () => {
    await t.directoryStore.addAccount({ address: '山田@example.com', passwordHash: 'x', quotaBytes: 0 });
    await t.service.directory.refresh();
    const lines = await raw(
      t.port,
      Buffer.from('EHLO c\r\nMAIL FROM:<s@client.test>\r\nRCPT TO:<山田@example.com>\r\nRSET\r\nMAIL FROM:<送信@client.test>\r\nRSET\r\nMAIL FROM:<s@client.test> SMTPUTF8\r\nRCPT TO:<山田@example.com>\r\nQUIT\r\n'),
    );
    const replies = lines.filter((l) => l[3] === ' ').slice(2);
    assert.match(replies[1]!, /^553 5\.6\.7 /);
    assert.match(replies[3]!, /^553 5\.6\.7 /);
    assert.match(replies[6]!, /^250 2\.1\.5 /);
  });

  test('DATA before RCPT and RCPT before MAIL: 503', async () => {
    const lines = await raw(t.port, 'EHLO c\r\nRCPT TO:<alice@example.com>\r\nMAIL FROM:<s@client.test>\r\nDATA\r\nQUIT\r\n');
    const replies = lines.filter((l) => l[3] === ' ').slice(2);
    assert.match(replies[0]!, /^503 5\.5\.1 /);
    assert.match(replies[1]!, /^250 /);
    assert.match(replies[2]!, /^503 5\.5\.1 /);
  });
});

describe('session limits', () => {
  let dir: string;
  let t: TestService;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'smtp.maxSessionSeconds': 2, 'smtp.idleTimeoutSeconds': 1 });
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('idle timeout: 421 and the connection closes', async () => {
    const lines = await raw(t.port, 'EHLO c\r\n');
    assert.match(lines.at(-1)!, /^421 /);
  });

  test('session time limit: 421 4.4.2 even for a busy client', async () => {
    const c = await SmtpClient.open(t.port);
    const last = await c.noopUntilRefused();
    c.destroy();
    assert.equal(last.code, 421);
    assert.match(last.text, /^4\.4\.2 Session time limit/);
  });
});
