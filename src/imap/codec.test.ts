import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommandReader,
  ParseError,
  decodeMutf7,
  encodeMutf7,
  formatDateTime,
  formatSequenceSet,
  inSequenceSet,
  parseCommand,
  parseDateTime,
  parseFetch,
  parseSearch,
  parseSequenceSet,
  str,
  type ReaderEvent,
  type Value,
} from './index.js';

const LIMITS = { maxLine: 8192, maxLiteral: 1_000_000, maxLiterals: 10 };
const feed = (input: string | Buffer, limits = LIMITS, chunk = Infinity): ReaderEvent[] => {
  const r = new CommandReader(limits);
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const out: ReaderEvent[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(chunk, bytes.length)) out.push(...r.push(bytes.subarray(i, i + Math.min(chunk, bytes.length))));
  return out;
};
const frames = (input: string, chunk = Infinity) => feed(input, LIMITS, chunk).filter((e) => e.kind === 'frame').map((e) => (e.kind === 'frame' ? e.frame : undefined)!);
const parse = (line: string) => parseCommand(frames(line + '\r\n')[0]!);
const plain = (v: Value): unknown => (v.kind === 'atom' ? v.text : v.kind === 'string' ? `"${v.data.toString()}"` : v.items.map(plain));

test('IMAP reader: commands with literals of every kind, fed whole and in chunks of every size', () => {
  const input = 'a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\na2 APPEND INBOX (\\Seen) ~{3}\r\nx\r\n\r\na3 NOOP\r\n';
  for (let chunk = 1; chunk <= input.length; chunk++) {
    const events = feed(input, LIMITS, chunk);
    assert.deepEqual(events.map((e) => e.kind), ['continue', 'frame', 'continue', 'frame', 'frame'], `chunk ${chunk}`);
    const [login, append, noop] = events.filter((e) => e.kind === 'frame').map((e) => parseCommand((e as Extract<ReaderEvent, { kind: 'frame' }>).frame));
    assert.deepEqual(login!.args.map(plain), ['"alice"', '"secret"']);
    const lit = append!.args[2]!;
    assert.equal(lit.kind === 'string' && lit.binary, true, 'a ~{n} literal is binary');
    assert.deepEqual(append!.args.map(plain), ['INBOX', ['\\Seen'], '"x\r\n"']);
    assert.equal(noop!.name, 'NOOP');
  }
});

test('IMAP reader: hostile input is refused with the tag, and the next command is read', () => {
  const long = 'a1 NOOP ' + 'x'.repeat(9000) + '\r\na2 NOOP\r\n';
  for (const chunk of [1, 7, 4096, Infinity]) {
    const events = feed(long, LIMITS, chunk);
    assert.equal(events[0]!.kind, 'error', `chunk ${chunk}`);
    const first = events[0]!;
    assert.equal(first.kind === 'error' && first.tag, 'a1');
    assert.equal(events.filter((e) => e.kind === 'frame').length, 1, 'the next command is read');
  }
  const bad = (input: string | Buffer, text: RegExp) => {
    const events = feed(input);
    assert.equal(events[0]!.kind, 'error', String(input));
    assert.match((events[0] as { text: string }).text, text);
    assert.equal(events.filter((e) => e.kind === 'frame').length, 1, 'what follows is read');
  };
  bad(Buffer.from('a1 LOGIN a\0b c\r\na2 NOOP\r\n'), /NUL/);
  bad(Buffer.from('a1 LOGIN a\rb c\r\na2 NOOP\r\n'), /CR/);
  bad(Buffer.concat([Buffer.from('a1 LOGIN \xff\xfe c\r\n', 'latin1'), Buffer.from('a2 NOOP\r\n')]), /UTF-8/);
  bad('a1 APPEND INBOX {2000000}\r\na2 NOOP\r\n', /too large/);
  const fatal = feed('a1 APPEND INBOX {2000000+}\r\n' + 'x'.repeat(100));
  assert.deepEqual(fatal.map((e) => e.kind === 'error' && e.fatal), [true], 'a non-synchronizing literal too large ends the connection');
  const many = feed('a1 X ' + '{1+}\r\nx '.repeat(12) + '\r\na2 NOOP\r\n');
  assert.equal(many[0]!.kind, 'error');
  assert.equal(many.filter((e) => e.kind === 'frame').length, 1);
  // Lenient: a bare LF ends a line.
  assert.equal(frames('a1 NOOP\na2 NOOP\n').length, 2);
});

test('IMAP parser: tags, names, UID commands, atoms with sections, quoted strings and lists', () => {
  const f = parse('A003 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100> BODY[1.2.MIME])');
  assert.equal(f.tag, 'A003');
  assert.equal(f.name, 'UID FETCH');
  assert.deepEqual(f.args.map(plain), ['1:*', ['FLAGS', 'BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100>', 'BODY[1.2.MIME]']]);
  assert.deepEqual(parse('a LOGIN "al\\"ice" "p\\\\w d"').args.map(plain), ['"al"ice"', '"p\\w d"']);
  assert.deepEqual(parse('a SELECT "日本語"').args.map(plain), ['"日本語"']);
  assert.deepEqual(parse('a STORE 1 +FLAGS.SILENT (\\Seen $Label1)').args.map(plain), ['1', '+FLAGS.SILENT', ['\\Seen', '$Label1']]);
  for (const [line, why] of [
    ['+ NOOP', /tag/],
    ['a', /Missing command/],
    ['a  NOOP', /command name/],
    ['a LOGIN "unterminated', /Unterminated/],
    ['a LOGIN "bad\\escape"', /escape/],
    ['a FETCH 1 (FLAGS', /Unterminated list/],
    ['a FETCH 1 FLAGS)', /argument|space/],
    ['a FETCH 1 BODY[', /Unterminated \[/],
    ['a FETCH 1 BODY]', /Unbalanced/],
    ['a X ' + '('.repeat(40) + ')'.repeat(40), /nested/],
    ['a LOGIN  x', /argument/],
  ] as const) {
    assert.throws(() => parse(line), (e: unknown) => e instanceof ParseError && why.test(e.message), line);
  }
  assert.equal((() => { try { parse('t9 LOGIN "x'); } catch (e) { return (e as ParseError).tag; } })(), 't9', 'a parse error keeps the tag');
});

test('IMAP FETCH items: macros, sections, partials, BINARY, modifiers; bad ones named', () => {
  const items = (text: string) => parseFetch(parse(`a FETCH 1 ${text}`).args.slice(1)).items;
  assert.deepEqual(items('FAST').map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  const [peek, mime, whole, bin] = items('(BODY.PEEK[HEADER.FIELDS (from "Subject")]<10.20> BODY[1.2.MIME] RFC822 BINARY[2])') as never[] as {
    label: string; peek: boolean; partial?: unknown; section: unknown; binary: boolean;
  }[];
  assert.equal(peek!.label, 'BODY[HEADER.FIELDS (FROM SUBJECT)]<10>');
  assert.equal(peek!.peek, true);
  assert.deepEqual(peek!.partial, { start: 10, length: 20 });
  assert.deepEqual(mime!.section, { part: [1, 2], text: 'MIME', fields: undefined });
  assert.equal(whole!.label, 'RFC822');
  assert.equal(whole!.peek, false);
  assert.equal(bin!.binary, true);
  const cond = parseFetch(parse('a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)').args.slice(1));
  assert.equal(cond.changedSince, 12345);
  assert.equal(cond.vanished, true);
  assert.ok(cond.items.some((i) => i.kind === 'MODSEQ'), 'CHANGEDSINCE implies MODSEQ');
  for (const bad of ['BODY[0]', 'BODY[MIME]', 'BODY[HEADER.FIELDS]', 'BODY[1.TEXTX]', 'BINARY[HEADER]', 'BODY[]<5.0>', 'NOPE', '(FLAGS "x")', '(FLAGS) (VANISHED)', '(FLAGS) (CHANGEDSINCE x)']) {
    assert.throws(() => parseFetch(parse(`a FETCH 1 ${bad}`).args.slice(1)), ParseError, bad);
  }
});

test('IMAP SEARCH: criteria, nesting, OR/NOT, dates, CHARSET and RETURN; bad ones named', () => {
  const s = parseSearch(parse('a SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM "alice" (SUBJECT 会議 UNSEEN) NOT LARGER 1000 SINCE 1-Feb-2026 1:5,9 UID 3:* MODSEQ 7').args);
  assert.deepEqual(s.returns, ['MIN', 'COUNT']);
  assert.equal(s.key.op, 'and');
  const keys = (s.key as { keys: readonly { op: string }[] }).keys.map((k) => k.op);
  assert.deepEqual(keys, ['or', 'not', 'date', 'seq', 'uid', 'modseq']);
  assert.deepEqual(parseSearch(parse('a SEARCH UNSEEN').args).key, { op: 'flag', flag: '\\Seen', set: false });
  for (const bad of ['', 'CHARSET KOI8-R ALL', 'SINCE 31-Feb-2026', 'LARGER x', 'FROM', 'OR ALL', 'BOGUS', 'RETURN (WHAT) ALL', '()', 'NOT '.repeat(40) + 'ALL']) {
    assert.throws(() => parseSearch(parse(`a SEARCH ${bad}`.trimEnd()).args), ParseError, bad);
  }
  assert.throws(() => parseSearch(parse('a SEARCH ' + 'ALL '.repeat(1200).trim()).args), /too many/);
});

test('IMAP sequence sets, dates and strings', () => {
  const set = parseSequenceSet('1:3,7,9:*')!;
  assert.deepEqual([1, 3, 4, 7, 8, 9, 12].map((n) => inSequenceSet(set, n, 12)), [true, true, false, true, false, true, true]);
  assert.equal(inSequenceSet(parseSequenceSet('20:*')!, 12, 12), true, '"N:*" past the end still takes the last');
  for (const bad of ['', '0', '1:', ':2', '1,,2', 'a', '99999999999', '4294967296']) assert.equal(parseSequenceSet(bad), undefined, bad);
  assert.equal(formatSequenceSet([5, 1, 2, 3, 9]), '1:3,5,9');
  const t = parseDateTime('17-Jul-1996 02:44:25 -0700')!;
  assert.equal(new Date(t).toISOString(), '1996-07-17T09:44:25.000Z');
  assert.equal(formatDateTime(t), '17-Jul-1996 09:44:25 +0000');
  assert.equal(parseDateTime(' 7-Jul-1996 02:44:25 +0000') !== undefined, true);
  for (const bad of ['32-Jul-1996 02:44:25 -0700', '17-Jux-1996 02:44:25 -0700', '17-Jul-1996 25:44:25 -0700', '17-Jul-1996']) assert.equal(parseDateTime(bad), undefined, bad);
  assert.deepEqual(str('plain'), ['"plain"']);
  assert.deepEqual(str('a"b\\c'), ['"a\\"b\\\\c"']);
  assert.deepEqual(str('two\r\nlines'), ['{10}\r\n', Buffer.from('two\r\nlines')]);
  assert.deepEqual(str('日本', false), ['{6}\r\n', Buffer.from('日本')]);
});

test('modified UTF-7: RFC 3501 examples, round trips, invalid input', () => {
  assert.equal(encodeMutf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  assert.equal(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(encodeMutf7('A&B'), 'A&-B');
  for (const name of ['Entwürfe', '送信済み', 'a&b/c', '😀 emoji', 'plain']) assert.equal(decodeMutf7(encodeMutf7(name)), name);
  for (const bad of ['&Jjo!', '&U,BTFw', '&AGE-', '\x01', '&2D0-']) assert.equal(decodeMutf7(bad), undefined, bad);
});

test('IMAP codec fuzz: random and mutated input never throws anything but a ParseError', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), (seed >>> 8) % n);
  const seeds = ['a1 UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From)]<0.10>)', 'a SEARCH OR (FROM x) NOT SEEN', 'a APPEND INBOX (\\Seen) {3+}\r\nabc', 'a STORE 1 +FLAGS (\\Seen)'];
  const alphabet = '()[]{}<>"\\ *%:.,+~\r\n\0abcAZ019\xff';
  for (let i = 0; i < 3000; i++) {
    let text = seeds[rand(seeds.length)]!;
    for (let m = rand(6); m >= 0; m--) {
      const at = rand(text.length + 1);
      text = rand(2) ? text.slice(0, at) + alphabet[rand(alphabet.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
    }
    for (const e of feed(Buffer.from(text + '\r\n', 'latin1'), { maxLine: 200, maxLiteral: 50, maxLiterals: 3 }, 1 + rand(8))) {
      if (e.kind !== 'frame') continue;
      try {
        const cmd = parseCommand(e.frame);
        if (cmd.name.endsWith('FETCH')) parseFetch(cmd.args.slice(1));
        if (cmd.name.endsWith('SEARCH')) parseSearch(cmd.args);
      } catch (err) {
        assert.ok(err instanceof ParseError, `${JSON.stringify(text)}: ${err}`);
      }
    }
  }
});
