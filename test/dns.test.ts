import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { Readable } from 'node:stream';
import * as packet from 'dns-packet';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { generateDkimKey } from '../src/directory/index.js';
import { DnsServer } from '../src/servers/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, run, seedDirectory, startTestService, tempDir, testPasswordHash, waitFor, type TestService } from './helpers/service.js';
import { PortalClient } from './helpers/portal.js';

/** The dns role, asked by dig (Debian's bind9-dnsutils) over UDP and TCP, and by raw packets. */
describe('DNS (role dns)', () => {
  let dir: string;
  let t: TestService;
  const dig = async (...args: string[]) => {
    const r = await run('dig', ['@127.0.0.1', '-p', String(t.dnsPort), '+time=2', '+tries=1', ...args]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const short = async (...args: string[]) => (await dig('+short', ...args)).trim().split('\n').filter(Boolean);
  const rcode = (m: Buffer) => m.readUInt16BE(2) & 0xf;
  const udp = (msg: Buffer) =>
    new Promise<Buffer | undefined>((resolve) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => (s.close(), resolve(undefined)), 800);
      s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)));
      s.send(msg, t.dnsPort, '127.0.0.1');
    });

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, {
      hostname: 'mail.provider.test',
      'dns.nameservers': 'ns1.provider.test,ns2.provider.test',
      'dns.webHost': 'web.provider.test',
      'dns.webAddresses': '192.0.2.80,2001:db8::80',
      'dns.hostAddresses': 'mail.provider.test=192.0.2.25,web.provider.test=192.0.2.80,web.provider.test=2001:db8::80',
      'directory.refreshMs': 100,
    });
    await t.directoryStore.addDomain('example.com', generateDkimKey('rsa-sha256', 'sel1'));
    await seedDirectory(t.directoryStore, 'example.com', ['alice']);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('dig over UDP and TCP: SOA, NS, MX, SPF, a 2048-bit DKIM key in 255-byte strings, DMARC, SRV for client setup', async () => {
    const [soa] = await short('SOA', 'example.com');
    assert.match(soa!, /^ns1\.provider\.test\. hostmaster\.example\.com\. \d+ 3600 600 1209600 300$/);
    assert.deepEqual((await short('NS', 'example.com')).sort(), ['ns1.provider.test.', 'ns2.provider.test.']);
    assert.deepEqual(await short('MX', 'EXAMPLE.com'), ['10 mail.provider.test.'], 'names are case-insensitive');
    assert.deepEqual(await short('TXT', 'example.com'), ['"v=spf1 mx a:mail.provider.test ~all"']);
    assert.deepEqual(await short('TXT', '_dmarc.example.com'), ['"v=DMARC1; p=none; rua=mailto:postmaster@example.com"']);
    const key = (await t.directoryStore.listDkimKeys('example.com'))[0]!;
    for (const transport of ['+notcp', '+tcp']) {
      const [dkim] = await short(transport, '+bufsize=4096', 'TXT', 'sel1._domainkey.example.com');
      const strings = [...dkim!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      assert.ok(strings.length > 1 && strings.every((s) => s.length <= 255), 'split into strings of at most 255 bytes');
      assert.equal(strings.join(''), `v=DKIM1; k=rsa; p=${key.publicKey}`, transport);
    }
    assert.deepEqual(await short('SRV', '_imaps._tcp.example.com'), [`0 1 ${t.config['imap.tlsPort']} mail.provider.test.`]);
    assert.deepEqual(await short('SRV', '_submission._tcp.example.com'), [`0 1 ${t.config['submission.port']} mail.provider.test.`]);
    assert.deepEqual(await short('A', 'autoconfig.example.com'), ['web.provider.test.'], 'autoconfig points at the web role (a CNAME)');
    const full = await dig('+norec', 'MX', 'example.com');
    assert.match(full, /flags: qr aa;/, 'authoritative, no recursion offered');
  });

  test('outside our zones REFUSED; an unknown name NXDOMAIN and a missing type NODATA, each with the SOA; ANY answered minimally (RFC 8482)', async () => {
    assert.match(await dig('A', 'example.org'), /status: REFUSED/);
    const nx = await dig('A', 'nothing.example.com');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\nexample\.com\.\s+\d+\s+IN\s+SOA/);
    const nodata = await dig('CAA', 'example.com');
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0, AUTHORITY: 1/);
    assert.match(await dig('A', '_domainkey.example.com'), /status: NOERROR/, 'a name with names below it exists (RFC 8020)');
    const any = await dig('ANY', 'example.com');
    const types = new Set([...any.matchAll(/^example\.com\.\s+\d+\s+IN\s+(\w+)/gm)].map((m) => m[1]));
    assert.equal(types.size, 1, `one RRset for ANY, got ${[...types].join(' ')}`);
  });

  test('an answer too long for UDP is truncated (TC) at 512 bytes, or at the EDNS size asked (up to 1232); dig then gets it over TCP', async () => {
    const d = tempDir();
    // Forty name servers: an NS answer of about 1,700 bytes.
    const many = Array.from({ length: 40 }, (_, i) => `ns${i}.a-rather-long-provider-name.test`);
    const big = await startTestService(d, { roles: ['dns'], 'dns.nameservers': many.join(',') });
    try {
      await big.directoryStore.addDomain('big.test');
      await big.service.directory.refresh();
      const ask = async (edns?: number) => {
        const q = packet.encode({ type: 'query', id: 9, questions: [{ type: 'NS', name: 'big.test' }], additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns } as packet.Answer] : [] });
        const r = await new Promise<Buffer>((resolve) => {
          const s = createSocket('udp4');
          s.on('message', (m) => (s.close(), resolve(m)));
          s.send(q, big.dnsPort, '127.0.0.1');
        });
        return { tc: (r.readUInt16BE(2) & packet.TRUNCATED_RESPONSE) !== 0, size: r.length, answers: packet.decode(r).answers!.length };
      };
      for (const edns of [undefined, 4096]) {
        const r = await ask(edns);
        assert.ok(r.tc && r.answers === 0 && r.size <= (edns ? 1232 : 512), JSON.stringify({ edns, ...r }));
      }
      const r = await run('dig', ['@127.0.0.1', '-p', String(big.dnsPort), '+short', 'NS', 'big.test']);
      assert.equal(r.stdout.trim().split('\n').length, 40, 'dig retried over TCP and got all of them');
    } finally {
      await big.stop();
      removeDir(d);
    }
  });

  test('hostile packets: garbage gets FORMERR or nothing, two questions FORMERR, another opcode NOTIMP, AXFR over UDP FORMERR, responses are not answered', async () => {
    assert.equal(await udp(Buffer.from([1, 2, 3])), undefined, 'too short to answer');
    const garbage = Buffer.concat([Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x05]), Buffer.alloc(40, 0xff)]);
    const formerr = (await udp(garbage))!;
    assert.equal(formerr.readUInt16BE(0), 0xabcd, 'the id is kept');
    assert.equal(formerr.readUInt16BE(2) & 0x800f, 0x8001, 'QR and FORMERR');
    const two = await udp(packet.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'example.com' }, { type: 'MX', name: 'example.com' }] }));
    assert.equal(rcode(two!), 1, 'FORMERR');
    const notify = await udp(packet.encode({ type: 'query', id: 2, flags: 4 << 11, questions: [{ type: 'SOA', name: 'example.com' }] }));
    assert.equal(rcode(notify!), 4, 'NOTIMP');
    const axfr = await udp(packet.encode({ type: 'query', id: 3, questions: [{ type: 'AXFR', name: 'example.com' }] }));
    assert.equal(rcode(axfr!), 1, 'FORMERR');
    assert.equal(await udp(packet.encode({ type: 'response', id: 4, questions: [{ type: 'A', name: 'example.com' }] })), undefined, 'no answer to an answer (no reflection loops)');
    assert.match(await dig('+tcp', 'MX', 'example.com'), /status: NOERROR/, 'still answering');
    const same = (id: number) => packet.encode({ type: 'query', id, questions: [{ type: 'MX', name: 'Example.COM' }] });
    const [a, b] = [await udp(same(100)), await udp(same(200))];
    assert.deepEqual([a!.readUInt16BE(0), b!.readUInt16BE(0)], [100, 200], 'a repeated query gets its own ID back');
    assert.deepEqual(a!.subarray(2), b!.subarray(2));
    assert.equal(packet.decode(a!).questions![0]!.name, 'Example.COM', 'the question is echoed as asked');
  });

  test('response rate limiting on the wire: a flood to one client network gets its budget, then truncated answers or none', async () => {
    const records = [{ name: 'rrl.test', type: 'SOA' as const, ttl: 60, data: { mname: 'ns.rrl.test', rname: 'h.rrl.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }];
    // Loopback is exempt as shipped; here nothing is, so the test's own address is limited.
    const server = new DnsServer({ host: '127.0.0.1', port: 0, maxTcpClients: 10, responsesPerSecond: 20, exempt: () => false }, { version: 1, zoneOf: (n) => (n.endsWith('rrl.test') ? 'rrl.test' : undefined), records: () => records, zones: () => ['rrl.test'] }, t.service.log);
    const { udp: address } = await server.listen();
    const s = createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    try {
      const q = packet.encode({ type: 'query', id: 1, questions: [{ type: 'SOA', name: 'rrl.test' }] });
      for (let i = 0; i < 200; i++) s.send(q, address.port, '127.0.0.1');
      // Waits until the server has gone through the flood (it answers every second excess query).
      let seen = -1;
      while (seen !== got.length) {
        seen = got.length;
        await new Promise((r) => setTimeout(r, 300));
      }
      const tc = got.filter((m) => (m.readUInt16BE(2) & packet.TRUNCATED_RESPONSE) !== 0);
      const full = got.length - tc.length;
      // The budget is 20 a second; the flood takes a fraction of one, whatever the machine's load.
      assert.ok(full >= 20 && full < 100, `the budget answered in full, not the flood: ${full}`);
      assert.ok(tc.length >= 20 && got.length < 200, `the rest truncated (${tc.length}) or dropped (${200 - got.length})`);
      assert.ok(tc.every((m) => m.length === 12), 'a truncated answer is a bare header');
    } finally {
      s.close();
      await server.close();
    }
  });

  test('zone transfer (AXFR, and IXFR answered whole or with the SOA alone) over TCP to an allowed secondary with a TSIG key, the answer signed; refused without the key, with a wrong one, or from elsewhere; NOTIFY on change', async () => {
    const d = tempDir();
    const secret = Buffer.from('a shared secret of the provider and its secondary').toString('base64');
    const secondary = createSocket('udp4');
    const notified: Buffer[] = [];
    secondary.on('message', (m) => notified.push(m));
    await new Promise<void>((r) => secondary.bind(0, '127.0.0.1', () => r()));
    const xfr = await startTestService(d, { roles: ['dns'], hostname: 'mail.provider.test', 'dns.transferFrom': '127.0.0.1', 'dns.tsigKeys': `xfr-key:${secret}`, 'dns.notify': `127.0.0.1:${secondary.address().port}`, 'directory.refreshMs': 100 });
    try {
      await xfr.directoryStore.addDomain('example.com', generateDkimKey('ed25519-sha256', 'sel1'));
      await xfr.service.directory.refresh();
      const axfr = (...extra: string[]) => run('dig', ['@127.0.0.1', '-p', String(xfr.dnsPort), '+time=2', '+tries=1', ...extra, 'AXFR', 'example.com']);
      const signed = await axfr('-y', `hmac-sha256:xfr-key:${secret}`);
      assert.doesNotMatch(signed.stdout, /failed|failure|BADSIG|BADKEY/i, signed.stdout);
      const records = [...signed.stdout.matchAll(/^(\S+)\s+\d+\s+IN\s+(\w+)\s/gm)].map((m) => `${m[1]} ${m[2]}`);
      assert.equal(records[0], 'example.com. SOA');
      assert.equal(records.at(-1), 'example.com. SOA', 'SOA first and last');
      for (const r of ['example.com. MX', 'example.com. NS', 'sel1._domainkey.example.com. TXT', '_dmarc.example.com. TXT', '_imaps._tcp.example.com. SRV']) assert.ok(records.includes(r), r);
      assert.match(signed.stdout, /xfr-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\./, 'the answer carries our TSIG, which dig verified');
      // IXFR: a secondary at our serial gets the SOA alone; one behind gets the whole zone.
      const serial = Number(/^example\.com\.\s+\d+\s+IN\s+SOA\s+\S+ \S+ (\d+)/m.exec(signed.stdout)![1]);
      const ixfr = (from: number) => run('dig', ['@127.0.0.1', '-p', String(xfr.dnsPort), '+time=2', '+tries=1', '-y', `hmac-sha256:xfr-key:${secret}`, `IXFR=${from}`, 'example.com']);
      const upToDate = [...(await ixfr(serial)).stdout.matchAll(/^\S+\s+\d+\s+IN\s+(\w+)\s/gm)].map((m) => m[1]);
      assert.deepEqual(upToDate, ['SOA'], 'up to date: the SOA alone');
      const behind = [...(await ixfr(serial - 1)).stdout.matchAll(/^\S+\s+\d+\s+IN\s+(\w+)\s/gm)].map((m) => m[1]);
      assert.ok(behind.length > 5 && behind[0] === 'SOA' && behind.at(-1) === 'SOA' && behind.includes('MX'), `behind: the whole zone (${behind.join(' ')})`);
      for (const failed of [await axfr(), await axfr('-y', `hmac-sha256:xfr-key:${Buffer.from('wrong').toString('base64')}`), await axfr('-y', `hmac-sha256:other-key:${secret}`)]) {
        assert.match(failed.stdout + failed.stderr, /Transfer failed|NOTAUTH|failure/i);
        assert.doesNotMatch(failed.stdout, /IN\s+MX/);
      }
      assert.match((await run('dig', ['@127.0.0.1', '-p', String(t.dnsPort), '+time=2', '+tries=1', 'AXFR', 'example.com'])).stdout, /Transfer failed/, 'a server that allows nobody refuses');
      const before = notified.length;
      await xfr.directoryStore.addDomain('second.test');
      assert.ok(await waitFor(() => notified.length > before, 5_000, 50), 'NOTIFY sent after the change');
      const n = packet.decode(notified.at(-1)!);
      assert.equal(((n.flags ?? 0) >> 11) & 0xf, 4, 'opcode NOTIFY');
      assert.equal(n.questions![0]!.type, 'SOA');
    } finally {
      secondary.close();
      await xfr.stop();
      removeDir(d);
    }
  });

  test('a DKIM rotation is in DNS within a second; the retired key stays, and mail signed with it still verifies through our DNS', async () => {
    const old = (await t.directoryStore.listDkimKeys('example.com')).find((k) => k.active)!;
    const message = 'From: alice@example.com\r\nTo: bob@elsewhere.test\r\nSubject: signed before the rotation\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nhello\r\n';
    const signed = (await dkimSign(Readable.from([Buffer.from(message)]), {
      canonicalization: 'relaxed/relaxed',
      signatureData: [{ signingDomain: 'example.com', selector: old.selector, privateKey: old.privateKey, algorithm: old.algorithm }],
    } as never)) as { signatures: string };
    await t.directoryStore.addDkimKey('example.com', generateDkimKey('ed25519-sha256', 'sel2'));
    assert.ok(await waitFor(async () => (await short('TXT', 'sel2._domainkey.example.com')).length === 1, 1_000, 50), 'the new key is published within a second');
    assert.match((await short('TXT', 'sel2._domainkey.example.com'))[0]!, /^"v=DKIM1; k=ed25519; p=/);
    const resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${t.dnsPort}`]);
    const result = await dkimVerify(Buffer.from(signed.signatures + message), {
      resolver: async (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : resolver.resolve(name, type as 'A')),
    });
    assert.equal(result.results[0]?.status.result, 'pass', JSON.stringify(result.results));
    assert.equal(result.results[0]?.selector, 'sel1');
  });

  test('MTA-STS and TLS-RPT for every domain, the website\'s addresses, the provider\'s own hosts where their names are in a hosted zone, CNAMEs followed within our zones', async () => {
    const [sts] = await short('TXT', '_mta-sts.example.com');
    assert.match(sts!, /^"v=STSv1; id=[0-9a-f]{16}"$/);
    assert.deepEqual(await short('CNAME', 'mta-sts.example.com'), ['web.provider.test.']);
    assert.deepEqual(await short('TXT', '_smtp._tls.example.com'), ['"v=TLSRPTv1; rua=mailto:postmaster@example.com"']);
    assert.deepEqual(await short('A', 'example.com'), ['192.0.2.80']);
    assert.deepEqual(await short('AAAA', 'www.example.com'), ['2001:db8::80']);
    assert.deepEqual(await short('A', 'mail.provider.test'), [], 'provider.test is not hosted (REFUSED)');
    await t.directoryStore.addDomain('provider.test');
    assert.ok(await waitFor(async () => (await short('A', 'mail.provider.test')).length === 1, 1_000, 50), 'published once the zone is hosted');
    assert.deepEqual(await short('A', 'mail.provider.test'), ['192.0.2.25']);
    assert.deepEqual(await short('A', 'mta-sts.example.com'), ['web.provider.test.', '192.0.2.80'], 'a CNAME into our zones comes with its target\'s records');
    assert.deepEqual(await short('AAAA', 'autoconfig.example.com'), ['web.provider.test.', '2001:db8::80']);
    assert.deepEqual((await short('ANY', 'web.provider.test')).length, 1, 'ANY stays minimal');
  });

  test('a tenant administrator\'s own records: added, changed and deleted through the API, in dig within a second, checked (CNAME alone, managed records kept, no second SPF), the zone file valid for named-checkzone', async () => {
    await t.directoryStore.addTenant('shops', 'Shops');
    await t.directoryStore.addDomain('shop.test', undefined, 'shops');
    await t.directoryStore.addAccount({ address: 'admin@shop.test', passwordHash: await testPasswordHash(), quotaBytes: 0, role: 'tenant-admin' });
    await t.service.directory.refresh();
    const admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    assert.equal((await admin.login('admin@shop.test')).status, 200);
    const path = '/api/v1/domains/shop.test/zone/records';
    const add = async (name: string, type: string, value: string, ttl?: number) => {
      const r = await admin.call('POST', path, { name, type, value, ...(ttl ? { ttl } : {}) });
      assert.equal(r.status, 201, r.text);
      return r.body.record as { id: number };
    };
    const blog = await add('blog', 'A', '198.51.100.7', 300);
    await add('blog', 'AAAA', '2001:db8::7');
    await add('@', 'TXT', 'google-site-verification=abc123');
    await add('@', 'CAA', '0 issue "letsencrypt.org"');
    await add('lists', 'MX', '10 mx.lists.example.net.');
    await add('_sip._tcp', 'SRV', '10 5 5060 sip.example.net');
    await add('store', 'CNAME', 'shops.example.net');
    await add('quote', 'TXT', 'a "quoted" word; and a backslash \\');
    assert.ok(await waitFor(async () => (await short('A', 'blog.shop.test')).length === 1, 1_000, 50), 'in DNS within a second');
    assert.deepEqual(await short('A', 'blog.shop.test'), ['198.51.100.7']);
    assert.match(await dig('A', 'blog.shop.test'), /blog\.shop\.test\.\s+300\s+IN\s+A/, 'with its own TTL');
    assert.deepEqual(await short('+tcp', 'AAAA', 'blog.shop.test'), ['2001:db8::7']);
    assert.deepEqual((await short('TXT', 'shop.test')).sort(), ['"google-site-verification=abc123"', '"v=spf1 mx a:mail.provider.test ~all"']);
    assert.deepEqual(await short('CAA', 'shop.test'), ['0 issue "letsencrypt.org"']);
    assert.deepEqual(await short('MX', 'lists.shop.test'), ['10 mx.lists.example.net.']);
    assert.deepEqual(await short('MX', 'shop.test'), ['10 mail.provider.test.'], 'the domain\'s own MX is still ours');
    assert.deepEqual(await short('SRV', '_sip._tcp.shop.test'), ['10 5 5060 sip.example.net.']);
    assert.deepEqual(await short('A', 'store.shop.test'), ['shops.example.net.'], 'a CNAME answers any type');
    assert.deepEqual(await short('TXT', 'quote.shop.test'), ['"a \\"quoted\\" word; and a backslash \\\\"']);

    const changed = await admin.call('PUT', `${path}/${blog.id}`, { name: 'blog', type: 'A', value: '198.51.100.8', ttl: 600 });
    assert.equal(changed.status, 200, changed.text);
    assert.ok(await waitFor(async () => (await short('A', 'blog.shop.test'))[0] === '198.51.100.8', 1_000, 50), 'the change is in DNS within a second');

    // Refused, each with a sentence and the field.
    for (const [body, field, pattern] of [
      [{ name: 'blog', type: 'CNAME', value: 'x.example.net' }, 'name', /only record/],
      [{ name: '@', type: 'CNAME', value: 'x.example.net' }, 'name', /cannot be a CNAME/],
      [{ name: 'store', type: 'TXT', value: 'x' }, 'name', /is a CNAME/],
      [{ name: '@', type: 'MX', value: '5 mx.elsewhere.net' }, 'name', /published by Hikyaku/],
      [{ name: '@', type: 'TXT', value: 'v=spf1 -all' }, 'name', /SPF/],
      [{ name: 'autoconfig', type: 'A', value: '192.0.2.1' }, 'name', /is a CNAME/],
      [{ name: 'www.example.com.', type: 'A', value: '192.0.2.1' }, 'name', /outside the zone/],
      [{ name: 'x', type: 'A', value: '300.1.1.1' }, 'value', /IPv4/],
      [{ name: 'x', type: 'A', value: '192.0.2.1', ttl: 5 }, 'ttl', /TTL/],
      [{ name: 'x', type: 'PTR', value: 'y.example.net' }, 'type', /type/],
      [{ name: 'x', type: 'TXT', value: 'a\nb' }, 'value', /line breaks/],
    ] as const) {
      const r = await admin.call('POST', path, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.type, /^application\/problem\+json/);
      assert.equal(r.body.field, field, JSON.stringify(body));
      assert.match(r.body.detail, pattern);
    }
    const malformed = await admin.call('POST', path, '{"name": "x", "type": ', { 'content-type': 'application/json' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.type, /^application\/problem\+json/);
    // Another domain's record id through this domain: not found.
    const other = await t.directoryStore.addDnsRecord('example.com', { name: 'x', type: 'A', ttl: 300, value: '192.0.2.1' });
    assert.equal((await admin.call('DELETE', `${path}/${other.id}`)).status, 404);
    assert.equal((await admin.call('PUT', `${path}/${other.id}`, { name: 'x', type: 'A', value: '192.0.2.2' })).status, 404);

    const zone = await admin.call('GET', '/api/v1/domains/shop.test/zone');
    assert.match(zone.type, /^text\/dns/);
    const file = join(dir, 'shop.test.zone');
    writeFileSync(file, zone.text);
    const checked = await run('named-checkzone', ['shop.test', file]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr + zone.text);
    assert.match(checked.stdout, /loaded serial \d+/);
    const list = await admin.call('GET', path);
    assert.equal(list.body.records.length, 8);
    assert.ok(list.body.managed.some((r: { name: string; type: string }) => r.name === 'shop.test' && r.type === 'MX'));

    assert.equal((await admin.call('DELETE', `${path}/${blog.id}`)).status, 204);
    assert.ok(await waitFor(async () => (await short('A', 'blog.shop.test')).length === 0, 1_000, 50), 'the deletion is in DNS within a second');
    assert.deepEqual(await short('AAAA', 'blog.shop.test'), ['2001:db8::7'], 'the name\'s other record stays');
    const audit = (await admin.call('GET', '/api/v1/audit')).body.items.map((e: { action: string }) => e.action);
    assert.ok(['dns.add', 'dns.change', 'dns.remove'].every((a) => audit.includes(a)), audit.join(','));
  });
});
