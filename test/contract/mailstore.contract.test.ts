import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { HikyakuError } from '../../src/mail/index.js';
import type { AppendInput } from '../../src/mailstore/index.js';
import { appendInput, mailboxMessages } from '../helpers/service.js';
import { MAILSTORE_VARIANTS, backendsWith, withStore } from './backends.js';

const input = appendInput;

for (const backend of [...backendsWith('mailStore', 'MailStore contract'), ...MAILSTORE_VARIANTS]) {
  describe(`MailStore contract: ${backend.name}`, () => {
    test('ping answers on an empty store and after a message arrived', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.ping();
        await store.append(input(1, 'p1', 'ping\r\n'));
        await store.ping();
        assert.equal((await store.list(1)).length, 1, 'ping changes nothing');
      });
    });

    test('append is idempotent per key, UIDs increase, the same body may go to several mailboxes', async () => {
      await withStore(backend.mailStore, async (store) => {
        const a = await store.append(input(1, 'k1', 'one\r\n'));
        const b = await store.append(input(1, 'k2', 'two\r\n'));
        const again = await store.append(input(1, 'k1', 'one\r\n'));
        assert.equal(a.duplicate, false);
        assert.ok(b.uid > a.uid);
        assert.deepEqual(again, { uid: a.uid, duplicate: true });
        const other = await store.append(input(2, 'k1', 'one\r\n'));
        assert.equal(other.duplicate, false);
        const concurrent = await Promise.all([store.append(input(3, 'k9', 'nine\r\n')), store.append(input(3, 'k9', 'nine\r\n'))]);
        assert.equal(concurrent.filter((r) => !r.duplicate).length, 1, 'concurrent appends with one key store one message');
        assert.deepEqual(await mailboxMessages(store, 1), ['Delivered-To: 1\r\none\r\n', 'Delivered-To: 1\r\ntwo\r\n']);
        assert.deepEqual(await mailboxMessages(store, 2), ['Delivered-To: 2\r\none\r\n']);
        const status = await store.status(1);
        assert.equal(status.messages, 2);
        assert.equal(status.bytes, (await store.list(1)).reduce((n, e) => n + e.size, 0));
        assert.equal(status.uidNext, b.uid + 1);
        assert.ok(status.uidValidity > 0);
      });
    });

    test('a large body is stored once for several mailboxes and reads back byte-exact', async () => {
      await withStore(backend.mailStore, async (store) => {
        const big = 'y'.repeat(998) + '\r\n';
        const body = big.repeat(400);
        await store.append(input(1, 'big', body));
        await store.append(input(2, 'big', body));
        assert.deepEqual(await mailboxMessages(store, 1), [`Delivered-To: 1\r\n${body}`]);
        assert.deepEqual(await mailboxMessages(store, 2), [`Delivered-To: 2\r\n${body}`]);
      });
    });

    test('expunge removes messages for good, keeps UIDs unused, and keeps a shared body for the other mailbox', async () => {
      await withStore(backend.mailStore, async (store) => {
        const big = 'z'.repeat(998) + '\r\n';
        const a = await store.append(input(1, 'e1', 'small\r\n'));
        const b = await store.append(input(1, 'e2', big.repeat(300)));
        await store.append(input(2, 'e2', big.repeat(300)));
        assert.equal(await store.expunge(1, [a.uid, b.uid, 999]), 2);
        assert.equal(await store.expunge(1, [a.uid]), 0, 'a repeated expunge is harmless');
        assert.deepEqual(await store.list(1), []);
        assert.deepEqual((await store.status(1)).messages, 0);
        assert.deepEqual((await store.status(1)).bytes, 0);
        assert.deepEqual(await mailboxMessages(store, 2), [`Delivered-To: 2\r\n${big.repeat(300)}`], 'the shared body stays for mailbox 2');
        const c = await store.append(input(1, 'e3', 'again\r\n'));
        assert.ok(c.uid > b.uid, 'UIDs are not reused');
      });
    });

    test('maildrop: the INBOX as POP3 lists it, UIDs and sizes in UID order with its UIDVALIDITY, the same as list and status say; nothing for an account without mail', async () => {
      await withStore(backend.mailStore, async (store) => {
        assert.deepEqual(await store.maildrop(5), { uidValidity: 0, uids: [], sizes: [] });
        const uids = [];
        for (let i = 0; i < 5; i++) uids.push((await store.append(input(5, `m${i}`, 'x'.repeat(10 * i) + '\r\n'))).uid);
        await store.expunge(5, [uids[2]!]);
        await store.append(input(6, 'other', 'not in 5\r\n'));
        const drop = await store.maildrop(5);
        const listed = await store.list(5);
        assert.deepEqual(drop.uids, listed.map((m) => m.uid));
        assert.deepEqual(drop.uids, [uids[0], uids[1], uids[3], uids[4]]);
        assert.deepEqual(drop.sizes, listed.map((m) => m.size));
        assert.equal(drop.uidValidity, (await store.status(5)).uidValidity);
        assert.ok(drop.uidValidity > 0);
      });
    });

    test('many appends at once (as a delivery worker makes them): each answered alone, UIDs dense per mailbox, keys stored once, quota counted across them', async () => {
      await withStore(backend.mailStore, async (store) => {
        const calls = Array.from({ length: 120 }, (_, i) => input(10 + (i % 6), `m${i % 100}`, `body ${i % 100}\r\n`, i % 6 === 5 ? 60 : 0));
        const results = await Promise.allSettled(calls.map((c) => store.append(c)));
        for (let box = 10; box < 15; box++) {
          const mine = results.filter((_, i) => 10 + (i % 6) === box).map((r) => (r as PromiseFulfilledResult<{ uid: number; duplicate: boolean }>).value);
          const stored = mine.filter((r) => !r.duplicate).map((r) => r.uid).sort((a, b) => a - b);
          assert.equal(stored.length, new Set(calls.filter((c) => c.accountId === box).map((c) => c.messageKey)).size, `mailbox ${box}: one message per key`);
          assert.deepEqual(stored, stored.map((_, i) => stored[0]! + i), `mailbox ${box}: UIDs without gaps`);
          const list = await store.list(box);
          assert.deepEqual(list.map((e) => e.uid), stored);
          for (const r of mine.filter((m) => m.duplicate)) assert.ok(stored.includes(r.uid), 'a repeated key answers the UID stored');
        }
        const quota = results.filter((_, i) => i % 6 === 5);
        const kept = quota.filter((r) => r.status === 'fulfilled').length;
        assert.ok(kept >= 1 && kept <= 6, `the mailbox with a 60-byte quota keeps what fits (${kept})`);
        for (const r of quota) if (r.status === 'rejected') assert.equal((r.reason as HikyakuError).code, 'ERR_QUOTA_EXCEEDED');
        assert.ok((await store.status(15)).bytes <= 60, 'never past the quota');
        assert.equal(results.filter((r, i) => r.status === 'rejected' && i % 6 !== 5).length, 0, 'one full mailbox fails nobody else');
        // Appends running together have no order among them; each message is there once, whole.
        assert.deepEqual((await mailboxMessages(store, 10)).sort(), [...new Set(calls.filter((c) => c.accountId === 10).map((c) => c.messageKey))].map((k) => `Delivered-To: 10\r\nbody ${k.slice(1)}\r\n`).sort());
      });
    });

    test('quota: an append that would exceed it is refused with ERR_QUOTA_EXCEEDED', async () => {
      await withStore(backend.mailStore, async (store) => {
        await store.append(input(1, 'q1', 'x'.repeat(50), 100));
        await assert.rejects(store.append(input(1, 'q2', 'x'.repeat(50), 100)), (e: unknown) => e instanceof HikyakuError && e.code === 'ERR_QUOTA_EXCEEDED');
        assert.equal((await store.list(1)).length, 1);
      });
    });

    test('a failing body stream stores nothing', async () => {
      await withStore(backend.mailStore, async (store) => {
        const broken: AppendInput = { ...input(1, 'bad', 'x'), openBody: () => new Readable({ read() { this.destroy(new Error('disk gone')); } }) };
        await assert.rejects(store.append(broken));
        assert.deepEqual(await store.list(1), []);
        await store.append(input(1, 'bad', 'x'));
        assert.equal((await store.list(1)).length, 1, 'a retry succeeds');
      });
    });

    test('a message expunged by its user is not appended again when its delivery is repeated', async () => {
      await withStore(backend.mailStore, async (store) => {
        const big = 'w'.repeat(998) + '\r\n';
        const first = await store.append(input(1, 'gone', 'read and deleted\r\n'));
        const large = await store.append(input(1, 'gone-big', big.repeat(200)));
        assert.equal(await store.expunge(1, [first.uid, large.uid]), 2);
        // A retried queue entry (a crash before complete, an alias reaching the same mailbox).
        assert.deepEqual(await store.append(input(1, 'gone', 'read and deleted\r\n')), { uid: first.uid, duplicate: true });
        assert.deepEqual(await store.append(input(1, 'gone-big', big.repeat(200))), { uid: large.uid, duplicate: true });
        assert.deepEqual(await store.list(1), [], 'the deleted messages do not come back');
        assert.equal((await store.append(input(2, 'gone', 'read and deleted\r\n'))).duplicate, false, 'another mailbox still gets it');
      });
    });

    test('an expunge racing an append of the same large body never leaves a message without its body', async () => {
      await withStore(backend.mailStore, async (store) => {
        const body = ('v'.repeat(998) + '\r\n').repeat(200);
        for (let round = 0; round < 5; round++) {
          const key = `race${round}`;
          const a = await store.append(input(1, key, body));
          // The body exists when the second append looks, and is gone when it commits.
          const [, b] = await Promise.all([store.expunge(1, [a.uid]), store.append(input(2, key, body))]);
          assert.equal(b.duplicate, false);
          assert.deepEqual(await mailboxMessages(store, 2), [`Delivered-To: 2\r\n${body}`], `round ${round}: mailbox 2 reads its message whole`);
          await store.expunge(2, [b.uid]);
        }
      });
    });
  });
}
