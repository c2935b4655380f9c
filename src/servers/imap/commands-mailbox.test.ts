import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesPattern } from './commands-mailbox.js';

test('LIST patterns: * crosses levels, % does not, INBOX in any case, literal characters as they are', () => {
  const names = ['INBOX', 'INBOX/Sub', 'Work', 'Work/2026', 'Work/2026/Q1', 'a.b', 'a+b', '日本語/下'];
  const match = (p: string) => names.filter((n) => matchesPattern(p, n));
  assert.deepEqual(match('*'), names);
  assert.deepEqual(match('%'), ['INBOX', 'Work', 'a.b', 'a+b']);
  assert.deepEqual(match('Work/%'), ['Work/2026']);
  assert.deepEqual(match('Work/*'), ['Work/2026', 'Work/2026/Q1']);
  assert.deepEqual(match('inbox'), ['INBOX']);
  assert.deepEqual(match('Inbox/%'), ['INBOX/Sub']);
  assert.deepEqual(match('a.b'), ['a.b'], 'a dot is no wildcard');
  assert.deepEqual(match('a+b'), ['a+b']);
  assert.deepEqual(match('日本語/%'), ['日本語/下']);
  assert.deepEqual(match('%/%/%'), ['Work/2026/Q1']);
  assert.deepEqual(match(''), []);
});

test('LIST patterns: a pattern of many wildcards against a long name is answered (no backtracking blow-up)', () => {
  const name = 'a'.repeat(500);
  assert.equal(matchesPattern('*a'.repeat(200) + 'b', name), false);
  assert.equal(matchesPattern('%a'.repeat(200), name), true);
});
