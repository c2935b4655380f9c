import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsRecord } from '../directory/index.js';
import { checkRecord, ownerName, toZoneRecord } from './custom-records.js';
import { nextKeyExpiry, zoneRecords, type ZoneSettings } from './zone.js';
import { zoneFile } from './zone-file.js';

const settings: ZoneSettings = {
  nameservers: ['ns1.p.test'],
  mailHost: 'mail.p.test',
  webHost: 'web.p.test',
  ttl: 3600,
  webAddresses: [],
  hostAddresses: [],
  mtaStsMode: 'testing',
  dkimRetiredMs: 7 * 86_400_000,
  tlsRptAddress: '',
  ports: { submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995 },
};
const managed = zoneRecords('a.test', [], 1, settings);
const own = (id: number, name: string, type: DnsRecord['type'], value: string): DnsRecord => ({ id, domain: 'a.test', name, type, ttl: 300, value });
const check = (input: Record<string, unknown>, others: DnsRecord[] = []) => checkRecord('a.test', input, others, managed);
const problem = (input: Record<string, unknown>, others: DnsRecord[] = []) => {
  const r = check(input, others);
  assert.ok('problem' in r, `refused: ${JSON.stringify(input)}`);
  return r.problem;
};

test('owner names: @, relative, full with and without the dot; outside the zone, wildcards, bad labels refused', () => {
  assert.equal(ownerName('a.test', '@'), '@');
  assert.equal(ownerName('a.test', ''), '@');
  assert.equal(ownerName('a.test', 'a.test.'), '@');
  assert.equal(ownerName('a.test', 'WWW'), 'www');
  assert.equal(ownerName('a.test', 'shop.eu.a.test.'), 'shop.eu');
  assert.equal(ownerName('a.test', 'shop.a.test'), 'shop');
  assert.equal(ownerName('a.test', '_acme-challenge'), '_acme-challenge');
  for (const bad of ['www.b.test.', 'a.test.evil.', '*', '*.x', 'a..b', '-x', 'x-', 'sp ace', 'ü', 'x\u0000', 'x'.repeat(64), `${'x.'.repeat(125)}x`]) {
    assert.equal(typeof ownerName('a.test', bad), 'object', JSON.stringify(bad));
  }
});

test('values are checked and normalized for each type', () => {
  const ok = (input: Record<string, unknown>) => {
    const r = check(input);
    assert.ok('ok' in r, JSON.stringify(input) + ('problem' in r ? r.problem.message : ''));
    return r.ok;
  };
  assert.deepEqual(ok({ name: 'www', type: 'a', value: ' 192.0.2.1 ' }), { name: 'www', type: 'A', ttl: 3600, value: '192.0.2.1' });
  assert.equal(ok({ name: 'www', type: 'AAAA', value: '2001:DB8::1' }).value, '2001:db8::1');
  assert.equal(ok({ name: 'shop', type: 'CNAME', value: 'Shops.Example.NET.' }).value, 'shops.example.net');
  assert.equal(ok({ name: 'old', type: 'MX', value: '0 .' }).value, '0 .', 'RFC 7505 null MX');
  assert.equal(ok({ name: '_sip._tcp', type: 'SRV', value: '10 5 5060 sip.example.net.' }).value, '10 5 5060 sip.example.net');
  assert.equal(ok({ name: '@', type: 'CAA', value: '0 ISSUE "letsencrypt.org"' }).value, '0 issue "letsencrypt.org"');
  assert.equal(ok({ name: '@', type: 'TXT', value: '"google-site-verification=abc" "def"' }).value, 'google-site-verification=abcdef');
  assert.equal(ok({ name: 'x', type: 'TXT', value: 'say "hi"', ttl: 60 }).ttl, 60);

  assert.equal(problem({ name: 'www', type: 'A', value: '192.0.2.256' }).field, 'value');
  assert.equal(problem({ name: 'www', type: 'A', value: '::1' }).field, 'value');
  assert.equal(problem({ name: 'www', type: 'AAAA', value: '192.0.2.1' }).field, 'value');
  assert.equal(problem({ name: 'shop', type: 'CNAME', value: 'localhost' }).field, 'value', 'a relative target is refused');
  assert.equal(problem({ name: 'x', type: 'MX', value: '70000 mx.example.net' }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'MX', value: '10 mx.example.net extra' }).field, 'value');
  assert.equal(problem({ name: 'sip', type: 'SRV', value: '10 5 5060 sip.example.net' }).field, 'name', 'SRV needs _service._proto');
  assert.equal(problem({ name: '_sip._tcp', type: 'SRV', value: '10 5 99999 sip.example.net' }).field, 'value');
  assert.equal(problem({ name: '@', type: 'CAA', value: '256 issue "x"' }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'TXT', value: 'line\r\nbreak' }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'TXT', value: 'nul\u0000' }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'TXT', value: 'y'.repeat(4001) }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'TXT', value: '' }).field, 'value');
  assert.equal(problem({ name: 'x', type: 'NS', value: 'ns.example.net' }).field, 'type', 'delegation is not offered');
  assert.equal(problem({ name: 'x', type: 'A', value: '192.0.2.1', ttl: 59 }).field, 'ttl');
  assert.equal(problem({ name: 'x', type: 'A', value: '192.0.2.1', ttl: 604_801 }).field, 'ttl');
  assert.equal(problem({ name: 'x', type: 'A', value: '192.0.2.1', ttl: 1.5 }).field, 'ttl');
  assert.equal(problem({ name: 'x', type: 'A', value: '192.0.2.1', ttl: '300' }).field, 'ttl');
  assert.equal(problem({ name: 7, type: 'A', value: '192.0.2.1' }).field, 'name');
  assert.equal(problem({ name: 'x', type: 'A', value: null }).field, 'value');
});

test('no CNAME beside other data, none at the apex; managed records are not replaced; no second SPF; no duplicates', () => {
  const www = own(1, 'www', 'A', '192.0.2.1');
  assert.match(problem({ name: 'www', type: 'CNAME', value: 'x.example.net' }, [www]).message, /only record/);
  assert.match(problem({ name: 'www', type: 'TXT', value: 'x' }, [own(2, 'www', 'CNAME', 'x.example.net')]).message, /is a CNAME/);
  assert.match(problem({ name: '@', type: 'CNAME', value: 'x.example.net' }).message, /itself cannot be a CNAME/);
  assert.match(problem({ name: 'autoconfig', type: 'A', value: '192.0.2.1' }).message, /is a CNAME/, 'the managed autoconfig CNAME');
  assert.match(problem({ name: 'mta-sts', type: 'TXT', value: 'x' }).message, /is a CNAME/);
  assert.match(problem({ name: '@', type: 'MX', value: '5 mx.other.net' }).message, /published by Hikyaku/);
  assert.match(problem({ name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=reject' }).message, /published by Hikyaku/);
  assert.match(problem({ name: '@', type: 'TXT', value: 'v=spf1 include:other.net ~all' }).message, /SPF/);
  assert.ok('ok' in check({ name: '@', type: 'TXT', value: 'google-site-verification=abc' }), 'other TXT at the apex is fine');
  assert.match(problem({ name: 'www', type: 'A', value: '192.0.2.1' }, [www]).message, /already has/);
  assert.ok('ok' in check({ name: 'www', type: 'A', value: '192.0.2.2' }, [www]), 'a second address is fine');
  assert.ok('ok' in check({ name: 'www', type: 'CNAME', value: 'x.example.net' }, []), 'a CNAME alone is fine');
  const withWeb = zoneRecords('a.test', [], 1, { ...settings, webAddresses: ['192.0.2.9'] });
  const r = checkRecord('a.test', { name: 'www', type: 'A', value: '192.0.2.1' }, [], withWeb);
  assert.ok('problem' in r && /published by Hikyaku/.test(r.problem.message), 'the website address is managed when configured');
});

test('the zone file has the SOA first, every record in master-file form, TXT quoted with escapes', () => {
  const records = [
    ...managed,
    toZoneRecord('a.test', own(1, 'www', 'A', '192.0.2.1')),
    toZoneRecord('a.test', own(2, '@', 'CAA', '0 issue "letsencrypt.org"')),
    toZoneRecord('a.test', own(3, 'q', 'TXT', 'say "hi" \\ ü')),
    toZoneRecord('a.test', own(4, 'old', 'MX', '0 .')),
    toZoneRecord('a.test', own(5, '_sip._tcp', 'SRV', '1 2 5060 sip.example.net')),
  ];
  const text = zoneFile('a.test', records);
  const lines = text.split('\n');
  assert.equal(lines[0], '$ORIGIN a.test.');
  assert.match(lines[1]!, /^a\.test\.\t3600\tIN\tSOA\tns1\.p\.test\. hostmaster\.a\.test\. 1 /);
  assert.ok(lines.includes('www.a.test.\t300\tIN\tA\t192.0.2.1'));
  assert.ok(lines.includes('a.test.\t300\tIN\tCAA\t0 issue "letsencrypt.org"'));
  assert.ok(lines.includes('q.a.test.\t300\tIN\tTXT\t"say \\"hi\\" \\\\ \\195\\188"'));
  assert.ok(lines.includes('old.a.test.\t300\tIN\tMX\t0 .'));
  assert.ok(lines.includes('_sip._tcp.a.test.\t300\tIN\tSRV\t1 2 5060 sip.example.net.'));
  assert.ok(lines.includes('mta-sts.a.test.\t3600\tIN\tCNAME\tweb.p.test.'));
  assert.ok(lines.some((l) => l.startsWith('_mta-sts.a.test.\t3600\tIN\tTXT\t"v=STSv1; id=')));
  assert.ok(lines.includes('_smtp._tls.a.test.\t3600\tIN\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@a.test"'));
});

test('a retired DKIM key stays published for the grace period after its successor took over, then leaves, the serial counting it', () => {
  const day = 86_400_000;
  const now = 100 * day;
  const key = (selector: string, createdAt: number, active = false) => ({ domain: 'a.test', selector, algorithm: 'ed25519-sha256' as const, privateKey: '', publicKey: selector, active, createdAt });
  const keys = [key('k3', now - 2 * day, true), key('k2', now - 8 * day), key('k1', now - 30 * day)];
  const zone = zoneRecords('a.test', keys, 10, settings, now);
  const dkim = zone.filter((r) => r.name.endsWith('._domainkey.a.test')).map((r) => r.name.split('.')[0]);
  assert.deepEqual(dkim, ['k3', 'k2'], 'k2 was retired 2 days ago (by k3): published; k1 8 days ago (by k2): gone');
  assert.equal((zone.find((r) => r.type === 'SOA')!.data as { serial: number }).serial, 11, 'the serial counts the key that left');
  const later = zoneRecords('a.test', keys, 10, settings, now + 6 * day);
  assert.deepEqual(later.filter((r) => r.name.endsWith('._domainkey.a.test')).map((r) => r.name.split('.')[0]), ['k3']);
  assert.equal((later.find((r) => r.type === 'SOA')!.data as { serial: number }).serial, 12);
  assert.equal(nextKeyExpiry(keys, settings.dkimRetiredMs, now), now + 5 * day);
});
