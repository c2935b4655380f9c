import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { loadConfig, type Config, type ConfigKey } from '../../src/config/index.js';
import type { DirectoryStore } from '../../src/directory/index.js';
import { hashPassword } from '../../src/directory/index.js';
import type { AppendInput, MailStore } from '../../src/mailstore/index.js';
import { Readable } from 'node:stream';
import { openDirectoryStore, openSpool, startService, type Service, type ServiceOptions } from '../../src/wiring.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;

export function tempDir(prefix = 'hikyaku-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Test configuration: ephemeral port, quiet logs, fast retries. */
export function testConfig(dataDir: string, overrides: Partial<Record<ConfigKey, unknown>> = {}): Config {
  return loadConfig({
    dataDir,
    env: {},
    // Relay asks a DNS port where nothing listens unless a test gives its own resolver.
    overrides: { 'mx.port': 0, 'portal.port': 0, 'pop3.port': 0, 'pop3.tlsPort': 0, 'imap.port': 0, 'imap.tlsPort': 0, 'dns.port': 0, 'web.port': 0, 'web.tlsPort': 0, 'web.sftpPort': 0, 'submission.port': 0, 'submission.tlsPort': 0, 'metrics.listen': '127.0.0.1:0', 'relay.dnsServers': '127.0.0.1:9', 'auth.failureDelayMs': 10, 'log.level': 'silent', hostname: 'mx.hikyaku.test', 'delivery.retryBaseMs': 50, 'delivery.retryMaxMs': 500, 'delivery.pollMs': 50, ...overrides },
  });
}

let hash: Promise<string> | undefined;
/** One argon2 hash reused for test accounts (hashing is deliberately slow). */
export function testPasswordHash(): Promise<string> {
  return (hash ??= hashPassword('test-password'));
}

/** Creates a domain and accounts; returns account ids by address. */
export async function seedDirectory(store: DirectoryStore, domain: string, locals: string[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const known = (await store.listDomains()).some((d) => d.name === domain);
  if (!known) await store.addDomain(domain);
  for (const l of locals) {
    const a = await store.addAccount({ address: `${l}@${domain}`, passwordHash: await testPasswordHash(), quotaBytes: 0 });
    ids.set(a.address, a.id);
  }
  return ids;
}

/** A fresh data dir whose directory has `domain` with `locals` (password test-password); account ids by address. */
export async function seededDataDir(domain: string, locals: string[]): Promise<{ dir: string; ids: Map<string, number> }> {
  const dir = tempDir();
  const store = openDirectoryStore(testConfig(dir));
  try {
    return { dir, ids: await seedDirectory(store, domain, locals) };
  } finally {
    await store.close();
  }
}

export interface TestService {
  readonly service: Service;
  readonly config: Config;
  readonly port: number;
  readonly pop3Port: number;
  readonly pop3sPort: number;
  readonly imapPort: number;
  readonly imapsPort: number;
  readonly dnsPort: number;
  readonly webPort: number;
  readonly websPort: number;
  readonly sftpPort: number;
  readonly submissionPort: number;
  readonly submissionsPort: number;
  readonly portalPort: number;
  readonly directoryStore: DirectoryStore;
  stop(): Promise<void>;
}

/** Starts Hikyaku in this process on a fresh (or given) data dir. */
export async function startTestService(dataDir: string, overrides: Partial<Record<ConfigKey, unknown>> = {}, options: ServiceOptions = {}): Promise<TestService> {
  const config = testConfig(dataDir, overrides);
  const directoryStore = openDirectoryStore(config);
  const service = await startService(config, options);
  return {
    service,
    config,
    port: service.listeners.find((l) => l.role === 'mx')?.port ?? 0,
    pop3Port: service.listeners.find((l) => l.role === 'pop3')?.port ?? 0,
    pop3sPort: service.listeners.find((l) => l.role === 'pop3s')?.port ?? 0,
    imapPort: service.listeners.find((l) => l.role === 'imap')?.port ?? 0,
    imapsPort: service.listeners.find((l) => l.role === 'imaps')?.port ?? 0,
    dnsPort: service.listeners.find((l) => l.role === 'dns')?.port ?? 0,
    webPort: service.listeners.find((l) => l.role === 'web')?.port ?? 0,
    websPort: service.listeners.find((l) => l.role === 'webs')?.port ?? 0,
    sftpPort: service.listeners.find((l) => l.role === 'sftp')?.port ?? 0,
    submissionPort: service.listeners.find((l) => l.role === 'submission')?.port ?? 0,
    submissionsPort: service.listeners.find((l) => l.role === 'submissions')?.port ?? 0,
    portalPort: service.listeners.find((l) => l.role === 'portal')?.port ?? 0,
    directoryStore,
    async stop() {
      await service.stop();
      await directoryStore.close();
    },
  };
}

/** An append of `body` under `key` into account `accountId`'s mailbox (a Delivered-To line as its header). */
export function appendInput(accountId: number, key: string, body: string, quotaBytes = 0): AppendInput {
  return {
    accountId,
    messageKey: key,
    header: Buffer.from(`Delivered-To: ${accountId}\r\n`),
    openBody: () => Readable.from([Buffer.from(body)]),
    bodySize: Buffer.byteLength(body),
    internalDate: 1_700_000_000_000,
    quotaBytes,
  };
}

/** Every message in an account's mailbox, as text. */
export async function mailboxMessages(store: MailStore, accountId: number): Promise<string[]> {
  const out: string[] = [];
  for (const e of await store.list(accountId)) {
    const chunks: Buffer[] = [];
    for await (const c of await store.read(accountId, e.uid)) chunks.push(c as Buffer);
    out.push(Buffer.concat(chunks).toString('utf8'));
  }
  return out;
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes (bounded). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits (bounded) until the spool of `dataDir` holds no entry in any state: every message
 * accepted, and every one whose reply was lost in a crash, has been settled.
 */
export async function queueDrained(dataDir: string, timeoutMs: number, overrides: Partial<Record<ConfigKey, unknown>> = {}): Promise<boolean> {
  const spool = openSpool(testConfig(dataDir, overrides));
  try {
    return await waitFor(async () => Object.values((await spool.stats()).byState).every((n) => n === 0), timeoutMs, 200);
  } finally {
    await spool.close();
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion with optional stdin. */
export function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that does not read its input may be gone before it is written (EPIPE).
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the hikyaku command as a user would. */
export function hikyaku(dataDir: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [join(ROOT, 'bin/hikyaku.js'), '--data-dir', dataDir, ...args], options);
}

/** Runs a Python script (given as text) with arguments; its stdout is parsed as JSON. */
export async function python<T = unknown>(script: string, args: (string | number)[] = []): Promise<T> {
  const r = await run('python3', ['-c', script, ...args.map(String)]);
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts `hikyaku start` as a separate process (under `wrapper`, e.g. prlimit, if given); resolves once it prints its banner. */
export async function spawnServer(dataDir: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = [], startArgs: string[] = [], wrapper: string[] = []): Promise<ChildProcess> {
  const command = [...wrapper, process.execPath, ...nodeArgs, join(ROOT, 'bin/hikyaku.js'), '--data-dir', dataDir, 'start', ...startArgs];
  const child = spawn(command[0]!, command.slice(1), {
    // The roles these tests use unless they say otherwise: every listener more takes a port
    // that another test, restarting its server on a fixed port, may be waiting to get back.
    env: { ...process.env, HIKYAKU_ROLES: 'mx,submission,delivery,pop3,portal', HIKYAKU_LOG_LEVEL: 'warn', HIKYAKU_POP3_PORT: '0', HIKYAKU_POP3_TLS_PORT: '0', HIKYAKU_IMAP_PORT: '0', HIKYAKU_IMAP_TLS_PORT: '0', HIKYAKU_DNS_PORT: '0', HIKYAKU_WEB_PORT: '0', HIKYAKU_WEB_TLS_PORT: '0', HIKYAKU_WEB_SFTP_PORT: '0', HIKYAKU_SUBMISSION_PORT: '0', HIKYAKU_SUBMISSION_TLS_PORT: '0', HIKYAKU_METRICS_LISTEN: '127.0.0.1:0', HIKYAKU_PORTAL_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await untilOutput(child, 'started', 'server');
  return child;
}

/**
 * Resolves once `child` prints `marker` on stdout; rejects if it exits first or takes
 * more than 30 s, with everything it printed (`what` names it in the error).
 */
export async function untilOutput(child: ChildProcess, marker: string, what: string): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');
}

/**
 * A port free on 127.0.0.1 right now, TCP and UDP (for a server that must keep its port
 * across restarts). Chosen below Linux's ephemeral range (32768–60999): there no outgoing
 * connection or port-0 listener of another test can take it between this check and the
 * server's own listen.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const tcp = createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    if (!ok) continue;
    await new Promise((r) => tcp.close(r));
    const udp = createSocket('udp4');
    const udpOk = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    try {
      udp.close();
    } catch {
      // never bound
    }
    if (udpOk) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

/** The parent of process `pid` (from /proc), or undefined once it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The processes whose parent is `pid` (a service's session or web workers). */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => parentOf(p) === pid);
}
