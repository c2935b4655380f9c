/**
 * What watching the backlog costs (Hikyaku only): a spool holding `backlog` deferred
 * entries (a store outage's worth), then GET /metrics and the status page timed, and SMTP
 * acceptance measured without them and with a scrape and a status page each second,
 * alternating, on the same process (the portal sampling the backlog every second too).
 */
import type { ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { openDirectoryStore } from '../src/wiring.js';
import { seedBacklog } from '../test/helpers/backlog.js';
import { hashPassword } from '../src/directory/index.js';
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { freePort, removeDir, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';
import type { Figures } from './scenarios.js';

function scrape(port: number, path = '/metrics'): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${path} answered ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function accept(port: number, messages: number): Promise<number> {
  const body = testMessage('cost', 4096);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      const c = await SmtpClient.open(port);
      while (next < messages) {
        next++;
        const r = await c.send('load@client.test', ['user1@example.test'], body);
        if (r.reply.code !== 250) throw new Error(`refused: ${r.reply.code} ${r.reply.text}`);
      }
      await c.quit();
    }),
  );
  return messages / ((performance.now() - started) / 1000);
}

export async function metricsCost(backlog: number, messages: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-metrics-');
  const [port, metricsPort, portalPort] = [await freePort(), await freePort(), await freePort()];
  let server: ChildProcess | undefined;
  try {
    const store = openDirectoryStore(testConfig(dir));
    await store.addDomain('example.test');
    await store.addAccount({ address: 'user1@example.test', passwordHash: await hashPassword('bench'), quotaBytes: 0 });
    await store.close();
    await seedBacklog(dir, backlog, 'a@b.test', (i) => `r${i}@d${i % 1000}.test`, () => 'remote');
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_ROLES: 'mx,delivery,portal', HIKYAKU_PORTAL_PORT: String(portalPort), HIKYAKU_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, HIKYAKU_LOG_LEVEL: 'warn' });
    const times: number[] = [];
    const pages: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await scrape(metricsPort));
    for (let i = 0; i < 20; i++) pages.push(await scrape(portalPort, '/status'));
    times.sort((a, b) => a - b);
    pages.sort((a, b) => a - b);
    const quiet: number[] = [];
    const watched: number[] = [];
    for (let round = 0; round < 2; round++) {
      quiet.push(await accept(port, messages));
      let scraping = true;
      const scraper = (async () => {
        while (scraping) {
          await scrape(metricsPort);
          await scrape(portalPort, '/status');
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      watched.push(await accept(port, messages));
      scraping = false;
      await scraper;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      scrapeMsMedian: times[Math.floor(times.length / 2)]!,
      scrapeMsMax: times[times.length - 1]!,
      statusMsMedian: pages[Math.floor(pages.length / 2)]!,
      statusMsMax: pages[pages.length - 1]!,
      acceptedQuietPerSecond: mean(quiet),
      acceptedScrapedPerSecond: mean(watched),
      scrapedToQuiet: mean(watched) / mean(quiet),
    };
  } finally {
    server?.kill('SIGKILL');
    removeDir(dir);
  }
}
