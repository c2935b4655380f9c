/**
 * npm run bench [-- --smoke] [-- --messages N --connections N --size BYTES]
 *
 * SMTP acceptance of the mx role, as shipped (fsync on): Hikyaku runs as its own process
 * on a fresh data dir; a pipelining load generator sends N messages over C connections
 * spread over 100 recipients. Reports messages/s, p50/p99 latency from the end of DATA
 * to the 250, and the end-to-end time until every message is in its mailbox.
 * BENCH_NODE_ARGS passes node options to the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDirectoryStore, openMailStore } from '../src/wiring.js';
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { ROOT, freePort, removeDir, seedDirectory, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    messages: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '32' },
    size: { type: 'string', default: '4096' },
    recipients: { type: 'string', default: '100' },
  },
});
const scale = values.smoke ? 0.01 : 1;
const MESSAGES = Math.max(10, Math.round(Number(values.messages) * scale));
const CONNECTIONS = Math.min(MESSAGES, Number(values.connections));
const SIZE = Number(values.size);
const RECIPIENTS = Number(values.recipients);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}


async function main(): Promise<void> {
  const dir = tempDir('hikyaku-bench-');
  const port = await freePort();
  const config = testConfig(dir);
  const directory = openDirectoryStore(config);
  const locals = Array.from({ length: RECIPIENTS }, (_, i) => `user${i}`);
  const ids = await seedDirectory(directory, 'bench.test', locals);
  await directory.close();
  const server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_LOG_LEVEL: 'warn'}, process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean));
  const mailStore = openMailStore(config);
  try {
    const body = testMessage('bench', SIZE);
    const latencies: number[] = [];
    let next = 0;
    let refused = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const c = await SmtpClient.open(port);
        while (next < MESSAGES) {
          const n = next++;
          const r = await c.send('load@client.test', [`user${n % RECIPIENTS}@bench.test`], body);
          if (r.reply.code === 250) latencies.push(r.ms);
          else refused++;
        }
        await c.quit();
      }),
    );
    const acceptSeconds = (performance.now() - started) / 1000;
    const accountIds = [...ids.values()];
    let delivered = 0;
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline) {
      delivered = 0;
      for (const id of accountIds) delivered += (await mailStore.status(id)).messages;
      if (delivered >= latencies.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const endToEndSeconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const result = {
      scenario: 'smtp-acceptance',
      revision: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
      load: { messages: MESSAGES, connections: CONNECTIONS, sizeBytes: body.length, recipients: RECIPIENTS, fsync: true },
      accepted: latencies.length,
      refused,
      acceptedPerSecond: Math.round(latencies.length / acceptSeconds),
      latencyMs: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2), max: +(latencies.at(-1) ?? 0).toFixed(2) },
      endToEndSeconds: +endToEndSeconds.toFixed(2),
      deliveredPerSecond: Math.round(delivered / endToEndSeconds),
      allDelivered: delivered >= latencies.length,
    };
    console.log(`
SMTP acceptance (role mx, fsync on) — ${MESSAGES} messages of ${body.length} B over ${CONNECTIONS} connections, ${RECIPIENTS} recipients
  accepted            ${result.accepted} (${refused} refused)
  messages/s          ${result.acceptedPerSecond}
  latency p50 / p99   ${result.latencyMs.p50} ms / ${result.latencyMs.p99} ms  (end of DATA → 250)
  end to end          ${result.endToEndSeconds} s until all are in their mailboxes (${result.deliveredPerSecond} msg/s)`);
    if (!values.smoke) {
      mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
      const file = join(ROOT, 'bench/results', `${result.date.replace(/[:.]/g, '-')}-${result.revision}.json`);
      writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
      console.log(`  written to ${file}`);
    }
    if (!result.allDelivered || refused > 0) process.exitCode = 1;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await mailStore.close();
    removeDir(dir);
  }
}

await main();
