import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HikyakuError } from '../../src/mail/index.js';
import { removeDir, tempDir } from '../helpers/service.js';
import { backendsWith, withStore } from './backends.js';

const code = (c: string) => (e: unknown) => e instanceof HikyakuError && e.code === c;

for (const backend of backendsWith('directory', 'DirectoryStore contract')) {
  describe(`DirectoryStore contract: ${backend.name}`, () => {
    test('DKIM keys: the first comes with the domain, a rotation makes the new one active and keeps the old', async () => {
      await withStore(backend.directory, async (s) => {
        const key = (selector: string) => ({ selector, algorithm: 'rsa-sha256' as const, privateKey: `pem-${selector}`, publicKey: `pub-${selector}` });
        await s.addDomain('k.test', key('s1'));
        assert.deepEqual((await s.snapshot()).dkimKeys.map((k) => [k.domain, k.selector, k.active]), [['k.test', 's1', true]]);
        const v = await s.version();
        await s.addDkimKey('k.test', { ...key('s2'), algorithm: 'ed25519-sha256' });
        assert.ok((await s.version()) > v, 'a rotation reaches caches');
        assert.deepEqual((await s.listDkimKeys('k.test')).map((k) => [k.selector, k.active, k.algorithm]), [['s2', true, 'ed25519-sha256'], ['s1', false, 'rsa-sha256']]);
        assert.deepEqual((await s.snapshot()).dkimKeys.map((k) => [k.selector, k.active]), [['s2', true], ['s1', false]], 'the snapshot has both, the active one first (the old one stays published in DNS)');
        await assert.rejects(s.addDkimKey('k.test', key('s1')), code('ERR_DKIM_SELECTOR_TAKEN'));
        await assert.rejects(s.addDkimKey('none.test', key('s1')), code('ERR_DOMAIN_UNKNOWN'));
        await s.removeDomain('k.test', false);
        assert.deepEqual((await s.snapshot()).dkimKeys, []);
      });
    });

    test('DNS records: added, changed, removed by id within their domain; in the snapshot; gone with the domain', async () => {
      await withStore(backend.directory, async (s) => {
        await s.addDomain('z.test');
        await s.addDomain('y.test');
        const v = await s.version();
        const www = await s.addDnsRecord('z.test', { name: 'www', type: 'A', ttl: 300, value: '192.0.2.1' });
        assert.ok((await s.version()) > v, 'a record reaches caches');
        const txt = await s.addDnsRecord('z.test', { name: '@', type: 'TXT', ttl: 60, value: 'verify=1' });
        await s.addDnsRecord('y.test', { name: 'www', type: 'CNAME', ttl: 300, value: 'z.test' });
        assert.deepEqual(www, { id: www.id, domain: 'z.test', name: 'www', type: 'A', ttl: 300, value: '192.0.2.1' });
        assert.deepEqual((await s.listDnsRecords('z.test')).map((r) => [r.name, r.type, r.value]), [['@', 'TXT', 'verify=1'], ['www', 'A', '192.0.2.1']]);
        const changed = await s.updateDnsRecord('z.test', www.id, { name: 'www', type: 'A', ttl: 600, value: '192.0.2.2' });
        assert.equal(changed.ttl, 600);
        await assert.rejects(s.updateDnsRecord('y.test', www.id, { name: 'x', type: 'A', ttl: 60, value: '192.0.2.3' }), code('ERR_DNS_RECORD_UNKNOWN'), 'not through another domain');
        await assert.rejects(s.removeDnsRecord('y.test', txt.id), code('ERR_DNS_RECORD_UNKNOWN'));
        await assert.rejects(s.addDnsRecord('none.test', { name: 'x', type: 'A', ttl: 60, value: '192.0.2.3' }), code('ERR_DOMAIN_UNKNOWN'));
        await s.removeDnsRecord('z.test', txt.id);
        assert.deepEqual((await s.snapshot()).dnsRecords.map((r) => [r.domain, r.name, r.value]), [['y.test', 'www', 'z.test'], ['z.test', 'www', '192.0.2.2']]);
        await s.removeDomain('z.test', false);
        assert.deepEqual((await s.snapshot()).dnsRecords.map((r) => r.domain), ['y.test']);
      });
    });

    test('domains, accounts, aliases, forwards; every change bumps the version', async () => {
      await withStore(backend.directory, async (s) => {
        const v0 = await s.version();
        await s.addDomain('a.test');
        assert.ok((await s.version()) > v0);
        await assert.rejects(s.addDomain('a.test'), code('ERR_DOMAIN_EXISTS'));
        await assert.rejects(s.addAccount({ address: 'x@b.test', passwordHash: 'h', quotaBytes: 0 }), code('ERR_DOMAIN_UNKNOWN'));
        const acct = await s.addAccount({ address: 'x@a.test', passwordHash: 'h', quotaBytes: 5 });
        assert.equal(acct.domain, 'a.test');
        await assert.rejects(s.addAccount({ address: 'x@a.test', passwordHash: 'h', quotaBytes: 0 }), code('ERR_ADDRESS_TAKEN'));
        await assert.rejects(s.setAlias('x@a.test', ['y@a.test']), code('ERR_ADDRESS_TAKEN'));
        await s.setAlias('al@a.test', ['x@a.test']);
        await assert.rejects(s.addAccount({ address: 'al@a.test', passwordHash: 'h', quotaBytes: 0 }), code('ERR_ADDRESS_TAKEN'));
        await s.setForward('x@a.test', ['al@a.test'], true);
        const v1 = await s.version();
        const snap = await s.snapshot();
        assert.equal(snap.version, v1);
        assert.equal(snap.accounts.length, 1);
        assert.deepEqual(snap.aliases.map((a) => a.address), ['al@a.test']);
        assert.deepEqual(snap.forwards, [{ account: 'x@a.test', targets: ['al@a.test'], keepCopy: true, enabled: true, conditions: null }]);
        await assert.rejects(s.removeDomain('a.test', false), code('ERR_DOMAIN_NOT_EMPTY'));
        await s.removeAccount('x@a.test');
        assert.deepEqual(await s.listForwards(), [], 'the forward goes with its account');
        await assert.rejects(s.removeAccount('x@a.test'), code('ERR_ACCOUNT_UNKNOWN'));
        await s.removeDomain('a.test', true);
        assert.deepEqual(await s.listAliases(), []);
        assert.deepEqual(await s.listDomains(), []);
      });
    });

    test('a change by one handle is seen by another (CLI and service)', async () => {
      const dir = tempDir();
      const a = backend.directory(dir);
      const b = backend.directory(dir);
      try {
        const v = await b.version();
        await a.addDomain('c.test');
        assert.ok((await b.version()) > v);
        assert.deepEqual((await b.listDomains()).map((d) => d.name), ['c.test']);
      } finally {
        await a.close();
        await b.close();
        removeDir(dir);
      }
    });
  });
}
