import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesIn, autoReplyRefusal, composeAutoReply, decodeWords, encodeWords } from './autoreply.js';
import { parseHeaderFields } from './headers.js';

const fields = (text: string) => parseHeaderFields(Buffer.from(text.replace(/\n/g, '\r\n') + '\r\n\r\n'));
const ctx = { mailFrom: 'sender@client.test', ownAddresses: ['taro@a.test', 'sales@a.test'] };

test('RFC 3834 §2: who gets no automatic reply', () => {
  const plain = 'From: s@client.test\nTo: "Taro" <Taro@A.test>\nSubject: hi';
  assert.equal(autoReplyRefusal(fields(plain), ctx), undefined);
  assert.equal(autoReplyRefusal(fields(plain), { ...ctx, mailFrom: '' }), 'null sender');
  assert.equal(autoReplyRefusal(fields(plain), { ...ctx, mailFrom: 'MAILER-DAEMON@client.test' }), 'sender is a machine');
  assert.equal(autoReplyRefusal(fields(plain), { ...ctx, mailFrom: 'news-request@list.test' }), 'sender is a machine');
  assert.equal(autoReplyRefusal(fields(`${plain}\nAuto-Submitted: auto-replied`), ctx), 'automatically submitted');
  assert.equal(autoReplyRefusal(fields(`${plain}\nAuto-Submitted: no`), ctx), undefined);
  assert.equal(autoReplyRefusal(fields(`${plain}\nPrecedence: Bulk`), ctx), 'bulk or list mail');
  assert.equal(autoReplyRefusal(fields(`${plain}\nList-Id: <news.list.test>`), ctx), 'list mail');
  assert.equal(autoReplyRefusal(fields('From: s@client.test\nTo: all@a.test\nSubject: hi'), ctx), 'the user is not in To or Cc');
  assert.equal(autoReplyRefusal(fields('From: s@client.test\nTo: x@y.test,\n  "a, b" <sales@a.test>\nSubject: hi'), ctx), undefined, 'folded To, an alias of the user');
  assert.equal(autoReplyRefusal(fields('From: s@client.test\nCc: taro@a.test'), ctx), undefined);
  assert.equal(autoReplyRefusal(fields('From: s@client.test\nTo: "taro@a.test" <other@y.test>'), ctx), 'the user is not in To or Cc', 'a display name is not an address');
});

test('addresses in To/Cc values: bracketed, bare, groups, comments', () => {
  assert.deepEqual(addressesIn(['A <a@x.test>, b@y.test (Bee)', 'grp: c@z.test;']), ['a@x.test', 'b@y.test', 'c@z.test']);
});

test('encoded words: ASCII stays, Japanese becomes UTF-8 B words of at most 75 characters', () => {
  assert.equal(encodeWords('Out of office'), 'Out of office');
  const enc = encodeWords('不在のお知らせ：十二月二十日から一月五日まで休暇をいただいております');
  for (const word of enc.split('\r\n ')) {
    assert.ok(word.length <= 75, word);
    assert.match(word, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
  }
  const decoded = enc.split('\r\n ').map((w) => Buffer.from(w.slice(10, -2), 'base64').toString()).join('');
  assert.equal(decoded, '不在のお知らせ：十二月二十日から一月五日まで休暇をいただいております');
  assert.equal(encodeWords('a\r\nBcc: x@y.test'), 'a Bcc: x@y.test', 'no header injection');
});

test('the reply: Auto-Submitted, In-Reply-To, References, the subject and a UTF-8 body', () => {
  const original = fields('From: s@client.test\nTo: taro@a.test\nSubject: Meeting\nMessage-ID: <m1@client.test>\nReferences: <m0@client.test>');
  const reply = composeAutoReply({ from: 'taro@a.test', to: 's@client.test', subject: '', text: '休暇中です。\n1月5日に戻ります。', original, hostname: 'mx.a.test', date: new Date(0) }).toString();
  const [head, body] = reply.split('\r\n\r\n');
  assert.match(head!, /^Subject: Auto: Meeting$/m);
  assert.match(head!, /^In-Reply-To: <m1@client.test>$/m);
  assert.match(head!, /^References: <m0@client.test> <m1@client.test>$/m);
  assert.match(head!, /^Auto-Submitted: auto-replied$/m);
  assert.match(head!, /^Content-Transfer-Encoding: base64$/m);
  assert.equal(Buffer.from(body!.replace(/\r\n/g, ''), 'base64').toString(), '休暇中です。\r\n1月5日に戻ります。');
});

test('encoded words decode: B and Q, UTF-8, ISO-2022-JP and Shift_JIS, adjacent words joined; broken ones stay', () => {
  assert.equal(decodeWords(encodeWords('至急：見積書の件について確認をお願いいたします')), '至急：見積書の件について確認をお願いいたします');
  assert.equal(decodeWords('=?ISO-2022-JP?B?GyRCO2o1XhsoQg==?= report'), '至急 report');
  assert.equal(decodeWords('=?shift_jis?B?gXmOiot9gXo=?='), '【至急】');
  assert.equal(decodeWords('=?utf-8?q?caf=C3=A9_ok?='), 'café ok');
  assert.equal(decodeWords('=?x-unknown?B?AAAA?= and =?utf-8?B?!!!?='), '=?x-unknown?B?AAAA?= and =?utf-8?B?!!!?=');
  assert.equal(decodeWords('plain subject'), 'plain subject');
});
