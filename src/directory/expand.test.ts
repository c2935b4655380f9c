import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandRecipient, isKnownRecipient, type DirectoryIndex } from './expand.js';
import type { AccountRecord, AliasRecord, ForwardRecord } from './types.js';

function index(accounts: string[], aliases: Record<string, string[]>, forwards: Record<string, [string[], boolean]>, postmaster: Record<string, string[]> = {}): DirectoryIndex {
  const acc = accounts.map((address, i): AccountRecord => ({ id: i + 1, address, domain: address.split('@')[1]!, passwordHash: '', quotaBytes: 0, createdAt: 0, name: '', department: '', role: 'user', disabled: false, mustChangePassword: false }));
  return {
    domains: new Set(acc.map((a) => a.domain)),
    accounts: new Map(acc.map((a) => [a.address, a])),
    aliases: new Map(Object.entries(aliases).map(([address, targets]): [string, AliasRecord] => [address, { address, domain: address.split('@')[1]!, targets }])),
    forwards: new Map(Object.entries(forwards).map(([account, [targets, keepCopy]]): [string, ForwardRecord] => [account, { account, targets, keepCopy, enabled: true, conditions: null }])),
    postmaster: new Map(Object.entries(postmaster)),
  };
}

const names = (ix: DirectoryIndex, a: string) => expandRecipient(ix, a).accounts.map((x) => x.address).sort();

test('accounts, aliases, catch-all and forwards', () => {
  const ix = index(['a@x.test', 'b@x.test', 'c@x.test'], { 'team@x.test': ['a@x.test', 'b@x.test'], '@x.test': ['c@x.test'] }, { 'b@x.test': [['c@x.test'], true] });
  assert.deepEqual(names(ix, 'a@x.test'), ['a@x.test']);
  assert.deepEqual(names(ix, 'team@x.test'), ['a@x.test', 'b@x.test', 'c@x.test']);
  assert.deepEqual(names(ix, 'whoever@x.test'), ['c@x.test']);
  assert.deepEqual(names(ix, 'b@x.test'), ['b@x.test', 'c@x.test']);
  assert.deepEqual(names(ix, 'a@y.test'), []);
  assert.ok(isKnownRecipient(ix, 'whoever@x.test'));
});

test('the same account reached twice is listed once', () => {
  const ix = index(['a@x.test'], { 'l1@x.test': ['a@x.test', 'l2@x.test'], 'l2@x.test': ['a@x.test'] }, {});
  assert.deepEqual(names(ix, 'l1@x.test'), ['a@x.test']);
});

test('forwarding loops keep the mail instead of losing it', () => {
  const ix = index(['a@x.test', 'b@x.test'], {}, { 'a@x.test': [['b@x.test'], false], 'b@x.test': [['a@x.test'], false] });
  assert.deepEqual(names(ix, 'a@x.test'), ['b@x.test']);
  const self = index(['a@x.test'], {}, { 'a@x.test': [['a@x.test'], false] });
  assert.deepEqual(names(self, 'a@x.test'), ['a@x.test']);
  const gone = index(['a@x.test'], {}, { 'a@x.test': [['removed@x.test'], false] });
  assert.deepEqual(names(gone, 'a@x.test'), ['a@x.test']);
});

test('alias loops and deep chains end', () => {
  const loop = index([], { 'p@x.test': ['q@x.test'], 'q@x.test': ['p@x.test'] }, {});
  assert.deepEqual(names(loop, 'p@x.test'), []);
  const chain: Record<string, string[]> = {};
  for (let i = 0; i < 100; i++) chain[`l${i}@x.test`] = [`l${i + 1}@x.test`];
  const deep = index(['l100@x.test'], chain, {});
  assert.deepEqual(names(deep, 'l0@x.test'), []);
  assert.deepEqual(names(deep, 'l90@x.test'), ['l100@x.test']);
});

test('targets outside the hosted domains are returned for relay, once, with a kept copy', () => {
  const ix = index(['a@x.test', 'b@x.test'], { 'out@x.test': ['z@elsewhere.test', 'a@x.test'] }, { 'b@x.test': [['z@elsewhere.test', 'y@elsewhere.test'], true] });
  assert.deepEqual(expandRecipient(ix, 'out@x.test'), { accounts: [ix.accounts.get('a@x.test')], remote: ['z@elsewhere.test'] });
  const b = expandRecipient(ix, 'b@x.test');
  assert.deepEqual(b.accounts.map((x) => x.address), ['b@x.test']);
  assert.deepEqual(b.remote.sort(), ['y@elsewhere.test', 'z@elsewhere.test']);
  assert.deepEqual(expandRecipient(ix, 'nobody@elsewhere.test'), { accounts: [], remote: [] }, 'the recipient itself is never relayed by expansion');
});

test('postmaster@ a domain without such an address reaches its postmaster target; an explicit one wins', () => {
  const ix = index(['admin@x.test', 'u@y.test', 'postmaster@y.test'], {}, {}, { 'x.test': ['admin@x.test'], 'y.test': ['u@y.test'] });
  assert.ok(isKnownRecipient(ix, 'postmaster@x.test'));
  assert.deepEqual(names(ix, 'postmaster@x.test'), ['admin@x.test']);
  assert.deepEqual(names(ix, 'postmaster@y.test'), ['postmaster@y.test']);
  assert.ok(!isKnownRecipient(ix, 'postmaster@z.test'), 'not for a domain not hosted');
});

test('localOnly: nothing is forwarded out; an account forwarding only outside keeps the mail', () => {
  const ix = index(['a@x.test', 'b@x.test'], { 'out@x.test': ['far@elsewhere.test'], 'mixed@x.test': ['b@x.test', 'far@elsewhere.test'] }, { 'a@x.test': [['far@elsewhere.test'], false] });
  assert.deepEqual(expandRecipient(ix, 'a@x.test'), { accounts: [], remote: ['far@elsewhere.test'] });
  assert.deepEqual(expandRecipient(ix, 'a@x.test', true).accounts.map((x) => x.address), ['a@x.test']);
  assert.deepEqual(expandRecipient(ix, 'a@x.test', true).remote, []);
  assert.deepEqual(expandRecipient(ix, 'out@x.test', true), { accounts: [], remote: [] });
  assert.deepEqual(expandRecipient(ix, 'mixed@x.test', true).accounts.map((x) => x.address), ['b@x.test']);
});
