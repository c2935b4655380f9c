/**
 * A rehearsal's scenario: the installation (accounts, delivery processes, settings for a
 * compressed clock), the everyday load (1×: inbound mail, readers polling, members logging
 * in) and a timeline of phases, each with its inbound multiple, the mailbox store's health
 * (through the fault proxy) and how many delivery processes run. Operators write their own
 * as JSON; `parseScenario` checks every field and says what is wrong in a sentence.
 */
import { LoadOptionError, parseSizes } from '../load/index.js';
import { envName, SCHEMA, type ConfigKey } from '../config/index.js';

export interface StorageHealth {
  /** Latency the proxy adds to every chunk each way (ms); a pair ramps from the first to the second over the phase. */
  readonly latencyMs: number | readonly [number, number];
  /** Every this many seconds the store's open connections are dropped; 0: never. */
  readonly dropEverySeconds: number;
  /** The store's capacity: most bytes per second each way per connection; 0: no cap. */
  readonly bandwidthBytesPerSecond: number;
  /** New connections to the store are refused. */
  readonly refuse: boolean;
}

export interface Phase {
  readonly name: string;
  readonly seconds: number;
  /** Inbound mail as a multiple of the everyday rate. */
  readonly inbound: number;
  readonly storage: StorageHealth;
  /** Delivery processes running from this phase on (never fewer than before). */
  readonly deliveryProcesses: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Accounts of the rehearsal's domain: mail is spread over all of them. */
  readonly accounts: number;
  /** The everyday (1×) inbound rate, messages per second, and their sizes (`4k:90,64k:9,1m:1`). */
  readonly rate: number;
  readonly sizes: string;
  /** How many of the accounts poll over POP3, and how often (seconds). */
  readonly readers: { readonly accounts: number; readonly everySeconds: number };
  /** How many log in to the member site, and how often (seconds). */
  readonly members: { readonly accounts: number; readonly everySeconds: number };
  /** Configuration keys for every node (such as the status page's thresholds, shortened with the clock). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly phases: readonly Phase[];
  /** After the last phase: at most this long for the backlog to drain and the incident to close. */
  readonly drainSeconds: number;
}

export class ScenarioError extends Error {}

type Json = Record<string, unknown>;

function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScenarioError(`${where} must be a JSON object`);
  return v as Json;
}

function known(o: Json, keys: readonly string[], where: string): void {
  const extra = Object.keys(o).find((k) => !keys.includes(k));
  if (extra) throw new ScenarioError(`${where}: unknown field "${extra}"; the fields are ${keys.join(', ')}`);
}

function num(v: unknown, where: string, min: number, max: number, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ScenarioError(`${where} must be a number from ${min} to ${max}${v === undefined ? '' : `, got ${JSON.stringify(v)}`}`);
  return v;
}

function int(v: unknown, where: string, min: number, max: number, fallback?: number): number {
  const n = num(v, where, min, max, fallback);
  if (!Number.isInteger(n)) throw new ScenarioError(`${where} must be a whole number, got ${n}`);
  return n;
}

function str(v: unknown, where: string, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v.length === 0 || v.length > 2000 || /[\0-\x1f]/.test(v)) throw new ScenarioError(`${where} must be a line of text`);
  return v;
}

const HEALTHY: StorageHealth = { latencyMs: 0, dropEverySeconds: 0, bandwidthBytesPerSecond: 0, refuse: false };

function storage(v: unknown, where: string): StorageHealth {
  if (v === undefined) return HEALTHY;
  const o = object(v, where);
  known(o, ['latencyMs', 'dropEverySeconds', 'bandwidthBytesPerSecond', 'refuse'], where);
  const latency = o.latencyMs;
  const latencyMs: StorageHealth['latencyMs'] = Array.isArray(latency)
    ? latency.length === 2
      ? [int(latency[0], `${where}.latencyMs[0]`, 0, 60_000), int(latency[1], `${where}.latencyMs[1]`, 0, 60_000)]
      : (() => {
          throw new ScenarioError(`${where}.latencyMs takes a number, or [from, to] to ramp over the phase`);
        })()
    : int(latency, `${where}.latencyMs`, 0, 60_000, 0);
  if (o.refuse !== undefined && typeof o.refuse !== 'boolean') throw new ScenarioError(`${where}.refuse must be true or false`);
  return {
    latencyMs,
    dropEverySeconds: int(o.dropEverySeconds, `${where}.dropEverySeconds`, 0, 3600, 0),
    bandwidthBytesPerSecond: int(o.bandwidthBytesPerSecond, `${where}.bandwidthBytesPerSecond`, 0, 10_000_000_000, 0),
    refuse: o.refuse === true,
  };
}

const MAX_SECONDS = 6 * 3600;

/** A scenario from its JSON text (a file's, or the built-in one's): every field checked. */
export function parseScenario(text: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`the scenario is not valid JSON: ${(err as Error).message}`);
  }
  const o = object(raw, 'the scenario');
  known(o, ['name', 'description', 'accounts', 'rate', 'sizes', 'readers', 'members', 'settings', 'phases', 'drainSeconds'], 'the scenario');
  const accounts = int(o.accounts, 'accounts', 1, 10_000);
  const sizes = str(o.sizes, 'sizes', '4k');
  try {
    parseSizes(sizes);
  } catch (err) {
    if (err instanceof LoadOptionError) throw new ScenarioError(err.message.replace('--sizes', 'sizes'));
    throw err;
  }
  const group = (v: unknown, where: string) => {
    const g = object(v ?? {}, where);
    known(g, ['accounts', 'everySeconds'], where);
    return { accounts: int(g.accounts, `${where}.accounts`, 0, accounts, Math.min(accounts, 20)), everySeconds: int(g.everySeconds, `${where}.everySeconds`, 1, 3600, 10) };
  };
  const settings = object(o.settings ?? {}, 'settings');
  for (const [k, v] of Object.entries(settings)) {
    if (!(k in SCHEMA)) throw new ScenarioError(`settings: "${k}" is not a configuration key (see hikyaku config reference)`);
    if (k.startsWith('storage.') || k === 'roles' || k.endsWith('.port') || k.endsWith('Port') || k.endsWith('.listen')) throw new ScenarioError(`settings: ${k} is chosen by the rehearsal itself`);
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ScenarioError(`settings: ${k} takes a string, number or boolean`);
    try {
      SCHEMA[k as ConfigKey].parse(String(v));
    } catch (err) {
      throw new ScenarioError(`settings: ${k}: ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(o.phases) || o.phases.length === 0 || o.phases.length > 100) throw new ScenarioError('phases must be a list of 1 to 100 phases');
  let processes = 1;
  const phases = o.phases.map((p: unknown, i: number): Phase => {
    const where = `phases[${i}]`;
    const ph = object(p, where);
    known(ph, ['name', 'seconds', 'inbound', 'storage', 'deliveryProcesses'], where);
    const n = int(ph.deliveryProcesses, `${where}.deliveryProcesses`, 1, 16, processes);
    if (n < processes) throw new ScenarioError(`${where}.deliveryProcesses: processes are only added during a rehearsal (${processes} run already)`);
    processes = n;
    return { name: str(ph.name, `${where}.name`), seconds: int(ph.seconds, `${where}.seconds`, 1, MAX_SECONDS), inbound: num(ph.inbound, `${where}.inbound`, 0, 100, 1), storage: storage(ph.storage, `${where}.storage`), deliveryProcesses: n };
  });
  if (phases.reduce((s, p) => s + p.seconds, 0) > MAX_SECONDS) throw new ScenarioError(`the phases last more than ${MAX_SECONDS / 3600} hours together`);
  return {
    name: str(o.name, 'name'),
    description: str(o.description, 'description', ''),
    accounts,
    rate: num(o.rate, 'rate', 0.1, 10_000),
    sizes,
    readers: group(o.readers, 'readers'),
    members: group(o.members, 'members'),
    settings: settings as Scenario['settings'],
    phases,
    drainSeconds: int(o.drainSeconds, 'drainSeconds', 0, MAX_SECONDS, 300),
  };
}

/** The scenario's settings as the environment of a node (HIKYAKU_*). */
export function settingsEnv(s: Scenario): Record<string, string> {
  return Object.fromEntries(Object.entries(s.settings).map(([k, v]) => [envName(k), String(v)]));
}

/** The proxy's latency `fraction` (0..1) of the way through a phase. */
export function latencyAt(h: StorageHealth, fraction: number): number {
  if (typeof h.latencyMs === 'number') return h.latencyMs;
  const [from, to] = h.latencyMs;
  return Math.round(from + (to - from) * Math.min(1, Math.max(0, fraction)));
}
