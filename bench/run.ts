/**
 * npm run bench [-- --smoke]
 *
 * Runs every scenario against one Hikyaku process started on a fresh data dir, as shipped
 * (fsync on), prints a table and writes the figures to bench/results/ (not in smoke mode).
 * --smoke runs every scenario at 1% of its size, so the bench cannot rot (npm test runs it).
 * BENCH_NODE_ARGS passes node options to the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/helpers/service.js';
import { startBenchServer } from './server.js';
import { smtpAcceptance } from './smtp-acceptance.js';
import { pop3Retrieval, seedMailboxes } from './pop3-retrieval.js';
import { idleSessions } from './idle-sessions.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false } } });
const scale = values.smoke ? 0.01 : 1;
const n = (full: number) => Math.max(1, Math.round(full * scale));

const SMTP_MESSAGES = n(10_000);
const POP_PER_MAILBOX = n(5_000);
const POP_CLIENTS = 16;
const IDLE = n(2_000);

const server = await startBenchServer(100, Math.max(POP_CLIENTS, IDLE), process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean));
try {
  const smtp = await smtpAcceptance(server, SMTP_MESSAGES, 32, 4096);
  await seedMailboxes(server, POP_CLIENTS, POP_PER_MAILBOX, 4096);
  const pop1 = await pop3Retrieval(server, 1, POP_PER_MAILBOX);
  const pop16 = await pop3Retrieval(server, POP_CLIENTS, POP_PER_MAILBOX);
  const idleSmtp = await idleSessions(server, 'smtp', IDLE);
  const idlePop3 = await idleSessions(server, 'pop3', IDLE);
  const result = {
    revision: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
    date: new Date().toISOString(),
    smoke: values.smoke,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
    smtpAcceptance: smtp,
    pop3Retrieval: [pop1, pop16],
    idleSessions: [idleSmtp, idlePop3],
  };
  const kb = (b: number) => (b / 1024).toFixed(1);
  console.log(`
Hikyaku ${result.revision} on ${result.machine.cores} cores${values.smoke ? ' (smoke: 1% size)' : ''}, fsync on

SMTP acceptance   ${smtp.load.messages} × ${smtp.load.sizeBytes} B over ${smtp.load.connections} connections, ${smtp.load.recipients} recipients
  messages/s            ${smtp.acceptedPerSecond}   (${smtp.refused} refused)
  latency p50 / p99     ${smtp.latencyMs.p50} ms / ${smtp.latencyMs.p99} ms   (end of DATA → 250)
  end to end            ${smtp.endToEndSeconds} s until all are in their mailboxes (${smtp.deliveredPerSecond} msg/s)

POP3 retrieval    LOGIN + UIDL + RETR all + QUIT, ${POP_PER_MAILBOX} messages of 4 KiB per mailbox
  1 client              ${pop1.messagesPerSecond} msg/s   ${pop1.megabytesPerSecond} MB/s   (${pop1.seconds} s)
  ${POP_CLIENTS} clients            ${pop16.messagesPerSecond} msg/s   ${pop16.megabytesPerSecond} MB/s   (${pop16.seconds} s)

Idle sessions     server memory per session (RSS / PSS)
  ${IDLE} SMTP          ${kb(idleSmtp.rssBytesPerSession)} kB / ${kb(idleSmtp.pssBytesPerSession)} kB
  ${IDLE} POP3 (logged in) ${kb(idlePop3.rssBytesPerSession)} kB / ${kb(idlePop3.pssBytesPerSession)} kB`);
  if (!values.smoke) {
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join(ROOT, 'bench/results', `${result.date.replace(/[:.]/g, '-')}-${result.revision}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`\n  written to ${file}`);
  }
  if (!smtp.allDelivered || smtp.refused > 0) process.exitCode = 1;
} finally {
  await server.stop();
}
