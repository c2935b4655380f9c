import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPassword } from '../src/directory/index.js';
import { hikyaku, removeDir, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { SmtpClient } from './helpers/smtp-client.js';

describe('hikyaku CLI', () => {
  let dir: string;

  before(() => {
    dir = tempDir();
  });

  after(() => removeDir(dir));

  test('domains: add, list (--json), duplicate and invalid names refused', async () => {
    assert.equal((await hikyaku(dir, ['domain', 'add', 'Example.COM'])).code, 0);
    const dup = await hikyaku(dir, ['domain', 'add', 'example.com']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already hosted: example\.com/);
    const bad = await hikyaku(dir, ['domain', 'add', 'not a domain']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a valid domain name/);
    const list = JSON.parse((await hikyaku(dir, ['domain', 'list', '--json'])).stdout) as { name: string }[];
    assert.deepEqual(list.map((d) => d.name), ['example.com']);
  });

  test('domain dns prints MX, SPF, DKIM and DMARC; dkim-rotate adds a selector and keeps the old one published', async () => {
    const dns = await hikyaku(dir, ['domain', 'dns', 'example.com']);
    assert.equal(dns.code, 0, dns.stderr);
    const lines = dns.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^example\.com\. 3600 IN MX 10 \S+\.$/);
    assert.match(lines[1]!, /^example\.com\. 3600 IN TXT "v=spf1 mx a:\S+ ~all"$/);
    assert.match(lines[2]!, /^hk\d{8}\._domainkey\.example\.com\. 3600 IN TXT \( "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+/);
    assert.match(lines[3]!, /^_dmarc\.example\.com\. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@example\.com"$/);
    const rotated = await hikyaku(dir, ['domain', 'dkim-rotate', 'example.com', '--dkim', 'ed25519']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const selector = /signs with selector (\S+);/.exec(rotated.stdout)![1]!;
    const after = (await hikyaku(dir, ['domain', 'dns', 'example.com'])).stdout.trim().split('\n');
    assert.equal(after.length, 5);
    assert.match(after[2]!, new RegExp(`^${selector}\\._domainkey\\.example\\.com\\. 3600 IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$`));
    assert.match(after[3]!, /k=rsa; .*; retired: keep it published/);
    assert.equal((await hikyaku(dir, ['domain', 'dns', 'nowhere.test'])).code, 1);
    assert.equal((await hikyaku(dir, ['domain', 'dkim-rotate', 'example.com', '--dkim', 'dsa'])).code, 2);
  });

  test('queue list: empty queue, bad --limit', async () => {
    const empty = await hikyaku(dir, ['queue', 'list']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout.trim(), '(none)');
    assert.deepEqual(JSON.parse((await hikyaku(dir, ['queue', 'list', '--json'])).stdout), []);
    assert.equal((await hikyaku(dir, ['queue', 'list', '--limit', '0'])).code, 2);
    assert.equal((await hikyaku(dir, ['queue', 'flush'])).code, 2);
  });

  test('accounts: generated password printed once, stdin password, argon2id hash, quota, errors', async () => {
    const gen = await hikyaku(dir, ['account', 'add', 'Alice@example.com', '--quota', '2G']);
    assert.equal(gen.code, 0, gen.stderr);
    const password = /password: (\S+)/.exec(gen.stdout)![1]!;
    assert.ok(password.length >= 16);
    assert.equal((await hikyaku(dir, ['account', 'add', 'bob@example.com', '--password-stdin'], { input: 'correct horse battery\n' })).code, 0);
    const store = (await startTestService(dir, { roles: 'delivery' })) as TestService;
    try {
      const accounts = await store.directoryStore.listAccounts();
      const alice = accounts.find((a) => a.address === 'alice@example.com')!;
      const bob = accounts.find((a) => a.address === 'bob@example.com')!;
      assert.match(alice.passwordHash, /^\$argon2id\$/);
      assert.equal(alice.quotaBytes, 2 * 1024 ** 3);
      assert.ok(await verifyPassword(alice.passwordHash, password));
      assert.ok(await verifyPassword(bob.passwordHash, 'correct horse battery'));
    } finally {
      await store.stop();
    }
    const dup = await hikyaku(dir, ['account', 'add', 'alice@example.com']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already in use/);
    const unknownDomain = await hikyaku(dir, ['account', 'add', 'x@unknown.test']);
    assert.equal(unknownDomain.code, 1);
    assert.match(unknownDomain.stderr, /not hosted here: unknown\.test/);
    const invalid = await hikyaku(dir, ['account', 'add', 'no-at-sign']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /not an e-mail address/);
    const short = await hikyaku(dir, ['account', 'passwd', 'bob@example.com', '--password-stdin'], { input: 'short\n' });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 8 characters/);
    assert.equal((await hikyaku(dir, ['account', 'passwd', 'bob@example.com'])).code, 0);
    const badQuota = await hikyaku(dir, ['account', 'quota', 'bob@example.com', 'lots']);
    assert.equal(badQuota.code, 2);
    const list = JSON.parse((await hikyaku(dir, ['account', 'list', 'example.com', '--json'])).stdout) as { address: string; quotaBytes: number }[];
    assert.deepEqual(list.map((a) => a.address), ['alice@example.com', 'bob@example.com']);
    const table = (await hikyaku(dir, ['account', 'list'])).stdout;
    assert.match(table, /^ADDRESS\s+NAME\s+ROLE\s+STATE\s+QUOTA\s+CREATED\nalice@example\.com\s+user\s+active\s+2G\s+/);
  });

  test('aliases and catch-all: add merges targets, remove drops targets or the alias; outside targets are relayed', async () => {
    assert.equal((await hikyaku(dir, ['alias', 'add', 'sales@example.com', 'alice@example.com'])).code, 0);
    assert.equal((await hikyaku(dir, ['alias', 'add', 'sales@example.com', 'bob@example.com'])).code, 0);
    assert.equal((await hikyaku(dir, ['alias', 'add', '@example.com', 'alice@example.com'])).code, 0);
    let aliases = JSON.parse((await hikyaku(dir, ['alias', 'list', '--json'])).stdout) as { address: string; targets: string[]; catchAll: boolean }[];
    assert.deepEqual(aliases, [
      { address: '@example.com', domain: 'example.com', targets: ['alice@example.com'], catchAll: true },
      { address: 'sales@example.com', domain: 'example.com', targets: ['alice@example.com', 'bob@example.com'], catchAll: false },
    ]);
    const outside = await hikyaku(dir, ['alias', 'add', 'info@example.com', 'someone@gmail.test']);
    assert.equal(outside.code, 0, outside.stderr);
    assert.match(outside.stdout, /info@example.com → someone@gmail.test/);
    assert.equal((await hikyaku(dir, ['alias', 'add', 'info@example.com', 'not an address'])).code, 2);
    assert.equal((await hikyaku(dir, ['alias', 'remove', 'info@example.com'])).code, 0);
    const clash = await hikyaku(dir, ['alias', 'add', 'alice@example.com', 'bob@example.com']);
    assert.equal(clash.code, 1);
    assert.equal((await hikyaku(dir, ['alias', 'remove', 'sales@example.com', 'alice@example.com'])).code, 0);
    aliases = JSON.parse((await hikyaku(dir, ['alias', 'list', '--json'])).stdout);
    assert.deepEqual(aliases.find((a) => a.address === 'sales@example.com')!.targets, ['bob@example.com']);
    assert.equal((await hikyaku(dir, ['alias', 'remove', '@example.com'])).code, 0);
    assert.equal((await hikyaku(dir, ['alias', 'remove', '@example.com'])).code, 1);
  });

  test('forwards: set with and without a copy, list, remove', async () => {
    assert.equal((await hikyaku(dir, ['forward', 'set', 'bob@example.com', 'alice@example.com', '--keep-copy'])).code, 0);
    const list = JSON.parse((await hikyaku(dir, ['forward', 'list', '--json'])).stdout);
    assert.deepEqual(list, [{ account: 'bob@example.com', targets: ['alice@example.com'], keepCopy: true, enabled: true, conditions: null }]);
    assert.equal((await hikyaku(dir, ['forward', 'remove', 'bob@example.com'])).code, 0);
    assert.equal((await hikyaku(dir, ['forward', 'remove', 'bob@example.com'])).code, 1);
    assert.equal((await hikyaku(dir, ['forward', 'set', 'nobody@example.com', 'alice@example.com'])).code, 1);
  });

  test('tenants: add, domains in them, admins by role, suspend and resume; operators; bad names refused', async () => {
    const add = await hikyaku(dir, ['tenant', 'add', 'acme', '--name', 'Acme 株式会社']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await hikyaku(dir, ['tenant', 'add', 'acme'])).code, 1);
    const bad = await hikyaku(dir, ['tenant', 'add', 'Not OK']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a tenant name/);
    assert.match((await hikyaku(dir, ['domain', 'add', 'acme.test', '--tenant', 'acme'])).stdout, /added to tenant acme/);
    assert.equal((await hikyaku(dir, ['domain', 'add', 'x.test', '--tenant', 'nobody'])).code, 1);
    const admin = await hikyaku(dir, ['account', 'add', 'boss@acme.test', '--role', 'tenant-admin', '--name', '社長']);
    assert.match(admin.stdout, /tenant-admin/);
    assert.equal((await hikyaku(dir, ['account', 'add', 'x@acme.test', '--role', 'king'])).code, 2);
    assert.equal((await hikyaku(dir, ['account', 'role', 'boss@acme.test', 'domain-admin'])).code, 0);
    assert.equal((await hikyaku(dir, ['account', 'disable', 'boss@acme.test'])).code, 0);
    const accounts = JSON.parse((await hikyaku(dir, ['account', 'list', 'acme.test', '--json'])).stdout) as { role: string; state: string; name: string }[];
    assert.deepEqual(accounts.map((a) => [a.name, a.role, a.state]), [['社長', 'domain-admin', 'disabled']]);
    assert.equal((await hikyaku(dir, ['tenant', 'suspend', 'acme'])).code, 0);
    let tenants = JSON.parse((await hikyaku(dir, ['tenant', 'list', '--json'])).stdout) as { name: string; state: string; domains: string[] }[];
    assert.deepEqual(tenants.find((t) => t.name === 'acme'), { ...tenants.find((t) => t.name === 'acme'), state: 'suspended', domains: ['acme.test'] });
    assert.ok(tenants.find((t) => t.name === 'default')!.domains.includes('example.com'), 'domains from before tenants are the default tenant\'s');
    await hikyaku(dir, ['tenant', 'resume', 'acme']);
    assert.equal((await hikyaku(dir, ['tenant', 'domain', 'example.com', 'acme'])).code, 0);
    tenants = JSON.parse((await hikyaku(dir, ['tenant', 'list', '--json'])).stdout);
    assert.deepEqual(tenants.find((t) => t.name === 'acme')!.domains, ['acme.test', 'example.com']);
    assert.equal(tenants.find((t) => t.name === 'acme')!.state, 'active');
    await hikyaku(dir, ['tenant', 'domain', 'example.com', 'default']);

    const op = await hikyaku(dir, ['operator', 'add', 'ops-tanaka']);
    assert.match(op.stdout, /password: \S{20}/);
    assert.equal((await hikyaku(dir, ['operator', 'add', 'a@b.test'])).code, 2, 'an operator login has no @');
    assert.equal((await hikyaku(dir, ['operator', 'passwd', 'ops-tanaka', '--password-stdin'], { input: 'short\n' })).code, 1);
    assert.deepEqual(JSON.parse((await hikyaku(dir, ['operator', 'list', '--json'])).stdout).map((o: { login: string }) => o.login), ['ops-tanaka']);
    assert.equal((await hikyaku(dir, ['operator', 'remove', 'ops-tanaka'])).code, 0);
  });

  test('domain remove refuses while accounts remain, unless --force', async () => {
    const r = await hikyaku(dir, ['domain', 'remove', 'example.com']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /still has accounts/);
  });

  test('unknown command and bad option: usage and exit 2', async () => {
    const r = await hikyaku(dir, ['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    const o = await hikyaku(dir, ['domain', 'list', '--bogus']);
    assert.equal(o.code, 2);
  });

  test('a bad configuration value stops start-up with a sentence naming the key', async () => {
    const env = await hikyaku(dir, ['start'], { env: { HIKYAKU_MX_PORT: '99999' } });
    assert.equal(env.code, 78);
    assert.match(env.stderr, /configuration key mx\.port \(from HIKYAKU_MX_PORT\) must be a whole number from 0 to 65535, got "99999"/);
    writeFileSync(join(dir, 'hikyaku.json'), JSON.stringify({ smtp: { maxRecipients: 'many' } }));
    const file = await hikyaku(dir, ['start']);
    assert.equal(file.code, 78);
    assert.match(file.stderr, /smtp\.maxRecipients \(from hikyaku\.json\)/);
    writeFileSync(join(dir, 'hikyaku.json'), JSON.stringify({ mx: { prot: 25 } }));
    assert.match((await hikyaku(dir, ['start'])).stderr, /unknown configuration key "mx\.prot"/);
    writeFileSync(join(dir, 'hikyaku.json'), '{}');
    const roles = await hikyaku(dir, ['start', '--roles', 'mx,teleport'], { env: {} });
    assert.match(roles.stderr, /"teleport" is not a role/);
  });

  test('the running service sees a directory change within a second', async () => {
    const t = await startTestService(dir);
    try {
      const c = await SmtpClient.open(t.port);
      await c.command('MAIL FROM:<s@client.test>');
      assert.equal((await c.command('RCPT TO:<carol@example.com>')).code, 550);
      assert.equal((await hikyaku(dir, ['account', 'add', 'carol@example.com'])).code, 0);
      const added = Date.now();
      assert.ok(await waitFor(async () => (await c.command('RCPT TO:<carol@example.com>')).code === 250, 1000, 50), 'accepted within 1 s');
      console.log(`directory change seen after ${Date.now() - added} ms`);
      await c.quit();
    } finally {
      await t.stop();
    }
  });
});

test('docs/config.md is the generated configuration reference', async () => {
  const { ROOT } = await import('./helpers/service.js');
  const generated = await hikyaku(tempDir(), ['config', 'reference']);
  assert.equal(generated.code, 0);
  assert.equal(readFileSync(join(ROOT, 'docs/config.md'), 'utf8'), generated.stdout, 'run: npx hikyaku config reference > docs/config.md');
});

test('config show never prints a secret; a bad --fault or hikyaku fault is refused with a sentence; hikyaku fault sets and clears the switch', async () => {
  const dir = tempDir();
  try {
    const shown = await hikyaku(dir, ['config', 'show'], { env: { HIKYAKU_SRS_SECRET: 'very-secret-srs', HIKYAKU_RELAY_SMARTHOST_PASSWORD: 'hunter2-smarthost' } });
    assert.equal(shown.code, 0);
    assert.doesNotMatch(shown.stdout, /very-secret-srs|hunter2-smarthost/);
    const config = JSON.parse(shown.stdout) as Record<string, unknown>;
    assert.equal(config['srs.secret'], '(set, not shown)');
    assert.equal(config['relay.smarthostPassword'], '(set, not shown)');
    const badFault = await hikyaku(dir, ['start', '--fault', 'mailstore=explode']);
    assert.equal(badFault.code, 78);
    assert.match(badFault.stderr, /fault\.mailstore .*must be none, hang, fail, slow:<N>ms or slow:<N>x/);
    const badTarget = await hikyaku(dir, ['start', '--fault', 'spool=hang']);
    assert.equal(badTarget.code, 2);
    assert.match(badTarget.stderr, /--fault takes mailstore=/);
    const badSwitch = await hikyaku(dir, ['fault', 'mailstore=explode']);
    assert.equal(badSwitch.code, 2);
    assert.match(badSwitch.stderr, /must be none, hang, fail/);
    assert.equal((await hikyaku(dir, ['fault', 'mailstore=slow:10x'])).code, 0);
    assert.equal(readFileSync(join(dir, 'fault'), 'utf8'), 'mailstore=slow:10x\n');
    assert.equal((await hikyaku(dir, ['fault', 'clear'])).code, 0);
    assert.equal(existsSync(join(dir, 'fault')), false);
  } finally {
    removeDir(dir);
  }
});
