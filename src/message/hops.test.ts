import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HopCounter } from './hops.js';

const message = Buffer.from(
  'Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n' +
    'RECEIVED : from c\r\n\tby d; Mon, 1 Jan 2024 00:00:00 +0000\r\n' +
    'X-Received: not a trace field\r\n' +
    'Subject: Received: in a subject\r\n' +
    'received:from e\r\n' +
    '\r\n' +
    'Received: in the body does not count\r\n',
);

test('counts Received: fields of the header section only, whatever the chunk size', () => {
  for (let size = 1; size <= message.length; size++) {
    const c = new HopCounter();
    for (let i = 0; i < message.length; i += size) c.push(message.subarray(i, i + size));
    assert.equal(c.hops, 3, `chunks of ${size}`);
  }
});

test('hostile input: NUL, invalid UTF-8, bare CR and LF, an endless header line', () => {
  const c = new HopCounter();
  c.push(Buffer.from([0x52, 0x65, 0x63, 0x65, 0x69, 0x76, 0x65, 0x64, 0x3a, 0x00, 0xff, 0xfe, 0x0d, 0x0a]));
  c.push(Buffer.from('Received: a\rReceived: b\nReceived: c\r\n'));
  assert.equal(c.hops, 2, 'bare CR and LF do not end a line');
  c.push(Buffer.alloc(200 * 1024, 0x61));
  c.push(Buffer.from('\r\nReceived: d\r\n\r\nReceived: e\r\n'));
  assert.equal(c.hops, 3);
});
