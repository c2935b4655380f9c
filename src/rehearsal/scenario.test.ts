import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_SCENARIOS, latencyAt, parseScenario, settingsEnv, ScenarioError } from './index.js';

const base = { name: 'mine', accounts: 10, rate: 5, phases: [{ name: 'calm', seconds: 10 }] };
const parse = (o: object) => parseScenario(JSON.stringify(o));
const refused = (o: object | string, pattern: RegExp) => assert.throws(() => parseScenario(typeof o === 'string' ? o : JSON.stringify(o)), (e: Error) => e instanceof ScenarioError && pattern.test(e.message));

test('the built-in 2016-10 scenario parses, and its settings become the nodes\' environment', () => {
  const s = parseScenario(JSON.stringify(BUILTIN_SCENARIOS['2016-10']));
  assert.equal(s.phases.length, 6);
  assert.deepEqual(s.phases.map((p) => p.inbound), [1, 3, 1, 1, 1, 1]);
  assert.deepEqual(s.phases.map((p) => p.deliveryProcesses), [1, 1, 1, 3, 3, 3]);
  assert.equal(settingsEnv(s).HIKYAKU_STATUS_AUTO_INCIDENTS, 'publish');
});

test('a minimal scenario gets the defaults: healthy storage, one delivery process, inbound 1×', () => {
  const s = parse(base);
  assert.deepEqual(s.phases[0], { name: 'calm', seconds: 10, inbound: 1, storage: { latencyMs: 0, dropEverySeconds: 0, bandwidthBytesPerSecond: 0, refuse: false }, deliveryProcesses: 1 });
  assert.deepEqual([s.readers, s.members, s.drainSeconds, s.sizes], [{ accounts: 10, everySeconds: 10 }, { accounts: 10, everySeconds: 10 }, 300, '4k']);
});

test('a latency ramp goes from the first figure to the second over the phase', () => {
  const h = parse({ ...base, phases: [{ name: 'worse', seconds: 10, storage: { latencyMs: [2, 20] } }] }).phases[0]!.storage;
  assert.deepEqual([latencyAt(h, 0), latencyAt(h, 0.5), latencyAt(h, 1), latencyAt(h, 7)], [2, 11, 20, 20]);
});

test('hostile and mistaken scenarios are refused with a sentence naming the field', () => {
  refused('{"name": "x", ', /not valid JSON/);
  refused('[1, 2]', /must be a JSON object/);
  refused('"\u0000"', /not valid JSON/);
  refused('"text"', /must be a JSON object/);
  refused({ ...base, extra: 1 }, /unknown field "extra"/);
  refused({ ...base, accounts: 0 }, /accounts must be a number from 1/);
  refused({ ...base, accounts: 2.5 }, /accounts must be a whole number/);
  refused({ ...base, rate: 'fast' }, /rate must be a number/);
  refused({ ...base, name: 'a\u0000b' }, /name must be a line of text/);
  refused({ ...base, name: 'x'.repeat(5000) }, /name must be a line of text/);
  refused({ ...base, sizes: '4k:80,huge' }, /sizes takes sizes such as/);
  refused({ ...base, phases: [] }, /phases must be a list of 1 to 100/);
  refused({ ...base, phases: [{ name: 'p', seconds: 1e9 }] }, /phases\[0\]\.seconds must be a number from 1 to 21600/);
  refused({ ...base, phases: [{ name: 'p', seconds: 5, storage: { latencyMs: [1, 2, 3] } }] }, /latencyMs takes a number, or \[from, to\]/);
  refused({ ...base, phases: [{ name: 'p', seconds: 5, storage: { latencyMs: -1 } }] }, /latencyMs must be a number from 0/);
  refused({ ...base, phases: [{ name: 'p', seconds: 5, storage: { slow: true } }] }, /unknown field "slow"/);
  refused({ ...base, phases: [{ name: 'p', seconds: 5, storage: { refuse: 'yes' } }] }, /refuse must be true or false/);
  refused({ ...base, phases: [{ name: 'a', seconds: 5, deliveryProcesses: 3 }, { name: 'b', seconds: 5, deliveryProcesses: 2 }] }, /only added during a rehearsal \(3 run already\)/);
  refused({ ...base, phases: Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, seconds: 6 * 3600 })) }, /more than 6 hours together/);
  refused({ ...base, readers: { accounts: 11 } }, /readers\.accounts must be a number from 0 to 10/);
  refused({ ...base, settings: { 'no.such': 1 } }, /"no.such" is not a configuration key/);
  refused({ ...base, settings: { 'storage.mailstore': 'sqlite' } }, /storage.mailstore is chosen by the rehearsal itself/);
  refused({ ...base, settings: { 'mx.port': 25 } }, /mx.port is chosen by the rehearsal itself/);
  refused({ ...base, settings: { 'status.sampleSeconds': 0 } }, /status.sampleSeconds: must be a whole number from 1/);
  refused({ ...base, settings: { 'status.autoIncidents': { a: 1 } } }, /takes a string, number or boolean/);
});
