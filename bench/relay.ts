/**
 * Outbound relay throughput (Hikyaku only: the anchor has no comparable setup here).
 * Mail to a hosted account that forwards to a remote domain goes MX → spool → local
 * expansion → relay (SRS sender, STARTTLS, one connection per transaction) to a local
 * sink found through a test DNS server. Measured: relayed msg/s from the first message
 * sent until the sink holds all of them.
 */
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { freePort, removeDir, seedDirectory, startTestService, tempDir } from '../test/helpers/service.js';
import { startDnsServer } from '../test/helpers/dns-server.js';
import { startRemoteSmtp } from '../test/helpers/remote-smtp.js';
import type { Figures } from './scenarios.js';

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
    const body = testMessage('relay', 4096);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = await SmtpClient.open(t.port);
        while (next < messages) {
          next++;
          const r = await c.send('someone@client.test', ['fw@hosted.test'], body);
          if (r.reply.code !== 250) throw new Error(`refused: ${r.reply.code} ${r.reply.text}`);
        }
        await c.quit();
      }),
    );
    const deadline = Date.now() + 600_000;
    while (sink.received.length < messages) {
      if (Date.now() > deadline) throw new Error('timed out waiting for relay');
      await new Promise((r) => setTimeout(r, 20));
    }
    return { relayedPerSecond: messages / ((performance.now() - started) / 1000) };
  } finally {
    await t.stop();
    await sink.close();
    await dns.close();
    removeDir(dir);
  }
}
