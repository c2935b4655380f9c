import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envName, loadConfig } from './load.js';

test('defaults run out of the box', () => {
  const c = loadConfig({ dataDir: '/nonexistent-hikyaku', env: {} });
  assert.equal(c['mx.port'], 2525);
  assert.equal(c['listen.host'], '127.0.0.1');
  assert.equal(c['smtp.maxMessageBytes'], 50 * 1024 * 1024);
  assert.equal(c['storage.fsync'], true);
  assert.deepEqual(c.roles, ['mx', 'submission', 'delivery', 'pop3', 'imap', 'portal', 'dns', 'web']);
});

test('environment names and precedence: env over defaults, command line over env', () => {
  assert.equal(envName('smtp.maxMessageBytes'), 'HIKYAKU_SMTP_MAX_MESSAGE_BYTES');
  const c = loadConfig({ dataDir: '/nonexistent-hikyaku', env: { HIKYAKU_MX_PORT: '2600', HIKYAKU_ROLES: 'mx' }, overrides: { roles: 'delivery' } });
  assert.equal(c['mx.port'], 2600);
  assert.deepEqual(c.roles, ['delivery']);
  assert.equal(loadConfig({ env: { HIKYAKU_DATA_DIR: '/srv/mail' } }).dataDir, '/srv/mail');
});

test('bad values name the key and the source', () => {
  assert.throws(() => loadConfig({ dataDir: '/x', env: { HIKYAKU_STORAGE_FSYNC: 'maybe' } }), (e: Error) => e instanceof ConfigError && /storage\.fsync \(from HIKYAKU_STORAGE_FSYNC\) must be true or false/.test(e.message));
  assert.throws(() => loadConfig({ dataDir: '/x', env: { HIKYAKU_LOG_LEVEL: 'loud' } }), /log\.level .* must be one of/);
});

test('bodies outside the database are refused for the embedded mailbox store, with the reason, and taken for a PostgreSQL one', () => {
  const bodies = 'file:///srv/hikyaku-bodies';
  assert.throws(() => loadConfig({ dataDir: '/x', env: { HIKYAKU_STORAGE_BODIES: bodies } }), (e: Error) => e instanceof ConfigError && /storage\.bodies .* is for a PostgreSQL mailbox store/.test(e.message));
  assert.throws(() => loadConfig({ dataDir: '/x', env: { HIKYAKU_STORAGE_BODIES: 's3://bucket' } }), /storage\.bodies .* database or a file:\/\/\/ URL/);
  const ok = loadConfig({ dataDir: '/x', env: { HIKYAKU_STORAGE_BODIES: bodies, HIKYAKU_STORAGE_MAILSTORE: 'postgres://h/db' } });
  assert.equal(ok['storage.bodies'], bodies);
});
