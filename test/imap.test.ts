import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ImapFlow } from 'imapflow';
import { FaultInjectingMailStore } from '../src/mailstore/index.js';
import { OPEN_POLICY } from '../src/directory/index.js';
import { IMAPLIB_SESSION, POPLIB_SESSION, SMTPLIB_SEND } from './helpers/py.js';
import { mailboxMessages, python, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

const PW = 'test-password';

interface ImapResult {
  greeting: string;
  login: [string, string[]];
  capabilities: string[];
  results: [string, unknown[]][];
}

/** Sends `data` on a fresh connection and returns everything the server says until it closes or is silent for `quietMs`. */
export async function rawImap(port: number, data: string | Buffer, quietMs = 800): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      quiet();
    });
    socket.on('close', done).on('error', done);
    socket.once('connect', () => {
      socket.write(data);
      quiet();
    });
  });
}

const MULTIPART = [
  'From: "Tanaka, Taro" <taro@client.test>',
  'To: bob@example.com, team: a@x.test, b@x.test;',
  'Subject: =?UTF-8?B?5Lya6K2w?= minutes',
  'Date: Sun, 06 Dec 2026 09:00:00 +0900',
  'Message-ID: <m1@client.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  'preamble',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Agenda: caf=C3=A9 budget',
  '--b1',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQ=',
  '--b1--',
  '',
].join('\r\n');

describe('IMAP', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let ids: Map<string, number>;
  const imap = (mode: 'plain' | 'starttls' | 'ssl', user: string, steps: unknown[][], password = PW) =>
    python<ImapResult>(IMAPLIB_SESSION, [mode === 'ssl' ? t.imapsPort : t.imapPort, mode, user, password, JSON.stringify(steps)]);
  const smtp = async (to: string, body: string) => assert.equal((await python<{ code: number }>(SMTPLIB_SEND, [t.port, 0, 's@client.test', to, body])).code, 250);
  const inbox = async (account: string) => mailboxMessages(t.service.mailStore, ids.get(account)!);
  const flow = (user: string, extra: Record<string, unknown> = {}) =>
    new ImapFlow({ host: '127.0.0.1', port: t.imapsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user, pass: PW }, logger: false, ...extra });

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'imap.storeTimeoutMs': 400, 'auth.maxFailuresPerAccount': 3 }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    ids = await seedDirectory(t.directoryStore, 'example.com', ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'sync', 'searcher', 'throttled', 'rev2', 'noimap']);
    await t.service.directory.refresh();
  });

  after(async () => {
    faulty.setFault({ kind: 'none' }, 'reads');
    await t.stop();
    removeDir(dir);
  });

  test('imaplib over STARTTLS and implicit TLS: special-use folders listed, SMTP in → BODY.PEEK[] byte-exact, \\Seen only without PEEK', async () => {
    const body = 'Subject: imap\r\nFrom: s@client.test\r\n\r\n.starts with a dot\r\nline two\r\n';
    await smtp('alice@example.com', body);
    assert.ok(await waitFor(async () => (await inbox('alice@example.com')).length === 1));
    const [stored] = await inbox('alice@example.com');
    for (const mode of ['starttls', 'ssl'] as const) {
      const r = await imap(mode, 'alice@example.com', [['list'], ['select', 'INBOX'], ['fetch', '1', '(BODY.PEEK[] FLAGS RFC822.SIZE)'], ['fetch', '1', '(FLAGS)']]);
      assert.match(r.greeting, /^\* OK \[CAPABILITY [^\]]*IMAP4rev2[^\]]*\] /);
      assert.equal(r.login[0], 'OK');
      assert.ok(r.capabilities.includes('IDLE') && r.capabilities.includes('MOVE') && !r.capabilities.includes('STARTTLS'), r.capabilities.join(' '));
      const [list, select, fetch, flags] = r.results;
      assert.deepEqual(
        (list![1] as string[]).sort(),
        ['(\\HasNoChildren \\Archive) "/" "Archive"', '(\\HasNoChildren \\Drafts) "/" "Drafts"', '(\\HasNoChildren) "/" "INBOX"', '(\\HasNoChildren \\Junk) "/" "Junk"', '(\\HasNoChildren \\Sent) "/" "Sent"', '(\\HasNoChildren \\Trash) "/" "Trash"'].sort(),
      );
      assert.deepEqual(select, ['OK', ['1']]);
      const [head, literal] = (fetch![1] as [string, string][])[0]!;
      assert.equal(literal, stored, `${mode}: the message as stored, byte for byte`);
      assert.match(JSON.stringify(fetch), new RegExp(`RFC822\\.SIZE ${Buffer.byteLength(stored!)}`));
      assert.match(JSON.stringify(fetch), /FLAGS \(\)/);
      assert.match(head, /^1 \(BODY\[\] \{\d+\}$/);
      assert.deepEqual(flags, ['OK', ['1 (FLAGS ())']], 'PEEK leaves \\Seen alone');
    }
    const seen = await imap('plain', 'alice@example.com', [['select', 'INBOX'], ['fetch', '1', '(BODY[TEXT])'], ['fetch', '1', '(FLAGS)']]);
    assert.equal((seen.results[1]![1] as [string, string][])[0]![1], '.starts with a dot\r\nline two\r\n');
    assert.deepEqual(seen.results[2], ['OK', ['1 (FLAGS (\\Seen))']]);
  });

  test('FETCH of a multipart message: ENVELOPE, BODYSTRUCTURE, parts by number, headers by name, BINARY and partial ranges', async () => {
    const r = await imap('plain', 'bob@example.com', [
      ['append', 'INBOX', '(\\Flagged)', '"06-Dec-2026 09:00:00 +0900"', { b: MULTIPART }],
      ['select', 'INBOX'],
      ['fetch', '1', '(ENVELOPE BODYSTRUCTURE INTERNALDATE FLAGS)'],
      ['fetch', '1', '(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2] BINARY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)] BODY.PEEK[]<0.4>)'],
      ['fetch', '1', '(BODY.PEEK[3] BODY.PEEK[1.1.1])'],
    ]);
    assert.match(r.results[0]![1]![0] as string, /^\[APPENDUID \d+ 1\]/);
    const meta = r.results[2]![1]![0] as string;
    assert.ok(
      meta.includes('ENVELOPE ("Sun, 06 Dec 2026 09:00:00 +0900" "=?UTF-8?B?5Lya6K2w?= minutes" (("Tanaka, Taro" NIL "taro" "client.test")) (("Tanaka, Taro" NIL "taro" "client.test")) (("Tanaka, Taro" NIL "taro" "client.test")) ((NIL NIL "bob" "example.com")(NIL NIL "team" NIL)(NIL NIL "a" "x.test")(NIL NIL "b" "x.test")(NIL NIL NIL NIL)) NIL NIL NIL "<m1@client.test>")'),
      meta,
    );
    assert.ok(
      meta.includes('BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 24 1 NIL NIL NIL NIL)("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 8 NIL ("attachment" ("FILENAME" "data.bin")) NIL NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL NIL)'),
      meta,
    );
    assert.ok(meta.includes('INTERNALDATE "06-Dec-2026 00:00:00 +0000"'), meta);
    assert.ok(meta.includes('FLAGS (\\Flagged)'), meta);
    const parts = (r.results[3]![1] as unknown[]).filter((x): x is [string, string] => Array.isArray(x)).map(([k, v]) => [k.replace(/^.*?((?:BODY|BINARY)\[[^\]]*\](?:<\d+>)?) ~?\{\d+\}$/, '$1'), v]);
    assert.deepEqual(Object.fromEntries(parts), {
      'BODY[1]': 'Agenda: caf=C3=A9 budget',
      'BODY[1.MIME]': 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
      'BODY[2]': 'AAECAwQ=',
      'BINARY[1]': Buffer.from('Agenda: café budget').toString('latin1'),
      'BINARY[2]': '\x00\x01\x02\x03\x04',
      'BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)]': 'Subject: =?UTF-8?B?5Lya6K2w?= minutes\r\nMessage-ID: <m1@client.test>\r\n\r\n',
      'BODY[]<0>': 'From',
    });
    assert.match(JSON.stringify(r.results[3]), /BINARY\.SIZE\[2\] 5/);
    assert.match(JSON.stringify(r.results[4]), /BODY\[3\] \\"\\"/, 'a part that does not exist is empty');
  });

  test('a message deleted over IMAP is gone for POP3, and one deleted over POP3 is expunged in IMAP', async () => {
    await smtp('carol@example.com', 'Subject: one\r\n\r\nfirst\r\n');
    await smtp('carol@example.com', 'Subject: two\r\n\r\nsecond\r\n');
    assert.ok(await waitFor(async () => (await inbox('carol@example.com')).length === 2));
    const del = await imap('plain', 'carol@example.com', [['select', 'INBOX'], ['store', '1', '+FLAGS', '(\\Deleted)'], ['expunge']]);
    assert.deepEqual(del.results[2], ['OK', ['1']]);
    const pop = await python<{ results: unknown[] }>(POPLIB_SESSION, [t.pop3Port, 'plain', 'carol@example.com', PW, JSON.stringify([['stat'], ['retr', 1], ['dele', 1]])]);
    assert.equal((pop.results[0] as number[])[0], 1, 'POP3 sees one message left');
    assert.match(pop.results[1] as string, /second/);
    const client = flow('carol@example.com');
    await client.connect();
    try {
      await client.mailboxOpen('INBOX');
      assert.equal(client.mailbox && client.mailbox.exists, 0, 'IMAP sees POP3\'s delete');
    } finally {
      await client.logout();
    }
  });

  test('POP3 DELE while an IMAP session has INBOX selected: NOOP reports the EXPUNGE', async () => {
    await smtp('dave@example.com', 'Subject: a\r\n\r\na\r\n');
    assert.ok(await waitFor(async () => (await inbox('dave@example.com')).length === 1));
    const client = flow('dave@example.com');
    const expunged: number[] = [];
    client.on('expunge', (e: { seq: number }) => expunged.push(e.seq));
    await client.connect();
    try {
      await client.mailboxOpen('INBOX');
      assert.equal(client.mailbox && client.mailbox.exists, 1);
      await python(POPLIB_SESSION, [t.pop3Port, 'plain', 'dave@example.com', PW, JSON.stringify([['dele', 1]])]);
      await client.noop();
      assert.deepEqual(expunged, [1]);
    } finally {
      await client.logout();
    }
  });

  test('imapflow: IDLE hears a delivery, CONDSTORE fetches what changed, MOVE answers COPYUID, QRESYNC reports what vanished', async () => {
    const client = flow('erin@example.com', { qresync: true });
    await client.connect();
    try {
      const box = await client.mailboxOpen('INBOX');
      const heard = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
      void client.idle();
      await smtp('erin@example.com', 'Subject: push\r\n\r\nwake up\r\n');
      const count = await Promise.race([heard, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      assert.equal(count, 1, 'the IDLE session heard of the new message');
      const before = client.mailbox ? BigInt(client.mailbox.highestModseq ?? 0) : 0n;
      assert.ok(before > 0n, 'HIGHESTMODSEQ is given');
      await client.messageFlagsAdd('1', ['$Important'], { uid: false });
      const changed: { uid: number; flags: Set<string>; modseq: bigint }[] = [];
      for await (const m of client.fetch('1:*', { uid: true, flags: true }, { changedSince: before })) changed.push(m as never);
      assert.deepEqual(changed.map((m) => [...m.flags]), [['$Important']]);
      assert.ok(changed[0]!.modseq > before);
      const moved = await client.messageMove('1:*', 'Archive');
      assert.ok(moved && moved.uidMap && moved.uidMap.size === 1, 'COPYUID maps the moved message');
      assert.equal(client.mailbox && client.mailbox.exists, 0);
      const archive = await client.status('Archive', { messages: true, uidValidity: true });
      assert.equal(archive && archive.messages, 1);
      assert.ok(box.uidValidity > 0n);
    } finally {
      await client.logout();
    }
    const again = flow('erin@example.com', { qresync: true });
    const vanished: unknown[] = [];
    again.on('expunge', (e: unknown) => vanished.push(e));
    await again.connect();
    try {
      await again.mailboxOpen('INBOX');
      assert.equal(again.mailbox && again.mailbox.exists, 0);
    } finally {
      await again.logout();
    }
  });

  test('IDLE: after the continuation, a delivery is told as EXISTS before DONE; DONE ends it', async () => {
    const socket = connect(t.imapPort, '127.0.0.1');
    let text = '';
    const seen = (re: RegExp) => waitFor(() => re.test(text), 10_000, 20);
    socket.on('data', (d) => (text += d.toString('latin1')));
    try {
      socket.write(`a LOGIN frank@example.com ${PW}\r\nb SELECT INBOX\r\nc IDLE\r\n`);
      assert.ok(await seen(/\r\n\+ idling\r\n/), text);
      const before = text.length;
      await smtp('frank@example.com', 'Subject: idle\r\n\r\nnews\r\n');
      assert.ok(await seen(/\* 1 EXISTS\r\n$/), text.slice(before));
      assert.doesNotMatch(text.slice(before), /^c /m, 'IDLE is still running');
      socket.write('DONE\r\nd LOGOUT\r\n');
      assert.ok(await seen(/c OK IDLE terminated\r\n\* BYE Logging out\r\nd OK LOGOUT completed\r\n$/), text);
    } finally {
      socket.destroy();
    }
  });

  test('folders: CREATE with parents, RENAME with children, DELETE, SUBSCRIBE, LIST-STATUS, modified UTF-7 names for IMAP4rev1', async () => {
    const r = await imap('plain', 'frank@example.com', [
      ['create', 'Projects/2026/Q1'],
      ['create', '&ZeVnLIqe-'],
      ['rename', 'Projects', 'Work'],
      ['delete', 'Work'],
      ['unsubscribe', 'Junk'],
      ['lsub', '""', '*'],
      ['list', '""', '*'],
      ['delete', 'INBOX'],
      ['create', 'Sent'],
      ['select', 'Nope'],
      ['status', '&ZeVnLIqe-', '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)'],
    ]);
    const [created, utf7, renamed, delWork, unsub, lsub, list, delInbox, dup, noSuch, status] = r.results;
    assert.deepEqual([created![0], utf7![0], renamed![0], unsub![0]], ['OK', 'OK', 'OK', 'OK']);
    assert.equal(delWork![0], 'NO');
    assert.match(String(delWork![1]), /CANNOT.*subfolders/);
    assert.ok(!(lsub![1] as string[]).some((l) => l.endsWith('"Junk"')), 'unsubscribed Junk is not in LSUB');
    const names = (list![1] as string[]).map((l) => l.replace(/^.* "\/" /, ''));
    assert.ok(['"Work"', '"Work/2026"', '"Work/2026/Q1"', '"&ZeVnLIqe-"'].every((n) => names.includes(n)), names.join(' '));
    assert.ok((list![1] as string[]).includes('(\\HasChildren) "/" "Work"'));
    assert.match(String(delInbox![1]), /CANNOT/);
    assert.match(String(dup![1]), /ALREADYEXISTS/);
    assert.match(String(noSuch![1]), /NONEXISTENT/);
    assert.match(String(status![1]), /"&ZeVnLIqe-" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)/);
    const folders = await t.service.mailStore.folders(ids.get('frank@example.com')!);
    assert.ok(folders.some((f) => f.name === '日本語'), 'stored as UTF-8');
    const utf8 = await rawImap(t.imapPort, `a LOGIN frank@example.com ${PW}\r\nb ENABLE UTF8=ACCEPT\r\nc LIST "" "日*"\r\nd LOGOUT\r\n`);
    assert.match(utf8, /\* ENABLED UTF8=ACCEPT/);
    assert.match(Buffer.from(utf8, 'latin1').toString('utf8'), /\* LIST \(\\HasNoChildren\) "\/" "日本語"/);
    const ext = await rawImap(t.imapPort, `a LOGIN frank@example.com ${PW}\r\nb LIST (SUBSCRIBED) "" "*" RETURN (STATUS (MESSAGES UNSEEN) SPECIAL-USE)\r\nc LIST (SPECIAL-USE) "" "*"\r\nd LOGOUT\r\n`);
    assert.match(ext, /\* LIST \(\\HasNoChildren \\Sent \\Subscribed\) "\/" "Sent"\r\n\* STATUS "Sent" \(MESSAGES 0 UNSEEN 0\)\r\n/, 'LIST-STATUS after each LIST');
    assert.doesNotMatch(ext.slice(0, ext.indexOf('b OK')), /"Junk"/, 'unsubscribed Junk is not selected by SUBSCRIBED');
    const special = ext.slice(ext.indexOf('b OK'), ext.indexOf('c OK'));
    assert.deepEqual([...special.matchAll(/\* LIST \([^)]*\) "\/" "([^"]+)"/g)].map((m) => m[1]).sort(), ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash']);
  });

  test('IMAP4rev2 enabled: no RECENT, SEARCH answers with ESEARCH, names in UTF-8', async () => {
    const note = 'Subject: rev2\r\n\r\nhello\r\n';
    const out = await rawImap(t.imapPort, `a LOGIN rev2@example.com ${PW}\r\na2 APPEND INBOX {${note.length}+}\r\n${note}\r\nb ENABLE IMAP4rev2\r\nc SELECT INBOX\r\nd SEARCH ALL\r\ne UID SEARCH NOT ALL\r\nf LOGOUT\r\n`);
    assert.match(out, /\* ENABLED IMAP4rev2\r\n/);
    assert.doesNotMatch(out, /RECENT/);
    assert.match(out, /\* ESEARCH \(TAG "d"\) ALL 1(:\d+)?\r\nd OK/);
    assert.match(out, /\* ESEARCH \(TAG "e"\) UID\r\ne OK/);
  });

  test('SEARCH and ESEARCH: flags, headers (encoded words decoded), body text in its charset, dates, sizes, UID ranges', async () => {
    const r = await imap('plain', 'searcher@example.com', [
      ['append', 'INBOX', '(\\Flagged)', null, { b: MULTIPART }],
      ['append', 'INBOX', '()', null, { b: 'Subject: lunch\r\nFrom: hanako@client.test\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n' }],
      ['select', 'INBOX'],
      ['search', null, 'SUBJECT', '"lunch"'],
      ['search', null, 'FLAGGED'],
      ['search', null, 'BODY', '"budget"'],
      ['search', null, 'TEXT', '"hanako"'],
      ['search', null, 'OR', 'FLAGGED', 'FROM', '"hanako"'],
      ['search', null, 'NOT', 'LARGER', '100000', 'SINCE', '1-Jan-2020'],
      ['uid', 'SEARCH', 'RETURN', '(MIN MAX COUNT)', 'ALL'],
      ['search', null, 'BOGUS'],
    ]);
    const s = r.results.map((x) => x[1]![0]);
    assert.deepEqual(s.slice(3, 9), ['2', '1', '1', '2', '1 2', '1 2']);
    assert.equal(r.results[9]![0], 'OK');
    assert.equal(r.results[10]![0], 'ERROR');
    const jp = await rawImap(t.imapPort, `a LOGIN searcher@example.com ${PW}\r\nb SELECT INBOX\r\nc SEARCH CHARSET UTF-8 BODY {15}\r\n`, 400);
    assert.match(jp, /\+ Ready/);
    const utf8Body = Buffer.from('こんにちは');
    const full = await rawImap(t.imapPort, Buffer.concat([Buffer.from(`a LOGIN searcher@example.com ${PW}\r\nb SELECT INBOX\r\nc SEARCH CHARSET UTF-8 BODY {${utf8Body.length}+}\r\n`), utf8Body, Buffer.from('\r\nd SEARCH CHARSET UTF-8 SUBJECT {6+}\r\n'), Buffer.from('会議'), Buffer.from('\r\ne LOGOUT\r\n')]));
    assert.match(full, /\* SEARCH 2\r\nc OK/, 'an ISO-2022-JP body is found by its UTF-8 text');
    assert.match(full, /\* SEARCH 1\r\nd OK/, 'an encoded-word subject is found by its UTF-8 text');
    const es = await rawImap(t.imapPort, `a LOGIN searcher@example.com ${PW}\r\nb SELECT INBOX\r\nc UID SEARCH RETURN (MIN MAX COUNT) ALL\r\nd SEARCH RETURN () FLAGGED\r\ne LOGOUT\r\n`);
    assert.match(es, /\* ESEARCH \(TAG "c"\) UID MIN 1 MAX 2 COUNT 2\r\nc OK/);
    assert.match(es, /\* ESEARCH \(TAG "d"\) ALL 1\r\nd OK/);
  });

  test('mbsync syncs a local Maildir with the server both ways', async () => {
    const local = tempDir('hikyaku-mbsync-');
    try {
      await smtp('sync@example.com', 'Subject: from server\r\nMessage-ID: <s1@client.test>\r\n\r\nserver side\r\n');
      assert.ok(await waitFor(async () => (await inbox('sync@example.com')).length === 1));
      const { writeFileSync, mkdirSync, readdirSync, readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const rc = join(local, 'mbsyncrc');
      mkdirSync(join(local, 'mail'));
      writeFileSync(
        rc,
        [
          'IMAPAccount hk', 'Host 127.0.0.1', `Port ${t.imapsPort}`, 'User sync@example.com', `Pass ${PW}`, 'SSLType IMAPS', `CertificateFile ${join(dir, 'tls', 'cert.pem')}`, 'SystemCertificates no', '',
          'IMAPStore remote', 'Account hk', '',
          'MaildirStore local', `Path ${local}/mail/`, `Inbox ${local}/mail/INBOX`, 'SubFolders Verbatim', '',
          'Channel sync', 'Far :remote:', 'Near :local:', 'Patterns INBOX Sent', 'Create Both', 'Sync All', 'Expunge Both', 'SyncState *', '',
        ].join('\n'),
      );
      const { run } = await import('./helpers/service.js');
      const mbsync = () => run('mbsync', ['-c', rc, '-a']);
      // The server's self-signed certificate is trusted as listed in CertificateFile.
      let r = await mbsync();
      assert.equal(r.code, 0, r.stderr);
      const cur = (box: string) => ['cur', 'new'].flatMap((d) => readdirSync(join(local, 'mail', box, d)).map((f) => readFileSync(join(local, 'mail', box, d, f), 'utf8')));
      assert.ok(cur('INBOX').some((m) => m.includes('server side')), 'the server\'s message came down');
      mkdirSync(join(local, 'mail', 'Sent', 'cur'), { recursive: true });
      writeFileSync(join(local, 'mail', 'Sent', 'cur', `${Date.now()}.1.host:2,S`), 'Subject: from laptop\r\nMessage-ID: <l1@client.test>\r\n\r\nlocal side\r\n');
      r = await mbsync();
      assert.equal(r.code, 0, r.stderr);
      const sent = await t.service.mailStore.messages(ids.get('sync@example.com')!, 'Sent');
      assert.equal(sent.messages.length, 1, 'the local message went up');
      assert.deepEqual(sent.messages[0]!.flags, ['\\Seen']);
      assert.match((await t.service.mailStore.readMessages(ids.get('sync@example.com')!, 'Sent', [sent.messages[0]!.uid])).get(sent.messages[0]!.uid)!.data.toString(), /local side/);
    } finally {
      removeDir(local);
    }
  });

  test('hostile input: long lines, NUL, bad literals and garbage get BAD with the tag; the session goes on; a huge non-synchronizing literal ends it', async () => {
    const out = await rawImap(
      t.imapPort,
      Buffer.concat([
        Buffer.from(`a1 NOOP ${'x'.repeat(70_000)}\r\n`),
        Buffer.from('a2 LOGIN a\0b c\r\n'),
        Buffer.from('a3 APPEND INBOX {999999999999}\r\n'),
        Buffer.from('a4 FETCH 1 (FLAGS\r\n'),
        Buffer.from('))) ((( \r\n'),
        Buffer.from('a5 \xff\xfe\r\n', 'latin1'),
        Buffer.from('a6 SELECT INBOX\r\n'),
        Buffer.from('a7 NOOP\r\n'),
      ]),
    );
    assert.match(out, /^\* OK /);
    for (const tag of ['a1', 'a2', 'a3', 'a5']) assert.match(out, new RegExp(`\\r\\n${tag} BAD [^\\r]+\\r\\n`), tag);
    assert.match(out, /\r\na4 BAD (FETCH is not valid before logging in|Unterminated list)\r\n/);
    assert.match(out, /\r\na6 BAD SELECT is not valid before logging in\r\n/);
    assert.match(out, /\r\na7 OK NOOP completed\r\n/);
    const fatal = await rawImap(t.imapPort, `b1 LOGIN bob@example.com ${PW}\r\nb2 APPEND INBOX {999999999999+}\r\nxxxx`);
    assert.match(fatal, /b2 BAD Literal too large[^\r]*\r\n\* BYE /);
    const chatty = await rawImap(t.imapPort, 'c NOOP\r\n'.repeat(25));
    assert.match(chatty, /BAD Too many commands without logging in\r\n\* BYE /);
    const wrong = await rawImap(t.imapPort, 'd1 LOGIN bob@example.com wrong\r\nd2 AUTHENTICATE PLAIN\r\n*\r\nd3 AUTHENTICATE CRAM-MD5\r\n');
    assert.match(wrong, /d1 NO \[AUTHENTICATIONFAILED\] Invalid user name or password/);
    assert.match(wrong, /d2 BAD Authentication cancelled/);
    assert.match(wrong, /d3 NO \[CANNOT\]/);
  });

  test('a slow or failing store: login works, commands answer NO [UNAVAILABLE] within the deadline, the mailbox is intact after', async () => {
    const had = (await inbox('alice@example.com')).length;
    await smtp('alice@example.com', 'Subject: kept\r\n\r\nkept\r\n');
    assert.ok(await waitFor(async () => (await inbox('alice@example.com')).length === had + 1));
    for (const fault of [{ kind: 'hang' }, { kind: 'fail' }] as const) {
      faulty.setFault(fault, 'reads');
      try {
        const r = await imap('plain', 'alice@example.com', [['list'], ['select', 'INBOX'], ['status', 'INBOX', '(MESSAGES)'], ['noop']]);
        assert.equal(r.login[0], 'OK', `${fault.kind}: logging in needs no mailbox store`);
        for (const step of r.results.slice(0, 3)) assert.match(String(step[1]), /\[UNAVAILABLE\] The mailbox store did not answer in time/, fault.kind);
        assert.deepEqual(r.results[3]![0], 'OK', 'the session goes on');
      } finally {
        faulty.setFault({ kind: 'none' }, 'reads');
      }
    }
    const after = await imap('plain', 'alice@example.com', [['select', 'INBOX'], ['fetch', '1:*', '(BODY.PEEK[TEXT])']]);
    assert.deepEqual(after.results[0], ['OK', [String(had + 1)]]);
    assert.match(JSON.stringify(after.results[1]), /kept/);
  });

  test('COMPRESS=DEFLATE: after the OK both directions are raw DEFLATE; a second COMPRESS is refused', async () => {
    const script = String.raw`
import socket, sys, zlib, json
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
def until(buf, tag, read):
    while (b'\r\n' + tag + b' ') not in buf and not buf.startswith(tag + b' '):
        d = read()
        if not d: break
        buf += d
    return buf
plain = s.recv(65536)
s.sendall(b'b LOGIN alice@example.com ${PW}\r\nc COMPRESS DEFLATE\r\n')
plain = until(plain, b'c', lambda: s.recv(65536))
out, inf = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
def send(x):
    s.sendall(out.compress(x) + out.flush(zlib.Z_SYNC_FLUSH))
send(b'c2 APPEND Drafts {25+}\r\nSubject: zipped\r\n\r\nbody\r\n\r\nd SELECT Drafts\r\ne UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\nf COMPRESS DEFLATE\r\ng LOGOUT\r\n')
got = until(b'', b'g', lambda: inf.decompress(s.recv(65536)))
print(json.dumps({'plain': plain.decode('latin-1'), 'compressed': got.decode('latin-1')}))
`;
    const r = await python<{ plain: string; compressed: string }>(script, [t.imapPort]);
    assert.match(r.plain, /c OK DEFLATE active\r\n$/);
    assert.match(r.compressed, /d OK \[READ-WRITE\] SELECT completed/);
    assert.match(r.compressed, /c2 OK \[APPENDUID \d+ \d+\]/);
    assert.match(r.compressed, /Subject: zipped\r\n/);
    assert.match(r.compressed, /f NO \[COMPRESSIONACTIVE\]/);
    assert.match(r.compressed, /g OK LOGOUT completed/);
  });

  test('an account whose policy turns IMAP off is refused with the reason; POP3 still works for it', async () => {
    await t.directoryStore.setPolicy('account:noimap@example.com', { ...OPEN_POLICY, imap: false });
    await t.service.directory.refresh();
    const out = await rawImap(t.imapPort, `a LOGIN noimap@example.com ${PW}\r\n`);
    assert.match(out, /a NO \[CONTACTADMIN\] [^\r]*IMAP[^\r]*\r\n/);
    const pop = await python<{ login: string }>(POPLIB_SESSION, [t.pop3Port, 'plain', 'noimap@example.com', PW, '[]']);
    assert.match(pop.login, /^\+OK/);
  });

  test('failed logins count with POP3\'s: three wrong IMAP passwords lock the account out of POP3 too', async () => {
    const out = await rawImap(t.imapPort, 'a LOGIN throttled@example.com no1\r\nb LOGIN throttled@example.com no2\r\nc LOGIN throttled@example.com no3\r\nd LOGIN throttled@example.com ' + PW + '\r\n');
    assert.match(out, /c NO \[AUTHENTICATIONFAILED\]/);
    assert.match(out, /d NO \[UNAVAILABLE\] Too many failed logins/);
    const pop = await python<{ login: string }>(POPLIB_SESSION, [t.pop3Port, 'plain', 'throttled@example.com', PW, '[]']);
    assert.match(pop.login, /\[AUTH\] Too many failed logins/);
  });

  test('where plaintext logins are not allowed, LOGINDISABLED is offered and LOGIN refused until STARTTLS; past imap.maxClients a client is told to come back', async () => {
    const d = tempDir();
    const strict = await startTestService(d, { 'imap.plaintextLogin': 'never', 'imap.maxClients': 2, roles: ['imap'] });
    try {
      const held = await Promise.all([0, 1].map(() => new Promise<import('node:net').Socket>((r) => { const s = connect(strict.imapPort, '127.0.0.1'); s.once('data', () => r(s)); })));
      assert.match(await rawImap(strict.imapPort, ''), /^\* BYE \[UNAVAILABLE\] Too many connections/);
      held.forEach((s) => s.destroy());
      assert.ok(await waitFor(async () => /^\* OK/.test(await rawImap(strict.imapPort, '', 200))));
      const out = await rawImap(strict.imapPort, `a CAPABILITY\r\nb LOGIN bob@example.com ${PW}\r\nc AUTHENTICATE PLAIN AGJvYgBwdw==\r\n`);
      assert.match(out, /\* CAPABILITY [^\r]*STARTTLS[^\r]*LOGINDISABLED/);
      assert.match(out, /b NO \[PRIVACYREQUIRED\] /);
      assert.match(out, /c NO \[PRIVACYREQUIRED\] /);
    } finally {
      await strict.stop();
      removeDir(d);
    }
  });
});
