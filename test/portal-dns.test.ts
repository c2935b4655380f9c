import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { generateDkimKey } from '../src/directory/index.js';
import { removeDir, startTestService, tempDir, testPasswordHash, type TestService } from './helpers/service.js';
import { startDnsServer } from './helpers/dns-server.js';
import { PortalClient } from './helpers/portal.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

describe('a domain\'s DNS records in the portal, checked live through the relay\'s resolver', () => {
  let dir: string;
  let t: TestService;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let admin: PortalClient;
  let browser: Browser;
  /** The Domains page as admin@dns.test sees it in English, and the errors it throws. */
  const domainsPage = async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await page.goto(`http://127.0.0.1:${t.portalPort}/domains`);
    await page.getByLabel('Mail address').fill('admin@dns.test');
    await page.getByLabel('Password').fill('test-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    return { page, errors };
  };
  const states = (records: { purpose: string; selector?: string; state: string }[]) => records.map((r) => `${r.purpose}${r.selector ? ':' + r.selector : ''}=${r.state}`);

  before(async () => {
    dns = await startDnsServer({ mx: {}, a: {}, txt: {} });
    dir = tempDir();
    t = await startTestService(dir, { 'relay.dnsServers': `127.0.0.1:${dns.port}` });
    await t.directoryStore.addTenant('acme', 'Acme');
    await t.directoryStore.addDomain('dns.test', generateDkimKey('ed25519-sha256', 'first'), 'acme');
    await t.directoryStore.addAccount({ address: 'admin@dns.test', passwordHash: await testPasswordHash(), quotaBytes: 0, role: 'tenant-admin' });
    await t.service.directory.refresh();
    admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    await admin.login('admin@dns.test');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await t.stop();
    await dns.close();
    removeDir(dir);
  });

  test('nothing published: every record missing; published as shown: every record ok; a wrong SPF is different', async () => {
    const expected = await admin.call('GET', '/api/v1/domains/dns.test/dns');
    assert.match(expected.body.zone, /^dns\.test\. 3600 IN MX 10 mx\.hikyaku\.test\.$/m);
    assert.match(expected.body.zone, /^first\._domainkey\.dns\.test\. 3600 IN TXT "v=DKIM1; k=ed25519; p=/m);
    let checked = await admin.call('GET', '/api/v1/domains/dns.test/dns/check');
    assert.deepEqual(states(checked.body.records), ['mx=missing', 'spf=missing', 'dkim:first=missing', 'dmarc=missing']);

    // The customer publishes what the page says.
    const dkim = expected.body.records.find((r: { purpose: string }) => r.purpose === 'dkim');
    dns.zone.mx['dns.test'] = [{ exchange: 'mx.hikyaku.test', priority: 10 }];
    dns.zone.txt['dns.test'] = ['v=spf1 include:_spf.elsewhere.test -all', 'some-site-verification=1'];
    dns.zone.txt['first._domainkey.dns.test'] = [dkim.value];
    dns.zone.txt['_dmarc.dns.test'] = ['v=DMARC1; p=quarantine'];
    checked = await admin.call('GET', '/api/v1/domains/dns.test/dns/check');
    assert.deepEqual(states(checked.body.records), ['mx=ok', 'spf=different', 'dkim:first=ok', 'dmarc=ok']);
    assert.deepEqual(checked.body.records[1].found, ['v=spf1 include:_spf.elsewhere.test -all']);
    dns.zone.txt['dns.test'] = ['v=spf1 mx ~all'];
    checked = await admin.call('GET', '/api/v1/domains/dns.test/dns/check');
    assert.deepEqual(states(checked.body.records), ['mx=ok', 'spf=ok', 'dkim:first=ok', 'dmarc=ok']);
  });

  test('a DKIM rotation in the browser: the new key signs, the old stays listed as retired, and the check shows the new one missing until published', async () => {
    const { page, errors } = await domainsPage();
    const region = page.getByRole('region', { name: 'dns.test' });
    await region.getByRole('heading', { name: 'DNS records to publish' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await region.getByLabel('Key type').selectOption('ed25519');
    await region.getByRole('button', { name: 'Rotate the DKIM key' }).click();
    const notice = await page.getByRole('status').filter({ hasText: /New DKIM key \S+ signs from now on/ }).textContent();
    const selector = /New DKIM key (\S+) signs/.exec(notice ?? '')?.[1];
    assert.ok(selector);
    assert.equal(t.service.directory.dkimKey('dns.test')?.selector, selector, 'the new key signs');
    await region.getByRole('button', { name: 'Check what is published now' }).click();
    const table = region.getByRole('table', { name: 'Check what is published now' });
    await table.waitFor();
    const rows = (await table.getByRole('row').allTextContents()).slice(1);
    assert.ok(rows.some((r) => r.includes(`DKIM (${selector})`) && r.includes('missing')), rows.join('\n'));
    assert.ok(rows.some((r) => r.includes('DKIM (first, retired)') && r.includes('published')), rows.join('\n'));
    assert.match((await region.getByLabel('DNS records to publish').textContent()) ?? '', /first\._domainkey.*; retired/);
    await screenshot(page, 'dns');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the domain\'s own records in the browser: add, a refusal shown with its sentence, change, delete; the zone file shown', async () => {
    const { page, errors } = await domainsPage();
    const region = page.getByRole('region', { name: 'dns.test' });
    const form = region.getByRole('form', { name: 'Add record' });
    await form.getByLabel('Record').fill('www');
    await form.getByLabel('Value').fill('192.0.2.44');
    await form.getByRole('button', { name: 'Add record' }).click();
    const table = region.getByRole('table', { name: 'Your DNS records' });
    await table.getByRole('cell', { name: '192.0.2.44' }).waitFor();
    await form.getByLabel('Record').fill('www');
    await form.getByLabel('Type').selectOption('CNAME');
    await form.getByLabel('Value').fill('elsewhere.example.net');
    await form.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('alert').filter({ hasText: 'a CNAME must be the only record of its name' }).waitFor();
    await table.getByRole('row', { name: /www A/ }).getByRole('button', { name: 'Edit' }).click();
    const change = region.getByRole('form', { name: 'Save record' });
    await change.getByLabel('Value').fill('192.0.2.45');
    await change.getByRole('button', { name: 'Save record' }).click();
    await table.getByRole('cell', { name: '192.0.2.45' }).waitFor();
    assert.deepEqual((await t.directoryStore.listDnsRecords('dns.test')).map((r) => `${r.name} ${r.type} ${r.value}`), ['www A 192.0.2.45']);
    await form.getByLabel('Record').fill('@');
    await form.getByLabel('Type').selectOption('TXT');
    await form.getByLabel('Value').fill('site-verification=xyz');
    await form.getByRole('button', { name: 'Add record' }).click();
    await table.getByRole('cell', { name: 'site-verification=xyz' }).waitFor();
    await region.getByText('The whole zone as a zone file').click();
    const zone = (await region.getByLabel('The whole zone as a zone file').textContent()) ?? '';
    assert.match(zone, /^www\.dns\.test\.\t3600\tIN\tA\t192\.0\.2\.45$/m);
    assert.match(zone, /^dns\.test\.\t3600\tIN\tMX\t10 /m);
    await screenshot(page, 'dns-records');
    page.once('dialog', (d) => void d.accept());
    await table.getByRole('row', { name: /www A/ }).getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').filter({ hasText: 'The record was deleted.' }).waitFor();
    assert.deepEqual((await t.directoryStore.listDnsRecords('dns.test')).map((r) => r.type), ['TXT']);
    assert.deepEqual(errors.filter((e) => !/ 400 /.test(e)), []);
    await page.close();
  });
});
