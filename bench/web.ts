/**
 * Static files per second from the web role and from nginx (Debian's) serving the same
 * folder, side by side, measured by wrk over keep-alive connections: a page (8 KiB HTML)
 * and an image (64 KiB).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { openDirectoryStore } from '../src/wiring.js';
import { freePort, removeDir, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';
import type { Figures } from './scenarios.js';

const HOST = 'bench.test';

/** Requests per second wrk measured for `path` on `port`. */
function wrk(port: number, path: string, seconds: number): number {
  const out = execFileSync('wrk', ['-t2', '-c32', `-d${seconds}s`, '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!rps || /Non-2xx/.test(out)) throw new Error(`wrk said: ${out}`);
  return rps;
}

async function nginx(dir: string, root: string, port: number): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  // As Debian ships it where it matters for static files: a worker per core, sendfile, keep-alive; no access log (the web role keeps none either).
  writeFileSync(
    conf,
    `daemon off; worker_processes auto; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'nginx-error.log')};
events { worker_connections 1024; }
http { include /etc/nginx/mime.types; sendfile on; tcp_nopush on; keepalive_requests 100000; access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; server_name ${HOST}; root ${root}; index index.html; } }
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('curl', ['-sf', '-o', '/dev/null', '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/index.html`]);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill();
  throw new Error('nginx did not start');
}

export async function staticFiles(seconds: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-web-');
  const servers: ChildProcess[] = [];
  try {
    const store = openDirectoryStore(testConfig(dir));
    await store.addDomain(HOST);
    await store.close();
    const site = join(dir, 'sites', HOST);
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'index.html'), `<!doctype html><title>Bench</title>${'<p>A paragraph of the company homepage.</p>\n'.repeat(190)}`);
    writeFileSync(join(site, 'logo.png'), randomBytes(64 * 1024));
    const ours = await freePort();
    // As many processes as nginx's worker_processes auto: one per core.
    servers.push(await spawnServer(dir, { HIKYAKU_ROLES: 'web', HIKYAKU_WEB_PORT: String(ours), HIKYAKU_WEB_PROCESSES: String(availableParallelism()), HIKYAKU_LOG_LEVEL: 'warn' }));
    const theirs = await freePort();
    servers.push(await nginx(dir, site, theirs));
    // One short run each first: Node's JIT and both page caches warm (not in a smoke run).
    if (seconds > 1) for (const port of [ours, theirs]) wrk(port, '/index.html', 1);
    const f = {
      pageHikyaku: wrk(ours, '/index.html', seconds),
      pageNginx: wrk(theirs, '/index.html', seconds),
      imageHikyaku: wrk(ours, '/logo.png', seconds),
      imageNginx: wrk(theirs, '/logo.png', seconds),
    };
    return { ...f, pageToNginx: f.pageHikyaku / f.pageNginx, imageToNginx: f.imageHikyaku / f.imageNginx };
  } finally {
    for (const s of servers) {
      s.kill('SIGTERM');
      await new Promise((r) => (s.exitCode !== null ? r(undefined) : s.once('exit', r)));
    }
    removeDir(dir);
  }
}
