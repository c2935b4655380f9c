import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { installDataReader, libraryFeedData } from './data-reader.js';

installDataReader();
const ours = (SMTPStream.prototype as unknown as { _feedDataStream: unknown })._feedDataStream;

interface Outcome {
  data: string;
  dataBytes: number;
  sizeExceeded: boolean;
  /** Commands the parser read after the data, as smtp-server hands them on. */
  commands: string[];
}

/**
 * Feeds `chunks` to a real SMTPStream in data mode (as smtp-server's connection does after
 * DATA's 354), with the given reader, and returns what it made of them.
 */
async function read(chunks: readonly Buffer[], reader: unknown, maxBytes = 0): Promise<Outcome> {
  const stream = new SMTPStream();
  (stream as unknown as { _feedDataStream: unknown })._feedDataStream = reader;
  const commands: string[] = [];
  stream.oncommand = (command: Buffer, next?: () => void) => {
    commands.push(command.toString('latin1'));
    next?.();
  };
  const out = stream.startDataMode(maxBytes || undefined) as unknown as NodeJS.ReadableStream & { byteLength: number; sizeExceeded: boolean };
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise<void>((r) =>
    out.once('end', () => {
      stream.continue();
      r();
    }),
  );
  for (const c of chunks) await new Promise<void>((r, j) => stream.write(c, (err) => (err ? j(err) : r())));
  await ended;
  await new Promise<void>((r) => stream.end(r));
  return { data: Buffer.concat(parts).toString('latin1'), dataBytes: stream.dataBytes, sizeExceeded: out.sizeExceeded, commands };
}

/** `input` cut at the given places. */
function cut(input: Buffer, at: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const a of [...at].map((x) => Math.min(x, input.length)).sort((x, y) => x - y)) {
    if (a <= from) continue;
    out.push(input.subarray(from, a));
    from = a;
  }
  if (from < input.length) out.push(input.subarray(from));
  return out;
}

const TAIL = '\r\n.\r\nNOOP\r\nQUIT\r\n';
/** A reader that loses track never ends the data: fail then, not after the runner's 10 minutes. */
const BOUNDED = { timeout: 60_000 };

async function same(input: Buffer, at: readonly number[], maxBytes = 0): Promise<Outcome> {
  const chunks = cut(input, at);
  const expected = await read(chunks, libraryFeedData, maxBytes);
  const actual = await read(chunks, ours, maxBytes);
  assert.deepEqual(actual, expected, `input ${JSON.stringify(input.toString('latin1'))} cut at ${JSON.stringify(at)}`);
  return actual;
}

test('data: dot-stuffing is undone, the final dot ends the data, and the pipelined commands after it are read', BOUNDED, async () => {
  const input = Buffer.from(`Subject: x\r\n\r\n..leading dot\r\n...two\r\n.\r\nQUIT\r\n`);
  const got = await same(input, []);
  assert.equal(got.data, 'Subject: x\r\n\r\n.leading dot\r\n..two\r\n');
  assert.deepEqual(got.commands, ['QUIT']);
  assert.equal(got.dataBytes, got.data.length);
});

test('data: an empty body, and a body that starts with an escaped dot, read as the library reads them', BOUNDED, async () => {
  assert.equal((await same(Buffer.from(`.\r\nQUIT\r\n`), [])).data, '');
  assert.equal((await same(Buffer.from(`..\r\n.\r\nQUIT\r\n`), [1])).data, '.\r\n');
  assert.equal((await same(Buffer.from(`..x\r\n.\r\nQUIT\r\n`), [])).data, '.x\r\n');
});

test('data: the terminator cut at every place, and a body of nothing but stuffed dots, read as the library reads them', BOUNDED, async () => {
  const input = Buffer.from(`a\r\n..\r\n..\r\n.\r\n..b\r\n${TAIL}`);
  for (let i = 0; i <= input.length; i++) {
    await same(input, [i]);
    await same(input, [i, i + 1, i + 3]);
  }
  await same(Buffer.from('..\r\n'.repeat(5000) + TAIL), [4096, 8192, 8193]);
  // Every byte its own chunk.
  await same(input, Array.from({ length: input.length }, (_, i) => i));
});

test('data: bare LF, bare CR, NUL and invalid UTF-8 around dots read as the library reads them', BOUNDED, async () => {
  const input = Buffer.concat([Buffer.from('x\n.\n..\n.\r\n\r.\r\n\0.\n'), Buffer.from([0xff, 0xfe, 0x0a, 0x2e, 0x2e, 0xc3]), Buffer.from(TAIL)]);
  for (let i = 0; i <= input.length; i++) await same(input, [i]);
});

test('data: the size limit is seen as the library sees it', BOUNDED, async () => {
  const input = Buffer.from('y'.repeat(300) + '\r\n..z\r\n' + TAIL);
  const got = await same(input, [100, 200], 128);
  assert.equal(got.sizeExceeded, true);
  assert.equal((await same(input, [], 100_000)).sizeExceeded, false);
});

test('data: 2,000 random bodies cut at random places read exactly as the library reads them', BOUNDED, async () => {
  // A seeded generator, so that a failure can be repeated.
  let seed = 20261207;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = ['\r\n', '\n', '\r', '.', '..', '\r\n.', '\r\n..', '\n..', 'abc', '\0', '\xff', '\r\n.\r\n', '.\r\n'];
  for (let n = 0; n < 2000; n++) {
    const body = Array.from({ length: random(40) }, () => pieces[random(pieces.length)]).join('');
    const input = Buffer.from(body + TAIL, 'latin1');
    const at = Array.from({ length: random(6) }, () => random(input.length + 1));
    await same(input, at);
  }
});
