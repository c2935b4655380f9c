/**
 * The `hikyaku` program: parses the command line, loads configuration, and hands
 * the wired-up stores and services to the commands. Nothing imports this file.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError, configReference, loadConfig, type Config } from './config/index.js';
import { HikyakuError } from './mail/index.js';
import { CliError, FAULT_PROXY_USAGE, LOAD_USAGE, REHEARSE_USAGE, runLoadCommand, runRehearseCommand, hostPort, DIRECTORY_USAGE, TENANT_USAGE, runTenantCommand, runTotpCommand, QUEUE_MANAGE_USAGE, QUEUE_USAGE, runDirectoryCommand, runQueueCommand, runQueueManagement, startProgress, type Io, type Progress } from './cli/index.js';
import { configuredFault, openDirectoryStore, openPortalState, openSpool, startService } from './wiring.js';
import { copyStores, dropRehearsalSchema, migrateStores } from './wiring-stores.js';
import { openQueueManagement } from './wiring-cli.js';
import { parseFaultSetting, writeFaultSetting } from './fault-switch.js';
import { MANAGE_ACTIONS } from './queue/index.js';
import { FaultProxy } from './servers/index.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const USAGE = `usage: hikyaku COMMAND [options]

  start [--roles mx,delivery] [--fault mailstore=hang|fail|slow:10x|slow:250ms]
                                run the service (all roles by default); --fault rehearses
                                a storage failure (staging only)
  fault mailstore=hang|fail|slow:10x|slow:250ms | clear
                                start or end that rehearsal on the running service
  config show | reference       effective configuration (JSON) | every key, documented
  db migrate                    bring the schemas of the stores in PostgreSQL up to date
                                (every node also does it when it starts; safe to run at once)
  db copy --to postgres://... [--from DATA_DIR]
                                copy an embedded installation (stopped) into PostgreSQL,
                                then compare every table; run again to go on after a stop
${FAULT_PROXY_USAGE}
${LOAD_USAGE}
${REHEARSE_USAGE}
${DIRECTORY_USAGE}
${TENANT_USAGE}
${QUEUE_USAGE}
${QUEUE_MANAGE_USAGE}

options:
  --data-dir DIR   data directory (default ./data, or $HIKYAKU_DATA_DIR)
  --json           machine-readable output for list commands
  --help, --version`;

// A reader that goes away (`hikyaku account list | head -1`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const io: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  progress: process.stderr.isTTY ? process.stderr : undefined,
};

/** `hikyaku fault-proxy`: runs until SIGTERM or SIGINT. */
async function faultProxy(values: { listen?: string; to?: string; control?: string }): Promise<void> {
  const target = hostPort('--to', values.to);
  const proxy = new FaultProxy(target);
  const { proxy: at, control } = await proxy.listen(hostPort('--listen', values.listen, '127.0.0.1:0'), hostPort('--control', values.control, '127.0.0.1:0'));
  io.out(`fault proxy ${at.address}:${at.port} -> ${target.host}:${target.port}; control http://${control.address}:${control.port}/`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function start(config: Config): Promise<void> {
  const service = await startService(config);
  io.out(`Hikyaku ${VERSION} started; data in ${config.dataDir}`);
  for (const l of service.listeners) io.out(`  ${l.role.padEnd(10)} ${l.url.padEnd(24)} ${l.note}`);
  const fault = configuredFault(config);
  if (fault) io.out(`  !!! FAULT INJECTION ON: ${fault}; for rehearsals, never in production`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.log.info({ signal }, 'shutting down');
    service.stop().then(
      () => {
        service.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        service.log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const SECRET_KEYS = ['srs.secret', 'relay.smarthostPassword'];

/** `--fault mailstore=SPEC` → SPEC (the store is the only component faults are injected into yet). */
function faultOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const m = /^mailstore=(.*)$/.exec(raw);
  if (!m) throw new CliError(`--fault takes mailstore=hang|fail|slow:<N>x|slow:<N>ms, got ${JSON.stringify(raw)}`, 2);
  return m[1];
}

/** `hikyaku db copy`: every table with a progress bar, then a line per table that differs. */
async function dbCopy(from: string, to: string | undefined): Promise<number> {
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new CliError('db copy needs --to postgres://user@host:5432/db (?schema=NAME for a schema of its own)', 2);
  let bar: Progress | undefined;
  let current = '';
  const checks = await copyStores(from, to, (table, done, total) => {
    if (table !== current) {
      bar?.stop();
      current = table;
      bar = startProgress(io, table.padEnd(16), total);
      io.err(`copying ${table} (${total} rows)`);
    }
    bar?.update(done);
  });
  bar?.stop();
  const bad = checks.filter((c) => !c.same);
  for (const c of checks) io.out(`${c.table}: ${c.rows} rows here, ${c.copied} there, ${c.same ? 'the same' : 'DIFFERENT'}`);
  if (bad.length) throw new CliError(`${bad.length} table(s) differ after the copy (${bad.map((c) => c.table).join(', ')}): was the service still running? Stop it and run the copy again.`, 1);
  io.out(`copied and compared ${checks.length} tables: every count and checksum matches`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      roles: { type: 'string' },
      fault: { type: 'string' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'password-stdin': { type: 'boolean', default: false },
      'keep-copy': { type: 'boolean', default: false },
      quota: { type: 'string' },
      dkim: { type: 'string' },
      tenant: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      limit: { type: 'string' },
      by: { type: 'string' },
      state: { type: 'string' },
      id: { type: 'string', multiple: true },
      sender: { type: 'string' },
      rcpt: { type: 'string' },
      older: { type: 'string' },
      all: { type: 'boolean', default: false },
      dsn: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      listen: { type: 'string' },
      to: { type: 'string' },
      from: { type: 'string' },
      control: { type: 'string' },
      target: { type: 'string' },
      sizes: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string' },
      'per-message': { type: 'string' },
      'allow-target': { type: 'string', multiple: true },
      users: { type: 'string' },
      every: { type: 'string' },
      delete: { type: 'boolean', default: false },
      database: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      print: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
    },
  });
  if (values.version) {
    io.out(VERSION);
    return 0;
  }
  const [command, action, ...args] = positionals;
  if (values.help || !command) {
    io.out(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'config' && action === 'reference') {
    io.out(configReference());
    return 0;
  }
  if (command === 'fault-proxy') {
    await faultProxy(values);
    return -1;
  }
  if (command === 'load') return runLoadCommand(action, values, io);
  if (command === 'rehearse') {
    const openDirectory = (url: string, dataDir: string) => openDirectoryStore(loadConfig({ dataDir, overrides: { 'storage.directory': url } }));
    return runRehearseCommand(action, values, io, { openDirectory, dropSchema: dropRehearsalSchema });
  }
  const config = loadConfig({ dataDir: values['data-dir'], overrides: { roles: values.roles, 'fault.mailstore': faultOption(values.fault) } });
  if (command === 'config' && action === 'show') {
    // Secrets are never printed: a configuration shown in a ticket or a screen share must not leak them.
    const shown = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, SECRET_KEYS.includes(k) && v ? '(set, not shown)' : v]));
    io.out(JSON.stringify(shown, null, 2));
    return 0;
  }
  if (command === 'db' && action === 'copy') return dbCopy(values.from ?? config.dataDir, values.to);
  if (command === 'db' && action === 'migrate') {
    const done = await migrateStores(config);
    if (done.length === 0) io.out('no store is in PostgreSQL (storage.directory, storage.spool, storage.mailstore): nothing to migrate');
    for (const m of done) io.out(`${m.store}: ${m.from === m.to ? `schema at version ${m.to}, nothing to do` : `schema migrated from version ${m.from} to ${m.to}`}`);
    return 0;
  }
  if (command === 'fault') {
    let fault;
    try {
      fault = parseFaultSetting(action === 'clear' ? 'none' : (action ?? ''));
    } catch (err) {
      throw new CliError(`${(err as Error).message}\nusage: hikyaku fault mailstore=hang|fail|slow:<N>x|slow:<N>ms | hikyaku fault clear`, 2);
    }
    writeFaultSetting(config.dataDir, fault);
    io.out(fault.kind === 'none' ? 'fault rehearsal cleared; a running service is back to normal within a second' : `fault set: ${action}; a running service applies it within a second`);
    return 0;
  }
  if (command === 'start') {
    await start(config);
    return -1;
  }
  if (command === 'queue' && (MANAGE_ACTIONS as readonly string[]).includes(action ?? '')) {
    const management = await openQueueManagement(config);
    try {
      await runQueueManagement(management, action as (typeof MANAGE_ACTIONS)[number], values, io);
    } finally {
      await management.close();
    }
    return 0;
  }
  if (command === 'queue') {
    const spool = openSpool(config);
    const directory = openDirectoryStore(config);
    try {
      // Domains' tenants, read once, for queue shape --by tenant.
      const tenants = async () => new Map((await directory.listDomains()).map((d) => [d.name, d.tenant]));
      await runQueueCommand(spool, action, { json: values.json, limit: values.limit, by: values.by, state: values.state, id: args[0] }, io, tenants);
    } finally {
      await spool.close();
      await directory.close();
    }
    return 0;
  }
  if (command === 'totp') {
    const state = openPortalState(config);
    try {
      await runTotpCommand(state, action, args, io);
    } finally {
      await state.close();
    }
    return 0;
  }
  const store = openDirectoryStore(config);
  try {
    if (command === 'tenant' || command === 'operator') {
      await runTenantCommand(store, command, action, args, { json: values.json, passwordStdin: values['password-stdin'], name: values.name }, io);
      return 0;
    }
    await runDirectoryCommand(
      store,
      command,
      action,
      args,
      {
        json: values.json,
        force: values.force,
        passwordStdin: values['password-stdin'],
        keepCopy: values['keep-copy'],
        quota: values.quota,
        dkim: values.dkim,
        tenant: values.tenant,
        role: values.role,
        name: values.name,
        mailHost: config.hostname,
      },
      io,
    );
  } finally {
    await store.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      io.err(`hikyaku: ${err.message}`);
      process.exitCode = err.exitCode;
    } else if (err instanceof ConfigError) {
      io.err(`hikyaku: ${err.message}`);
      process.exitCode = 78; // EX_CONFIG
    } else if (err instanceof HikyakuError) {
      io.err(`hikyaku: ${err.message}`);
      process.exitCode = 1;
    } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
      io.err(`hikyaku: cannot listen on ${e.address}:${e.port}: the address is already in use (another hikyaku running?)`);
      process.exitCode = 1;
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`hikyaku: ${(err as Error).message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      io.err(`hikyaku: unexpected error: ${(err as Error).message ?? String(err)}`);
      process.exitCode = 1;
    }
  },
);
