/**
 * Outbound relay throughput to a local sink that offers STARTTLS, as real servers do.
 * Hikyaku: mail to a hosted account that forwards to a remote domain goes MX → spool →
 * local expansion → relay (SRS sender, STARTTLS, sessions reused per destination) to the
 * sink, found through a test DNS server. Postfix (with --vs postfix): the same messages sent
 * to the sink's address through the anchor's smtpd, relayed by `relayhost` to the same kind
 * of sink with opportunistic TLS (smtp_tls_security_level = may) and its own connection
 * cache as shipped. Measured: relayed msg/s from the first message sent until the sink holds
 * all of them.
 */
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { freePort, removeDir, seedDirectory, startTestService, tempDir } from '../test/helpers/service.js';
import { startDnsServer } from '../test/helpers/dns-server.js';
import { startRemoteSmtp } from '../test/helpers/remote-smtp.js';
import { execFileSync } from 'node:child_process';
import type { Figures } from './scenarios.js';

/** Sends `messages` from 8 clients to `port`, each to `rcpt`, and returns when all got 250. */
async function sendAll(port: number, rcpt: string, messages: number): Promise<void> {
  const body = testMessage('relay', 4096);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      const c = await SmtpClient.open(port);
      while (next < messages) {
        next++;
        const r = await c.send('someone@client.test', [rcpt], body);
        if (r.reply.code !== 250) throw new Error(`refused: ${r.reply.code} ${r.reply.text}`);
      }
      await c.quit();
    }),
  );
}

async function untilReceived(sink: { received: unknown[] }, messages: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (sink.received.length < messages) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for relay (${sink.received.length} of ${messages})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The anchor's Postfix relaying everything to a sink (relayhost), then set back. */
export async function postfixRelayThroughput(messages: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-prelay-');
  const port = await freePort();
  const sink = await startRemoteSmtp('127.0.0.7', port, dir + '/sink-tls');
  const postconf = (...settings: string[]) => execFileSync('postconf', ['-e', ...settings]);
  try {
    postconf(`relayhost = [127.0.0.7]:${port}`, 'smtp_tls_security_level = may');
    execFileSync('postfix', ['reload']);
    const started = performance.now();
    await sendAll(12525, 'sink@remote.test', messages);
    await untilReceived(sink, messages);
    return { postfixRelayedPerSecond: messages / ((performance.now() - started) / 1000) };
  } finally {
    postconf('relayhost =', 'smtp_tls_security_level = none');
    execFileSync('postfix', ['reload']);
    await sink.close();
    removeDir(dir);
  }
}

export async function relayThroughput(messages: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-relay-');
  const port = await freePort();
  const dns = await startDnsServer({ mx: { 'remote.test': [{ exchange: 'mx.remote.test', priority: 10 }] }, a: { 'mx.remote.test': ['127.0.0.7'] }, txt: {} });
  const sink = await startRemoteSmtp('127.0.0.7', port, dir + '/sink-tls');
  const t = await startTestService(dir, { 'relay.port': port, 'relay.dnsServers': `127.0.0.1:${dns.port}`, 'delivery.retryBaseMs': 2000, 'delivery.retryMaxMs': 300_000 });
  try {
    await seedDirectory(t.directoryStore, 'hosted.test', ['fw']);
    await t.directoryStore.setForward('fw@hosted.test', ['sink@remote.test'], false);
    await t.service.directory.refresh();
    const started = performance.now();
    await sendAll(t.port, 'fw@hosted.test', messages);
    await untilReceived(sink, messages);
    return { relayedPerSecond: messages / ((performance.now() - started) / 1000) };
  } finally {
    await t.stop();
    await sink.close();
    await dns.close();
    removeDir(dir);
  }
}
