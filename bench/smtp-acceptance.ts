/**
 * SMTP acceptance of the mx role, as shipped (fsync on): N messages over C connections,
 * spread over the recipients. Reports messages/s, p50/p99 latency from the end of DATA to
 * the 250, and the end-to-end time until every message is in its mailbox.
 */
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import type { BenchServer } from './server.js';
import { percentile } from './server.js';

export interface SmtpAcceptanceResult {
  readonly load: { messages: number; connections: number; sizeBytes: number; recipients: number };
  readonly accepted: number;
  readonly refused: number;
  readonly acceptedPerSecond: number;
  readonly latencyMs: { p50: number; p99: number; max: number };
  readonly endToEndSeconds: number;
  readonly deliveredPerSecond: number;
  readonly allDelivered: boolean;
}

export async function smtpAcceptance(server: BenchServer, messages: number, connections: number, size: number): Promise<SmtpAcceptanceResult> {
  const recipients = server.accounts.length;
  const body = testMessage('bench', size);
  const before = await server.delivered();
  const latencies: number[] = [];
  let next = 0;
  let refused = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(messages, connections) }, async () => {
      const c = await SmtpClient.open(server.smtpPort);
      while (next < messages) {
        const n = next++;
        const r = await c.send('load@client.test', [server.accounts[n % recipients]!], body);
        if (r.reply.code === 250) latencies.push(r.ms);
        else refused++;
      }
      await c.quit();
    }),
  );
  const acceptSeconds = (performance.now() - started) / 1000;
  let delivered = 0;
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    delivered = (await server.delivered()) - before;
    if (delivered >= latencies.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const endToEndSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    load: { messages, connections, sizeBytes: body.length, recipients },
    accepted: latencies.length,
    refused,
    acceptedPerSecond: Math.round(latencies.length / acceptSeconds),
    latencyMs: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2), max: +(latencies.at(-1) ?? 0).toFixed(2) },
    endToEndSeconds: +endToEndSeconds.toFixed(2),
    deliveredPerSecond: Math.round(delivered / endToEndSeconds),
    allDelivered: delivered >= latencies.length,
  };
}
