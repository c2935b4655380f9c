/**
 * The night of DESIGN.md, compressed into minutes: an ordinary Monday morning; the storage
 * degrading (latency growing to 10×, connections dropped every few seconds, its throughput
 * capped) under a surge of 3× after a long weekend; the storage fixed with the backlog still there; delivery
 * processes added mid-recovery; and the relapse of 13 days later, shorter. Times are
 * compressed about 200-fold, so are the thresholds of the status page and the longest
 * retry delay (settings); deadlines that readers feel (POP3, the member site) are not.
 */
export const SCENARIO_2016_10 = {
  name: '2016-10',
  description:
    'October 2016, compressed: a normal Monday morning on storage 10 ms away; after a long weekend a 3× surge while the mailbox storage degrades (latency growing to 10×, connections dropped every 5 s, 50 kB/s per connection: past its capacity); the storage is fixed but the backlog remains; two more delivery processes are added mid-recovery; the shorter relapse of 13 days later; recovery.',
  accounts: 100,
  rate: 40,
  sizes: '4k:90,64k:9,1m:1',
  readers: { accounts: 100, everySeconds: 10 },
  members: { accounts: 20, everySeconds: 10 },
  settings: {
    'status.sampleSeconds': 2,
    'status.delayedSeconds': 30,
    'status.disruptedSeconds': 120,
    'status.incidentAfterSeconds': 10,
    'status.autoIncidents': 'publish',
    'delivery.retryMaxMs': 15_000,
  },
  phases: [
    { name: 'an ordinary Monday morning', seconds: 60, inbound: 1, storage: { latencyMs: 10 } },
    { name: 'the storage degrades under the surge after a long weekend', seconds: 180, inbound: 3, storage: { latencyMs: [10, 100], dropEverySeconds: 5, bandwidthBytesPerSecond: 50_000 } },
    { name: 'the storage is fixed; the backlog remains', seconds: 20, inbound: 1, storage: { latencyMs: 10 } },
    { name: 'delivery servers added', seconds: 70, inbound: 1, storage: { latencyMs: 10 }, deliveryProcesses: 3 },
    { name: 'the relapse, 13 days later', seconds: 60, inbound: 1, storage: { latencyMs: [10, 100], dropEverySeconds: 5, bandwidthBytesPerSecond: 50_000 } },
    { name: 'recovered', seconds: 60, inbound: 1, storage: { latencyMs: 10 } },
  ],
  drainSeconds: 300,
};

export const BUILTIN_SCENARIOS: Readonly<Record<string, object>> = { '2016-10': SCENARIO_2016_10 };
