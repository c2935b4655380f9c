import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HikyakuError } from '../../src/mail/index.js';
import type { MailStore } from '../../src/mailstore/index.js';
import { appendInput } from '../helpers/service.js';
import { MAILSTORE_VARIANTS, backendsWith, withStore } from './backends.js';

const msg = (text: string, flags: string[] = [], quotaBytes = 0) => ({ data: Buffer.from(text), flags, internalDate: 1_700_000_000_000, quotaBytes });
const code = (c: string) => (err: unknown) => err instanceof HikyakuError && err.code === c;
const names = async (store: MailStore, account: number) => (await store.folders(account)).map((f) => f.name);
const text = async (store: MailStore, account: number, folder: string, uid: number) => (await store.readMessages(account, folder, [uid])).get(uid)?.data.toString();

for (const backend of [...backendsWith('mailStore', 'FolderStore contract'), ...MAILSTORE_VARIANTS]) {
  describe(`FolderStore contract: ${backend.name}`, () => {
    test('an account starts with INBOX and the special-use folders, made once; a deleted one stays deleted', async () => {
      await withStore(backend.mailStore, async (store) => {
        const first = await store.folders(1);
        assert.deepEqual(first.map((f) => [f.name, f.specialUse]).sort(), [['Archive', '\\Archive'], ['Drafts', '\\Drafts'], ['INBOX', null], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash']]);
        assert.ok(first.every((f) => f.subscribed && f.messages === 0 && f.uidNext === 1 && f.uidValidity > 0));
        assert.deepEqual(await names(store, 1), first.map((f) => f.name), 'a second call makes nothing more');
        await store.deleteFolder(1, 'Junk');
        assert.ok(!(await names(store, 1)).includes('Junk'));
        assert.deepEqual((await names(store, 2)).length, 6, 'each account has its own');
      });
    });

    test('a mailbox made by delivery gets its special-use folders when first listed, and keeps its mail', async () => {
      await withStore(backend.mailStore, async (store) => {
        const a = await store.append(appendInput(3, 'd1', 'delivered\r\n'));
        const inbox = (await store.folders(3)).find((f) => f.name === 'INBOX')!;
        assert.equal(inbox.messages, 1);
        assert.equal(inbox.unseen, 1);
        assert.equal((await names(store, 3)).length, 6);
        const { messages } = await store.messages(3, 'inbox');
        assert.deepEqual(messages.map((m) => m.uid), [a.uid], 'INBOX is case-insensitive');
        assert.equal(await text(store, 3, 'INBOX', a.uid), 'Delivered-To: 3\r\ndelivered\r\n');
      });
    });

    test('readMessages says which messages POP3 may send as stored (CRLF lines, none starting with a dot), delivered or appended', async () => {
      await withStore(backend.mailStore, async (store) => {
        const bodies: [string, boolean][] = [
          ['Subject: plain\r\n\r\ntext\r\n', true],
          ['.leading dot\r\n', false],
          ['line\r\n.dotted\r\n', false],
          ['bare\nLF\r\n', false],
          ['bare\rCR\r\n', false],
          ['no line end', false],
        ];
        for (const [i, [body, sendable]] of bodies.entries()) {
          const delivered = await store.append(appendInput(5, `s${i}`, body));
          const appended = await store.appendMessage(5, 'Drafts', msg(body));
          const inbox = (await store.readMessages(5, 'INBOX', [delivered.uid])).get(delivered.uid)!;
          const draft = (await store.readMessages(5, 'Drafts', [appended.uid])).get(appended.uid)!;
          assert.equal(inbox.data.toString(), `Delivered-To: 5\r\n${body}`);
          assert.equal(draft.data.toString(), body);
          assert.equal(inbox.sendable, sendable, `delivered ${JSON.stringify(body)}`);
          assert.equal(draft.sendable, sendable, `appended ${JSON.stringify(body)}`);
        }
        // A header that is not CRLF spoils a clean body.
        const odd = await store.append({ ...appendInput(5, 'odd-header', 'clean\r\n'), header: Buffer.from('Delivered-To: 5\n') });
        assert.equal((await store.readMessages(5, 'INBOX', [odd.uid])).get(odd.uid)!.sendable, false);
      });
    });

    test('create, rename with subfolders and delete; the errors name what is wrong', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.folders(1);
        await store.createFolder(1, 'Projects/2026/Q1');
        const made = await names(store, 1);
        assert.ok(['Projects', 'Projects/2026', 'Projects/2026/Q1'].every((n) => made.includes(n)), 'parents are made too');
        const q1 = (await store.folder(1, 'Projects/2026/Q1'))!;
        await assert.rejects(store.createFolder(1, 'Projects'), code('ERR_FOLDER_EXISTS'));
        await assert.rejects(store.createFolder(1, 'a//b'), code('ERR_FOLDER_NAME'));
        await assert.rejects(store.createFolder(1, 'bad*name'), code('ERR_FOLDER_NAME'));
        await assert.rejects(store.createFolder(1, 'x'.repeat(600)), code('ERR_FOLDER_NAME'));
        await assert.rejects(store.deleteFolder(1, 'INBOX'), code('ERR_FOLDER_INBOX'));
        await assert.rejects(store.deleteFolder(1, 'Projects'), code('ERR_FOLDER_HAS_CHILDREN'));
        await assert.rejects(store.deleteFolder(1, 'Nope'), code('ERR_FOLDER_UNKNOWN'));
        await assert.rejects(store.renameFolder(1, 'Projects', 'Projects/inside'), code('ERR_FOLDER_NAME'));
        await assert.rejects(store.renameFolder(1, 'Projects', 'Sent'), code('ERR_FOLDER_EXISTS'));
        await assert.rejects(store.renameFolder(1, 'Sent', 'inbox'), code('ERR_FOLDER_INBOX'));
        await store.renameFolder(1, 'Projects', 'Work/Old');
        const after = await names(store, 1);
        assert.ok(after.includes('Work/Old/2026/Q1') && after.includes('Work') && !after.some((n) => n.startsWith('Projects')), after.join(','));
        const moved = (await store.folder(1, 'Work/Old/2026/Q1'))!;
        assert.equal(moved.uidValidity, q1.uidValidity, 'a rename keeps UIDVALIDITY');
        assert.equal(moved.id, q1.id);
        await store.deleteFolder(1, 'Work/Old/2026/Q1');
        await store.createFolder(1, 'Work/Old/2026/Q1');
        assert.notEqual((await store.folder(1, 'Work/Old/2026/Q1'))!.uidValidity, q1.uidValidity, 'a folder made again gets a new UIDVALIDITY');
        await store.setSubscribed(1, 'Work', false);
        assert.equal((await store.folder(1, 'Work'))!.subscribed, false);
        await assert.rejects(store.setSubscribed(1, 'Gone', true), code('ERR_FOLDER_UNKNOWN'));
      });
    });

    test('append, flags and modification sequences: every change raises the folder\'s modseq, UNCHANGEDSINCE guards', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.folders(1);
        const start = (await store.folder(1, 'Drafts'))!.highestModseq;
        const a = await store.appendMessage(1, 'Drafts', msg('Subject: a\r\n\r\nA\r\n', ['\\Draft']));
        const b = await store.appendMessage(1, 'Drafts', msg('Subject: b\r\n\r\nB\r\n', ['\\Seen', '$Important']));
        assert.ok(b.uid > a.uid);
        assert.equal(a.uidValidity, (await store.folder(1, 'Drafts'))!.uidValidity);
        assert.equal(await text(store, 1, 'Drafts', a.uid), 'Subject: a\r\n\r\nA\r\n', 'byte-exact, nothing added');
        let { folder, messages } = await store.messages(1, 'Drafts');
        assert.equal(folder.messages, 2);
        assert.equal(folder.unseen, 1);
        assert.ok(folder.highestModseq > start);
        assert.deepEqual(messages.map((m) => m.flags), [['\\Draft'], ['$Important', '\\Seen']]);
        const before = folder.highestModseq;
        const add = await store.storeFlags(1, 'Drafts', [a.uid, b.uid, 999], 'add', ['\\Seen']);
        assert.deepEqual(add.updated.map((m) => m.uid), [a.uid], 'only what changed is reported');
        assert.ok(add.updated[0]!.modseq > before);
        const same = await store.storeFlags(1, 'Drafts', [a.uid], 'add', ['\\Seen']);
        assert.deepEqual(same.updated, [], 'no change, no new modseq');
        assert.equal((await store.folder(1, 'Drafts'))!.highestModseq, add.updated[0]!.modseq);
        const guarded = await store.storeFlags(1, 'Drafts', [a.uid, b.uid], 'replace', ['\\Flagged'], before);
        assert.deepEqual(guarded.modified, [a.uid], 'changed since: left alone');
        assert.deepEqual(guarded.updated.map((m) => [m.uid, m.flags]), [[b.uid, ['\\Flagged']]]);
        await store.storeFlags(1, 'Drafts', [b.uid], 'remove', ['\\Flagged']);
        ({ messages } = await store.messages(1, 'Drafts'));
        assert.deepEqual(messages.map((m) => m.flags), [['\\Draft', '\\Seen'], []]);
        assert.ok(messages[1]!.modseq > messages[0]!.modseq);
        await assert.rejects(store.appendMessage(1, 'Nowhere', msg('x\r\n')), code('ERR_FOLDER_UNKNOWN'));
      });
    });

    test('copy and move keep bodies and flags, give new UIDs in order, and the source sees the move as an expunge', async () => {
      await withStore(backend.mailStore, async (store) => {
        const big = ('w'.repeat(900) + '\r\n').repeat(200);
        const d1 = await store.append(appendInput(1, 'c1', 'small\r\n'));
        const d2 = await store.append(appendInput(1, 'c2', big));
        await store.folders(1);
        await store.storeFlags(1, 'INBOX', [d2.uid], 'add', ['\\Flagged']);
        const copied = await store.copyMessages(1, 'INBOX', [d2.uid, d1.uid], 'Archive', false, 0);
        assert.deepEqual(copied.pairs.map((p) => p[0]), [d1.uid, d2.uid], 'in UID order');
        assert.equal(copied.uidValidity, (await store.folder(1, 'Archive'))!.uidValidity);
        assert.equal(await text(store, 1, 'Archive', copied.pairs[1]![1]), `Delivered-To: 1\r\n${big}`);
        assert.deepEqual((await store.messages(1, 'Archive')).messages.map((m) => m.flags), [[], ['\\Flagged']]);
        const both = await store.readMessages(1, 'Archive', [...copied.pairs.map((p) => p[1]), 9999]);
        assert.deepEqual([...both.keys()].sort((a, b) => a - b), copied.pairs.map((p) => p[1]), 'one read for several UIDs; a missing one is absent');
        assert.equal(both.get(copied.pairs[0]![1])!.data.toString(), 'Delivered-To: 1\r\nsmall\r\n');
        const inboxBefore = (await store.folder(1, 'INBOX'))!.highestModseq;
        const moved = await store.copyMessages(1, 'INBOX', [d1.uid, d2.uid, 12345], 'Trash', true, 0);
        assert.equal(moved.pairs.length, 2);
        assert.deepEqual((await store.messages(1, 'INBOX')).messages, []);
        assert.deepEqual((await store.vanishedSince(1, 'INBOX', inboxBefore)).sort(), [d1.uid, d2.uid].sort());
        assert.deepEqual(await store.list(1), [], 'POP3 sees INBOX empty');
        const again = await store.append(appendInput(1, 'c1', 'small\r\n'));
        assert.equal(again.duplicate, true, 'a repeated delivery of a moved message does not come back to INBOX');
        await store.deleteFolder(1, 'Archive');
        assert.equal(await text(store, 1, 'Trash', moved.pairs[1]![1]), `Delivered-To: 1\r\n${big}`, 'the body stays for the other copy');
        assert.deepEqual(await store.expungeMessages(1, 'Trash', moved.pairs.map((p) => p[1])), moved.pairs.map((p) => p[1]));
        assert.equal((await store.readMessages(1, 'Trash', [moved.pairs[1]![1]])).size, 0);
        await assert.rejects(store.copyMessages(1, 'INBOX', [1], 'Nowhere', false, 0), code('ERR_FOLDER_UNKNOWN'));
      });
    });

    test('POP3 deletes and delivery are changes IMAP sees: modseq up, expunged UIDs remembered', async () => {
      await withStore(backend.mailStore, async (store) => {
        const inbox = (await store.folders(1)).find((f) => f.name === 'INBOX')!;
        const a = await store.append(appendInput(1, 'p1', 'one\r\n'));
        const afterAppend = (await store.highestModseqs([inbox.id, 999_999])).get(inbox.id)!;
        assert.ok(afterAppend > inbox.highestModseq);
        assert.equal((await store.highestModseqs([999_999])).size, 0, 'an unknown id is absent');
        assert.equal((await store.messages(1, 'INBOX')).messages[0]!.modseq, afterAppend);
        await store.expunge(1, [a.uid]);
        assert.ok((await store.highestModseqs([inbox.id])).get(inbox.id)! > afterAppend);
        assert.deepEqual(await store.vanishedSince(1, 'INBOX', afterAppend), [a.uid]);
        assert.deepEqual(await store.vanishedSince(1, 'INBOX', afterAppend + 1), []);
      });
    });

    test('the quota counts every folder: an IMAP append or copy past it is refused, delivery too', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.folders(1);
        await store.appendMessage(1, 'Sent', msg('x'.repeat(60) + '\r\n', [], 100));
        await assert.rejects(store.appendMessage(1, 'Sent', msg('y'.repeat(60) + '\r\n', [], 100)), code('ERR_QUOTA_EXCEEDED'));
        await assert.rejects(store.append(appendInput(1, 'q1', 'z'.repeat(60) + '\r\n', 100)), code('ERR_QUOTA_EXCEEDED'));
        const uid = (await store.messages(1, 'Sent')).messages[0]!.uid;
        await assert.rejects(store.copyMessages(1, 'Sent', [uid], 'Archive', false, 100), code('ERR_QUOTA_EXCEEDED'));
        await store.copyMessages(1, 'Sent', [uid], 'Archive', true, 100);
        assert.equal((await store.status(1)).usedBytes, 62, 'a move adds nothing');
      });
    });

    test('renaming INBOX moves its mail into the new folder and leaves INBOX empty', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.append(appendInput(1, 'r1', 'kept\r\n'));
        await store.folders(1);
        await store.renameFolder(1, 'INBOX', 'Old Inbox');
        assert.equal((await store.folder(1, 'INBOX'))!.messages, 0);
        const old = await store.messages(1, 'Old Inbox');
        assert.equal(old.messages.length, 1);
        assert.equal(await text(store, 1, 'Old Inbox', old.messages[0]!.uid), 'Delivered-To: 1\r\nkept\r\n');
      });
    });
  });
}
