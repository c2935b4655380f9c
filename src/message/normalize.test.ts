import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineNormalizer } from './normalize.js';

function runChunked(input: Buffer, size: number): { out: string; longest: number; rewrote: boolean } {
  const n = new LineNormalizer();
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) parts.push(n.push(input.subarray(i, i + size)));
  parts.push(n.end());
  return { out: Buffer.concat(parts).toString('latin1'), longest: n.longestLine, rewrote: n.rewrote };
}

const CASES: [input: string, expected: string, longest: number, rewrote: boolean][] = [
  ['a\r\nbb\r\n', 'a\r\nbb\r\n', 2, false],
  ['a\nbb\n', 'a\r\nbb\r\n', 2, true],
  ['a\rbb\r', 'a\r\nbb\r\n', 2, true],
  ['a\r\r\nb', 'a\r\n\r\nb', 1, true],
  ['\n.\n', '\r\n.\r\n', 1, true],
  ['x\r\n.\r', 'x\r\n.\r\n', 1, true],
  ['', '', 0, false],
  ['abcdef', 'abcdef', 6, false],
  ['\0\xff\r\n', '\0\xff\r\n', 2, false],
];

test('line endings become CRLF, in chunks of every size', () => {
  for (const [input, expected, longest, rewrote] of CASES) {
    const buf = Buffer.from(input, 'latin1');
    for (let size = 1; size <= Math.max(1, buf.length); size++) {
      const r = runChunked(buf, size);
      assert.equal(r.out, expected, `${JSON.stringify(input)} in chunks of ${size}`);
      assert.equal(r.longest, longest, `longest line of ${JSON.stringify(input)}`);
      assert.equal(r.rewrote, rewrote);
    }
  }
});

test('random input: output has no bare CR or LF and keeps every other byte', () => {
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 300) }, () => [13, 10, 46, 65, 0, 255][Math.floor(Math.random() * 6)]!));
    const size = 1 + Math.floor(Math.random() * 17);
    const { out } = runChunked(bytes, size);
    assert.doesNotMatch(out.replace(/\r\n/g, ''), /[\r\n]/);
    assert.equal(out.replace(/[\r\n]/g, ''), bytes.toString('latin1').replace(/[\r\n]/g, ''));
  }
});

test('random input in random chunks: the same as every CR, LF and CRLF made one CRLF, with the longest line counted', () => {
  for (let round = 0; round < 300; round++) {
    const alphabet = [13, 10, 46, 65, 0, 255, 32];
    const bytes = Buffer.from(Array.from({ length: Math.floor(Math.random() * 2000) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]!));
    const n = new LineNormalizer();
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; ) {
      const size = Math.floor(Math.random() * 300);
      parts.push(n.push(bytes.subarray(i, i + size)));
      i += size;
    }
    parts.push(n.end());
    const expected = bytes.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
    assert.equal(Buffer.concat(parts).toString('latin1'), expected);
    assert.equal(n.longestLine, Math.max(...expected.split('\r\n').map((l) => l.length)));
    assert.equal(n.rewrote, /\r(?!\n)|(?<!\r)\n/.test(bytes.toString('latin1')));
  }
});
