import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashPassword, type DirectoryStore } from '../directory/index.js';
import { BUILTIN_SCENARIOS, Installation, ScenarioError, parseScenario, rehearse, settingsEnv, verdicts, writeReport, type Scenario } from '../rehearsal/index.js';
import { CliError, type Io } from './output.js';

export const REHEARSE_USAGE = `  rehearse 2016-10|FILE.json --database postgres://HOST:PORT/DB [--out DIR] [--rate MSG_PER_S]
           [--keep] | rehearse 2016-10 --print
                                replay the night of DESIGN.md (or an operator's scenario)
                                against a fresh installation on this machine: PostgreSQL in
                                a schema of its own, the fault proxy before the mailbox
                                store; report.html with plots and report.json in --out;
                                exit 1 when a promise was not held`;

export interface RehearseValues {
  database?: string;
  out?: string;
  rate?: string;
  keep?: boolean;
  print?: boolean;
}

export interface RehearseDeps {
  /** The directory store of a PostgreSQL URL (for the accounts), and removal of a schema. */
  readonly openDirectory: (url: string, workDir: string) => DirectoryStore;
  readonly dropSchema: (url: string) => Promise<void>;
}

function loadScenario(name: string | undefined): Scenario {
  if (!name) throw new CliError(`usage:\n${REHEARSE_USAGE}`, 2);
  const builtin = BUILTIN_SCENARIOS[name];
  if (!builtin && !existsSync(name)) throw new CliError(`no scenario "${name}": name a built-in one (${Object.keys(BUILTIN_SCENARIOS).join(', ')}) or a JSON file`, 2);
  try {
    return parseScenario(builtin ? JSON.stringify(builtin) : readFileSync(name, 'utf8'));
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError(`${name}: ${err.message}`, 2);
    throw err;
  }
}

export async function runRehearseCommand(name: string | undefined, values: RehearseValues, io: Io, deps: RehearseDeps): Promise<number> {
  let scenario = loadScenario(name);
  if (values.print) {
    io.out(JSON.stringify(BUILTIN_SCENARIOS[name!] ?? JSON.parse(readFileSync(name!, 'utf8')), null, 2));
    return 0;
  }
  if (values.rate !== undefined) {
    const rate = Number(values.rate);
    if (!/^\d+(\.\d+)?$/.test(values.rate) || rate < 0.1 || rate > 10_000) throw new CliError(`--rate takes messages per second from 0.1 to 10000, got ${JSON.stringify(values.rate)}`, 2);
    scenario = { ...scenario, rate };
  }
  const database = values.database;
  let db: URL;
  try {
    db = new URL(database ?? '');
  } catch {
    throw new CliError('--database postgres://HOST:PORT/DATABASE: the rehearsal makes a schema of its own there (and drops it at the end unless --keep)', 2);
  }
  if (!/^postgres(ql)?:$/.test(db.protocol) || db.search) throw new CliError(`--database takes postgres://HOST:PORT/DATABASE without parameters, got ${database}`, 2);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(db.hostname)) throw new CliError(`--database: a rehearsal breaks its store on purpose, so it runs on this machine only (127.0.0.1 or localhost), not ${db.hostname}`, 2);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const out = resolve(values.out ?? `rehearsal-${scenario.name.replace(/[^\w.-]/g, '_')}-${stamp}`);
  const schema = `rehearsal_${stamp.toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const install = new Installation({ database: db.href, schema, workDir: join(out, 'run'), env: { HIKYAKU_LOG_LEVEL: process.env.HIKYAKU_LOG_LEVEL ?? 'warn', ...settingsEnv(scenario) } });
  const domain = 'rehearsal.test';
  const users = Array.from({ length: scenario.accounts }, (_, i) => `user${i + 1}@${domain}`);
  const password = randomBytes(12).toString('base64url');
  const started = Date.now();
  // Interrupted (Ctrl-C, a CI's timeout): the installation's processes go too.
  const interrupted = () => void install.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const say = (line: string) => io.err(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`);
  try {
    say(`installation: schema ${schema} in ${db.host}${db.pathname}, ${users.length} accounts; logs in ${join(out, 'run')}`);
    const directory = deps.openDirectory(install.directUrl, join(out, 'run'));
    try {
      await directory.addDomain(domain);
      const passwordHash = await hashPassword(password);
      for (const address of users) await directory.addAccount({ address, passwordHash, quotaBytes: 0 });
    } finally {
      await directory.close();
    }
    await install.startProxy();
    await install.startFront();
    await install.deliveryProcesses(scenario.phases[0]!.deliveryProcesses);
    const record = await rehearse({ scenario, install, domain, users, password, say });
    const judged = verdicts(record);
    const file = writeReport(out, record, judged);
    for (const v of judged) io.out(`${v.held ? 'held    ' : 'NOT HELD'}  ${v.promise}: ${v.figure}`);
    io.out(`report: ${file}`);
    return judged.every((v) => v.held) ? 0 : 1;
  } catch (err) {
    // Not a stack trace: what stopped the rehearsal, and where its processes' logs are.
    throw new CliError(`the rehearsal stopped: ${(err as Error).message} (the processes' logs are in ${join(out, 'run')})`, 1);
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await install.stop();
    if (!values.keep) await deps.dropSchema(install.directUrl).catch((err) => io.err(`could not drop schema ${schema}: ${(err as Error).message}`));
    else io.err(`kept schema ${schema} (DROP SCHEMA ${schema} CASCADE removes it)`);
  }
}
