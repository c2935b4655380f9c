import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HikyakuError } from '../mail/index.js';
import { SendingLimits } from './send-limits.js';

const refused = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof HikyakuError && e.code === 'ERR_SEND_RATE');

test('recipients count: one message to many addresses uses up the hourly recipient limit', () => {
  const l = new SendingLimits({ perAccountPerHour: 100, perDomainPerHour: 1000, recipientsPerAccountPerHour: 5 });
  const t0 = 1_000_000;
  l.check('a@x.test', t0);
  for (let i = 0; i < 3; i++) l.checkRecipient('a@x.test', i, t0);
  l.record('a@x.test', 3, t0);
  l.checkRecipient('a@x.test', 0, t0);
  l.checkRecipient('a@x.test', 1, t0);
  refused(() => l.checkRecipient('a@x.test', 2, t0));
  l.checkRecipient('b@x.test', 0, t0);
  l.checkRecipient('a@x.test', 2, t0 + 3_600_001);
});
