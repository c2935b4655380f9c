/**
 * POP3 retrieval: mailboxes of N messages of 4 KiB; each client logs in, takes UIDL,
 * retrieves every message (RETRs pipelined, as clients do with PIPELINING) and quits.
 */
import { Readable } from 'node:stream';
import { Pop3Client } from '../test/helpers/pop3-client.js';
import { testMessage } from '../test/helpers/smtp-client.js';
import { BENCH_PASSWORD, pool, type BenchServer } from './server.js';

export interface Pop3RetrievalResult {
  readonly clients: number;
  readonly messagesPerMailbox: number;
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

const WINDOW = 16;

/** Appends `count` messages to each of the first `mailboxes` POP3 mailboxes, straight into the store. */
export async function seedMailboxes(server: BenchServer, mailboxes: number, count: number, size: number): Promise<void> {
  const body = testMessage('pop', size);
  const jobs = [...server.popAccounts.values()].slice(0, mailboxes).flatMap((id) => Array.from({ length: count }, (_, i) => ({ id, i })));
  await pool(jobs, 256, async ({ id, i }) => {
    await server.mailStore.append({
      accountId: id,
      messageKey: `seed-${id}-${i}`,
      header: Buffer.from(`Delivered-To: reader@pop.bench.test\r\n`),
      openBody: () => Readable.from([body]),
      bodySize: body.length,
      internalDate: Date.now(),
      quotaBytes: 0,
    });
  });
}

async function retrieveAll(port: number, user: string): Promise<{ messages: number; bytes: number }> {
  const c = await Pop3Client.open(port);
  await c.login(user, BENCH_PASSWORD);
  const uidl = (await c.command('UIDL', true)) as Buffer;
  const count = uidl.toString('latin1').split('\r\n').filter(Boolean).length;
  let bytes = 0;
  let next = 1;
  const inFlight: Promise<string | Buffer>[] = [];
  while (next <= count || inFlight.length > 0) {
    while (next <= count && inFlight.length < WINDOW) inFlight.push(c.command(`RETR ${next++}`, true));
    const r = await inFlight.shift()!;
    if (typeof r === 'string') throw new Error(`RETR failed: ${r}`);
    bytes += r.length;
  }
  await c.quit();
  return { messages: count, bytes };
}

export async function pop3Retrieval(server: BenchServer, clients: number, perMailbox: number): Promise<Pop3RetrievalResult> {
  const users = [...server.popAccounts.keys()].slice(0, clients);
  const started = performance.now();
  const results = await Promise.all(users.map((u) => retrieveAll(server.pop3Port, u)));
  const seconds = (performance.now() - started) / 1000;
  const messages = results.reduce((n, r) => n + r.messages, 0);
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  if (messages !== clients * perMailbox) throw new Error(`retrieved ${messages} messages, expected ${clients * perMailbox}`);
  return {
    clients,
    messagesPerMailbox: perMailbox,
    messages,
    seconds: +seconds.toFixed(2),
    messagesPerSecond: Math.round(messages / seconds),
    megabytesPerSecond: +(bytes / seconds / 1e6).toFixed(1),
  };
}
