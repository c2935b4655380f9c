import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPublished } from './dns-check.js';
import { expectedRecords } from './dkim.js';

const key = { domain: 'a.test', selector: 's1', algorithm: 'ed25519-sha256' as const, privateKey: '', publicKey: 'PUBKEY', active: true, createdAt: 0 };
const enotfound = () => Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });

test('published records are ok, missing, different or an error, each with what the DNS answered', async () => {
  const records = expectedRecords('a.test', 'mx.hikyaku.test', [key]);
  const txt: Record<string, string[][]> = {
    'a.test': [['google-site-verification=abc'], ['v=spf1 ', 'include:_spf.other.test -all']],
    's1._domainkey.a.test': [['v=DKIM1; k=ed25519; p=PUB', 'KEY']],
  };
  const resolver = {
    resolveMx: async () => [{ exchange: 'MX.hikyaku.test', priority: 10 }],
    resolveTxt: async (name: string) => {
      if (name === '_dmarc.a.test') throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      if (!(name in txt)) throw enotfound();
      return txt[name]!;
    },
  };
  const checked = await checkPublished(records, 'mx.hikyaku.test', resolver);
  assert.deepEqual(checked.map((c) => [c.purpose, c.state]), [['mx', 'ok'], ['spf', 'different'], ['dkim', 'ok'], ['dmarc', 'error']]);
  assert.deepEqual(checked[1]!.found, ['v=spf1 include:_spf.other.test -all'], 'only SPF records, strings joined');
  assert.match(checked[3]!.error!, /ETIMEOUT/);
  txt['a.test'] = [['v=spf1 mx ~all']];
  delete txt['s1._domainkey.a.test'];
  const again = await checkPublished(records, 'mx.hikyaku.test', resolver);
  assert.deepEqual(again.map((c) => c.state), ['ok', 'ok', 'missing', 'error']);
});
