import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, parseLineCount, parseMessageNumber } from './command.js';
import { Pop3Encoder, retrBody, sendsAsStored } from './stuffing.js';

function encode(input: string, size: number, lines?: number): string {
  const e = new Pop3Encoder(lines);
  const buf = Buffer.from(input, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length && !e.finished; i += size) parts.push(e.push(buf.subarray(i, i + size)));
  parts.push(e.end());
  return Buffer.concat(parts).toString('latin1');
}

const RETR: [string, string][] = [
  ['A: b\r\n\r\nbody\r\n', 'A: b\r\n\r\nbody\r\n.\r\n'],
  ['A: b\n\n.dot\n..two\n', 'A: b\r\n\r\n..dot\r\n...two\r\n.\r\n'],
  ['A: b\r\rx\r', 'A: b\r\n\r\nx\r\n.\r\n'],
  ['.\r\n', '..\r\n.\r\n'],
  ['no final newline', 'no final newline\r\n.\r\n'],
  ['', '.\r\n'],
];

test('RETR encoding: CRLF everywhere, dot-stuffing, terminator — in chunks of every size', () => {
  for (const [input, expected] of RETR) {
    for (let size = 1; size <= Math.max(1, input.length); size++) assert.equal(encode(input, size), expected, `${JSON.stringify(input)} / ${size}`);
  }
});

test('TOP: header, blank line, then n body lines', () => {
  const msg = 'A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n';
  for (let size = 1; size <= msg.length; size++) {
    assert.equal(encode(msg, size, 0), 'A: 1\r\nB: 2\r\n\r\n.\r\n');
    assert.equal(encode(msg, size, 2), 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n');
    assert.equal(encode(msg, size, 99), 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n');
  }
});

test('random messages: the client-side un-stuffing gives back the CRLF-normalized message', () => {
  for (let round = 0; round < 300; round++) {
    const input = Array.from({ length: Math.floor(Math.random() * 200) }, () => ['.', '\r', '\n', 'a', ' '][Math.floor(Math.random() * 5)]).join('');
    const out = encode(input, 1 + Math.floor(Math.random() * 13));
    assert.ok(out.endsWith('\r\n.\r\n') || out === '.\r\n');
    const lines = out.slice(0, -3).split('\r\n').slice(0, -1);
    for (const l of lines) assert.ok(!l.startsWith('.') || l.startsWith('..'), 'every dot line is stuffed');
    assert.doesNotMatch(out.replace(/\r\n/g, ''), /[\r\n]/);
  }
});

test('command parsing: keywords, arguments, hostile input', () => {
  assert.deepEqual(parseCommand(Buffer.from('retr 1')), { ok: true, command: { keyword: 'RETR', args: ['1'] } });
  assert.deepEqual(parseCommand(Buffer.from('QUIT')), { ok: true, command: { keyword: 'QUIT', args: [] } });
  for (const bad of ['', ' ', 'X', '1234', 'RE\0TR 1', 'RETR\r1', 'x'.repeat(2000)]) assert.equal(parseCommand(Buffer.from(bad)).ok, false, JSON.stringify(bad.slice(0, 20)));
  assert.equal(parseCommand(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xff, 0xfe])).ok, false, 'invalid UTF-8');
  assert.equal(parseMessageNumber('3', 5), 3);
  for (const bad of [undefined, '0', '-1', '6', 'x', '1.5', '01', '99999999999', '']) assert.equal(parseMessageNumber(bad, 5), undefined, String(bad));
  assert.equal(parseLineCount('0'), 0);
  assert.equal(parseLineCount('-1'), undefined);
});

test('a whole message for RETR: sent as stored when it is clean CRLF without leading dots, else encoded as the streaming encoder does', () => {
  const clean = Buffer.from('Subject: x\r\n\r\nline one\r\nline two\r\n');
  const parts = retrBody(clean);
  assert.equal(parts[0], clean, 'the stored buffer itself, not a copy');
  assert.equal(Buffer.concat(parts).toString(), 'Subject: x\r\n\r\nline one\r\nline two\r\n.\r\n');
  for (const odd of ['Subject: x\r\n\r\n.dot\r\n', '.first\r\n', 'bare\nlf\r\n', 'bare\rcr\r\n', 'no end', 'x\r\n\r', '', 'a\r\n\n']) {
    const whole = Buffer.concat(retrBody(Buffer.from(odd)));
    const e = new Pop3Encoder();
    assert.equal(whole.toString('latin1'), Buffer.concat([e.push(Buffer.from(odd)), e.end()]).toString('latin1'), JSON.stringify(odd));
    assert.ok(!sendsAsStored(Buffer.from(odd)), JSON.stringify(odd));
  }
});
