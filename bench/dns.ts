/**
 * DNS queries per second against the dns role, measured by dnsperf (Debian's): 100 hosted
 * domains, a mix of MX, TXT (SPF, DMARC, DKIM), SRV, SOA and names that do not exist.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDkimKey } from '../src/directory/index.js';
import { openDirectoryStore } from '../src/wiring.js';
import { freePort, removeDir, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';
import type { Figures } from './scenarios.js';

export async function dnsQueries(seconds: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-dns-');
  let server: ChildProcess | undefined;
  try {
    const store = openDirectoryStore(testConfig(dir));
    const key = generateDkimKey('rsa-sha256', 'bench');
    for (let i = 0; i < 100; i++) await store.addDomain(`d${i}.test`, { ...key });
    await store.close();
    const port = await freePort();
    server = await spawnServer(dir, { HIKYAKU_ROLES: 'dns', HIKYAKU_DNS_PORT: String(port), HIKYAKU_LOG_LEVEL: 'warn' }, process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []);
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      const d = `d${i}.test`;
      lines.push(`${d} MX`, `${d} TXT`, `_dmarc.${d} TXT`, `bench._domainkey.${d} TXT`, `_imaps._tcp.${d} SRV`, `${d} SOA`, `nothing.${d} A`);
    }
    const file = join(dir, 'queries.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const out = execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '8', '-q', '200', '-e'], { encoding: 'utf8' });
    const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1]);
    const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const latency = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    if (!qps) throw new Error(`dnsperf said: ${out}`);
    return { queriesPerSecond: qps, lostQueries: lost, averageLatencyMs: latency * 1000 };
  } finally {
    server?.kill('SIGTERM');
    if (server) await new Promise((r) => server!.once('exit', r));
    removeDir(dir);
  }
}
