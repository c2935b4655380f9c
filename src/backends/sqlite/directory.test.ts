import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from './db.js';
import { DIRECTORY_MIGRATIONS } from './directory-schema.js';
import { SqliteDirectoryStore } from './directory.js';

test('upgrade: a directory from before tenants gets the default tenant, users keep their passwords', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hikyaku-dir-'));
  try {
    const path = join(dir, 'directory.db');
    const old = openDb(path, DIRECTORY_MIGRATIONS.slice(0, 2));
    old.prepare('INSERT INTO domains (name, created_at) VALUES (?, ?)').run('old.test', 1);
    old.prepare('INSERT INTO accounts (address, domain, password_hash, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?)').run('a@old.test', 'old.test', 'hash', 7, 2);
    old.close();
    const store = new SqliteDirectoryStore(path);
    const snap = await store.snapshot();
    assert.deepEqual(snap.domains, [{ name: 'old.test', tenant: 'default', createdAt: 1, retentionDays: null }]);
    const a = snap.accounts[0]!;
    assert.deepEqual([a.address, a.passwordHash, a.quotaBytes, a.role, a.disabled, a.mustChangePassword, a.name], ['a@old.test', 'hash', 7, 'user', false, false, '']);
    assert.deepEqual(snap.tenants.map((t) => [t.name, t.suspended]), [['default', false]]);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
