/**
 * npm run bench [-- --smoke] [-- --vs postfix] [-- --rounds N] [-- --compare FILE]
 *
 * Runs every scenario against Hikyaku (fresh data dir, fsync on, as shipped) and, with
 * --vs postfix, against Postfix + Dovecot set up by shared/anchors/postfix-dovecot,
 * alternating the two (A B A B ...). Prints a table (median, min, max, and Hikyaku's
 * advantage: > 1 means Hikyaku is better) and writes a JSON file under bench/results/.
 * --smoke runs every scenario at 1% size, once (npm test runs it). --only smtp4k,pop3,...
 * runs some scenarios (smtp4k, smtp64k, pop3, pop3large, imap, imapselect, imapidle, idle, drain, queued, relay, metrics, pgdrain, disk, dns, web).
 * BENCH_NODE_ARGS passes node options to Hikyaku, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 * BENCH_TARGETS=hikyaku,... runs only the targets named (for quick comparisons of a change).
 */
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/helpers/service.js';
import { HikyakuTarget } from './targets/hikyaku.js';
import { AnchorTarget } from './targets/anchor.js';
import type { Target } from './targets/target.js';
import { drain, idleSessions, pop3Retrieval, smtpEndToEnd, type Figures } from './scenarios.js';
import { postfixRelayThroughput, relayThroughput } from './relay.js';
import { imapIdle, imapRetrieval, imapSelectLarge } from './imap.js';
import { pop3LargeMailbox } from './retrieval.js';
import { dnsQueries } from './dns.js';
import { staticFiles } from './web.js';
import { metricsCost } from './metrics-cost.js';
import { pgDrainTable } from './pg-drain.js';
import { physicalLimits } from './physical.js';
import { compare, table, type FigureResult, type FigureSpec } from './report.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    vs: { type: 'string' },
    rounds: { type: 'string' },
    compare: { type: 'string' },
    only: { type: 'string' },
  },
});
if (args.vs !== undefined && args.vs !== 'postfix') throw new Error('--vs takes "postfix" (the Postfix + Dovecot anchor)');
const scale = args.smoke ? 0.01 : 1;
const n = (full: number) => Math.max(2, Math.round(full * scale));
const rounds = Number(args.rounds ?? (args.smoke ? 1 : 2));

const SPECS: (FigureSpec & { run: string })[] = [
  { run: 'smtp4k', scenario: 'smtp 4 KiB', key: 'acceptedPerSecond', label: 'accepted', unit: 'msg/s', better: 'higher' },
  { run: 'smtp4k', scenario: 'smtp 4 KiB', key: 'p50Ms', label: 'latency p50', unit: 'ms', better: 'lower' },
  { run: 'smtp4k', scenario: 'smtp 4 KiB', key: 'p99Ms', label: 'latency p99', unit: 'ms', better: 'lower' },
  { run: 'smtp4k', scenario: 'end to end 4 KiB', key: 'endToEndPerSecond', label: 'retrievable by POP3', unit: 'msg/s', better: 'higher' },
  { run: 'smtp64k', scenario: 'smtp 64 KiB', key: 'acceptedPerSecond', label: 'accepted', unit: 'msg/s', better: 'higher' },
  { run: 'smtp64k', scenario: 'smtp 64 KiB', key: 'p50Ms', label: 'latency p50', unit: 'ms', better: 'lower' },
  { run: 'smtp64k', scenario: 'smtp 64 KiB', key: 'p99Ms', label: 'latency p99', unit: 'ms', better: 'lower' },
  { run: 'smtp64k', scenario: 'end to end 64 KiB', key: 'endToEndPerSecond', label: 'retrievable by POP3', unit: 'msg/s', better: 'higher' },
  ...(['smtp4k', 'smtp64k'] as const).flatMap((run) => {
    const scenario = run === 'smtp4k' ? 'smtp 4 KiB' : 'smtp 64 KiB';
    return [
      { run, scenario, key: 'acceptedServerCpuUs', label: 'server CPU per message while accepting (delivery runs meanwhile)', unit: 'µs', better: 'lower' as const },
      { run, scenario, key: 'acceptedClientCpuUs', label: 'sending client CPU per message', unit: 'µs', better: 'lower' as const },
    ];
  }),
  { run: 'pop3', scenario: 'pop3 retrieval', key: 'clients1PerSecond', label: '1 client', unit: 'msg/s', better: 'higher' },
  { run: 'pop3', scenario: 'pop3 retrieval', key: 'clients1MBPerSecond', label: '1 client', unit: 'MB/s', better: 'higher' },
  { run: 'pop3', scenario: 'pop3 retrieval', key: 'clients16PerSecond', label: '16 clients', unit: 'msg/s', better: 'higher' },
  { run: 'pop3', scenario: 'pop3 retrieval', key: 'clients16MBPerSecond', label: '16 clients', unit: 'MB/s', better: 'higher' },
  { run: 'imap', scenario: 'imap UID FETCH 1:* BODY.PEEK[]', key: 'clients1PerSecond', label: '1 client', unit: 'msg/s', better: 'higher' },
  { run: 'imap', scenario: 'imap UID FETCH 1:* BODY.PEEK[]', key: 'clients1MBPerSecond', label: '1 client', unit: 'MB/s', better: 'higher' },
  { run: 'imap', scenario: 'imap UID FETCH 1:* BODY.PEEK[]', key: 'clients16PerSecond', label: '16 clients', unit: 'msg/s', better: 'higher' },
  { run: 'imap', scenario: 'imap UID FETCH 1:* BODY.PEEK[]', key: 'clients16MBPerSecond', label: '16 clients', unit: 'MB/s', better: 'higher' },
  ...(['pop3', 'imap'] as const).flatMap((run) =>
    [1, 16].flatMap((c) => {
      const scenario = run === 'pop3' ? 'pop3 retrieval' : 'imap UID FETCH 1:* BODY.PEEK[]';
      const clients = `${c} client${c > 1 ? 's' : ''}`;
      return [
        { run, scenario, key: `clients${c}ServerCpuUs`, label: `${clients}, server CPU per message`, unit: 'µs', better: 'lower' as const },
        { run, scenario, key: `clients${c}ClientCpuUs`, label: `${clients}, client CPU per message`, unit: 'µs', better: 'lower' as const },
      ];
    }),
  ),
  { run: 'pop3large', scenario: 'pop3, 100,000 messages', key: 'statUidlMs', label: 'LOGIN + STAT + UIDL, median of 5', unit: 'ms', better: 'lower' },
  { run: 'pop3large', scenario: 'pop3, 100,000 messages', key: 'heldMB', label: 'server memory while a session holds it (PSS growth)', unit: 'MB', better: 'lower' },
  { run: 'pop3large', scenario: 'pop3, 100,000 messages', key: 'heldAnonMB', label: 'of it anonymous, without mapped file pages', unit: 'MB', better: 'lower' },
  { run: 'imapselect', scenario: 'imap SELECT, 100,000 messages', key: 'selectMs', label: 'LOGIN + SELECT, median of 5', unit: 'ms', better: 'lower' },
  { run: 'imapidle', scenario: 'idle sessions', key: 'imapIdlePssKBPerSession', label: 'IMAP IDLE PSS per session', unit: 'kB', better: 'lower' },
  { run: 'idle', scenario: 'idle sessions', key: 'smtpPssKBPerSession', label: 'SMTP PSS per session', unit: 'kB', better: 'lower' },
  { run: 'idle', scenario: 'idle sessions', key: 'pop3PssKBPerSession', label: 'POP3 PSS per session', unit: 'kB', better: 'lower' },
  { run: 'drain', scenario: 'drain', key: 'acceptedPausedPerSecond', label: 'accepted, delivery held', unit: 'msg/s', better: 'higher' },
  { run: 'drain', scenario: 'drain', key: 'drainPerSecond', label: 'drained', unit: 'msg/s', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'acceptedEmpty', label: 'accepted, delivery held, empty queue', unit: 'msg/s', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'acceptedQueued', label: 'accepted, delivery held, 1M deferred', unit: 'msg/s', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'acceptedRatio', label: 'accepted: 1M deferred / empty', unit: '×', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'drainEmpty', label: 'drained (leased and delivered), empty queue', unit: 'msg/s', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'drainQueued', label: 'drained (leased and delivered), 1M deferred', unit: 'msg/s', better: 'higher' },
  { run: 'queued', scenario: 'drain, 1M deferred waiting', key: 'drainRatio', label: 'drained: 1M deferred / empty', unit: '×', better: 'higher' },
  { run: 'relay', scenario: 'relay', key: 'relayedPerSecond', label: 'forwarded to a remote sink (STARTTLS)', unit: 'msg/s', better: 'higher' },
  { run: 'relay', scenario: 'relay', key: 'postfixRelayedPerSecond', label: 'Postfix relayhost to the same kind of sink', unit: 'msg/s', better: 'higher' },
  { run: 'relay', scenario: 'relay', key: 'relayToPostfix', label: 'Hikyaku / Postfix', unit: '×', better: 'higher' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'scrapeMsMedian', label: 'GET /metrics median', unit: 'ms', better: 'lower' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'scrapeMsMax', label: 'GET /metrics max of 20', unit: 'ms', better: 'lower' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'statusMsMedian', label: 'GET /status median', unit: 'ms', better: 'lower' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'statusMsMax', label: 'GET /status max of 20', unit: 'ms', better: 'lower' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'acceptedQuietPerSecond', label: 'accepted, no scrape', unit: 'msg/s', better: 'higher' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'acceptedScrapedPerSecond', label: 'accepted, /metrics and /status each second', unit: 'msg/s', better: 'higher' },
  { run: 'metrics', scenario: 'metrics, 1M queued', key: 'scrapedToQuiet', label: 'scraped / quiet', unit: '×', better: 'higher' },
  ...(['straight', 'proxy'] as const).flatMap((way) =>
    [1, 2, 4].map((n) => ({ run: 'pgdrain', scenario: `drain into PostgreSQL${way === 'proxy' ? ', +2 ms via proxy' : ''}`, key: `${way}${n}`, label: `${n} delivery process${n > 1 ? 'es' : ''}`, unit: 'msg/s', better: 'higher' as const })),
  ),
  { run: 'pgdrain', scenario: 'drain into PostgreSQL', key: 'ceiling', label: 'PostgreSQL limit, same rows (pgbench, 32 clients)', unit: 'msg/s', better: 'higher' },
  { run: 'pgdrain', scenario: 'drain into PostgreSQL', key: 'bestToCeiling', label: 'best straight drain / ceiling', unit: '×', better: 'higher' },
  { run: 'pgdrain', scenario: 'drain into PostgreSQL, +2 ms via proxy', key: 'proxy4to1', label: '4 processes / 1', unit: '×', better: 'higher' },
  { run: 'dns', scenario: 'dns (dnsperf, 100 zones)', key: 'queriesPerSecond', label: 'queries answered', unit: '/s', better: 'higher' },
  { run: 'dns', scenario: 'dns (dnsperf, 100 zones)', key: 'averageLatencyMs', label: 'average latency', unit: 'ms', better: 'lower' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'pageHikyaku', label: '8 KiB page, web role', unit: 'req/s', better: 'higher' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'pageNginx', label: '8 KiB page, nginx', unit: 'req/s', better: 'higher' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'pageToNginx', label: 'page: web role / nginx', unit: '×', better: 'higher' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'imageHikyaku', label: '64 KiB image, web role', unit: 'req/s', better: 'higher' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'imageNginx', label: '64 KiB image, nginx', unit: 'req/s', better: 'higher' },
  { run: 'web', scenario: 'static files (wrk, 32 connections)', key: 'imageToNginx', label: 'image: web role / nginx', unit: '×', better: 'higher' },
  { run: 'disk', scenario: 'disk', key: 'fsyncsPerSecond', label: '4 KiB append + fdatasync', unit: '/s', better: 'higher' },
  { run: 'disk', scenario: 'disk', key: 'groupCommitAppendsPerSecond', label: 'group-commit ceiling, 64 writers', unit: 'appends/s', better: 'higher' },
];

const RUNS: Record<string, (t: Target) => Promise<Figures>> = {
  smtp4k: (t) => smtpEndToEnd(t, n(20_000), 4096),
  smtp64k: (t) => smtpEndToEnd(t, n(20_000), 65536),
  pop3: (t) => pop3Retrieval(t, n(5_000)),
  imap: (t) => imapRetrieval(t, n(5_000)),
  imapselect: (t) => imapSelectLarge(t, n(100_000)),
  pop3large: (t) => pop3LargeMailbox(t, n(100_000)),
  imapidle: (t) => imapIdle(t, n(2_000)),
  idle: (t) => idleSessions(t, n(2_000)),
  drain: (t) => drain(t, n(20_000)),
};

if (args.vs) AnchorTarget.setup();
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
// Acceptance and end to end also with every store on this machine's PostgreSQL.
const targets: Target[] = [new HikyakuTarget(n(2_000), nodeArgs), new HikyakuTarget(n(2_000), nodeArgs, { runs: ['smtp4k', 'smtp64k'] })];
if (args.vs) targets.push(new AnchorTarget());
const chosen = process.env.BENCH_TARGETS?.split(',');
if (chosen) targets.splice(0, targets.length, ...targets.filter((t) => chosen.includes(t.name)));
const names = targets.map((t) => t.name);
const collected = new Map<string, Figures[]>();
const record = (run: string, target: string, f: Figures) => collected.set(`${run}/${target}`, [...(collected.get(`${run}/${target}`) ?? []), f]);

try {
  const only = args.only?.split(',');
  for (const [run, scenario] of Object.entries(RUNS).filter(([name]) => !only || only.includes(name))) {
    for (let r = 0; r < rounds; r++) {
      for (const t of targets.filter((x) => !x.runs || x.runs.includes(run))) {
        process.stderr.write(`[bench] ${run} round ${r + 1}/${rounds}: ${t.name}\n`);
        record(run, t.name, await scenario(t));
      }
    }
  }
  if (!only || only.includes('queued')) {
    for (let r = 0; r < rounds; r++) {
      // Empty, 1M, 1M, empty (ABBA): the machine's speed drifts by more than the difference
      // being measured, and a drift that is even over the four runs cancels in the means.
      process.stderr.write(`[bench] queued round ${r + 1}/${rounds}: ${names[0]}, empty queue, 1M deferred, 1M deferred, empty queue\n`);
      const runs: [Figures, Figures, Figures, Figures] = [
        await drain(targets[0]!, n(20_000)),
        await drain(targets[0]!, n(20_000), n(1_000_000)),
        await drain(targets[0]!, n(20_000), n(1_000_000)),
        await drain(targets[0]!, n(20_000)),
      ];
      process.stderr.write(`[bench] queued runs: ${JSON.stringify(runs.map((f) => [Math.round(f.acceptedPausedPerSecond!), Math.round(f.drainPerSecond!)]))}\n`);
      const mean = (a: Figures, b: Figures) => Object.fromEntries(Object.keys(a).map((k) => [k, (a[k]! + b[k]!) / 2])) as Figures;
      const empty = mean(runs[0], runs[3]);
      const queued = mean(runs[1], runs[2]);
      record('queued', names[0]!, {
        acceptedEmpty: empty.acceptedPausedPerSecond!,
        acceptedQueued: queued.acceptedPausedPerSecond!,
        acceptedRatio: queued.acceptedPausedPerSecond! / empty.acceptedPausedPerSecond!,
        drainEmpty: empty.drainPerSecond!,
        drainQueued: queued.drainPerSecond!,
        drainRatio: queued.drainPerSecond! / empty.drainPerSecond!,
      });
    }
  }
  if (!only || only.includes('relay')) {
    for (let r = 0; r < rounds; r++) {
      const ours = await relayThroughput(n(5_000));
      // Postfix's figure goes in Hikyaku's row, as the ratio's other side.
      const theirs = args.vs ? await postfixRelayThroughput(n(5_000)) : {};
      record('relay', names[0]!, { ...ours, ...theirs, ...(theirs.postfixRelayedPerSecond ? { relayToPostfix: ours.relayedPerSecond! / theirs.postfixRelayedPerSecond } : {}) });
    }
  }
  if (!only || only.includes('metrics')) for (let r = 0; r < rounds; r++) record('metrics', names[0]!, await metricsCost(n(1_000_000), n(10_000)));
  if (!only || only.includes('pgdrain')) for (let r = 0; r < rounds; r++) record('pgdrain', names[0]!, await pgDrainTable(n(20_000), 2));
  if (!only || only.includes('dns')) for (let r = 0; r < rounds; r++) record('dns', names[0]!, await dnsQueries(args.smoke ? 2 : 20));
  if (!only || only.includes('web')) for (let r = 0; r < rounds; r++) record('web', names[0]!, await staticFiles(args.smoke ? 1 : 10));
  if (!only || only.includes('disk')) for (let r = 0; r < rounds; r++) record('disk', names[0]!, await physicalLimits(args.smoke ? 0.2 : 2));
} finally {
  for (const t of targets) await t.stop();
}

const figures: FigureResult[] = SPECS.map(({ run, ...spec }) => ({
  ...spec,
  values: Object.fromEntries(names.map((name) => [name, (collected.get(`${run}/${name}`) ?? []).map((f) => f[spec.key]!).filter((x) => x !== undefined)])),
}));
const result = {
  revision: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
  date: new Date().toISOString(),
  smoke: args.smoke,
  rounds,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
  durability: Object.fromEntries(targets.map((t) => [t.name, t.durability])),
  figures,
};
console.log(`\nHikyaku ${result.revision}${args.vs ? ' vs Postfix + Dovecot' : ''}, ${rounds} round(s)${args.smoke ? ', smoke (1% size)' : ''}, ${result.machine.cores} cores`);
console.log(table(figures, names));
for (const t of targets) console.log(`  durable before 250 — ${t.name}: ${t.durability}`);
if (args.compare) {
  const before = JSON.parse(readFileSync(args.compare, 'utf8')) as { figures: FigureResult[]; revision: string };
  const { lines, worse } = compare(figures, before.figures, names[0]!);
  console.log(`\nChange against ${args.compare} (${before.revision}):\n${lines.join('\n')}`);
  if (worse > 0) {
    console.log(`${worse} figure(s) more than 10% worse`);
    process.exitCode = 1;
  }
}
if (!args.smoke) {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `${result.date.replace(/[:.]/g, '-')}-${result.revision}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwritten to ${file}`);
}
