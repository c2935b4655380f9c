import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordProblem } from './password.js';

test('the password policy: long enough, without the user or domain name', () => {
  assert.equal(passwordProblem('correct horse battery', 'taro@example.co.jp', 10), undefined);
  assert.match(passwordProblem('short', 'taro@example.co.jp', 10)!, /at least 10/);
  assert.match(passwordProblem('Taro-is-great-2026', 'taro@example.co.jp', 10)!, /user name/);
  assert.match(passwordProblem('my-EXAMPLE-password', 'taro@example.co.jp', 10)!, /domain name/);
  // Characters, not bytes: ten Japanese characters are ten.
  assert.equal(passwordProblem('いろはにほへとちりぬ', 'taro@example.co.jp', 10), undefined);
});
