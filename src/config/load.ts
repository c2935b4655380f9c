import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCHEMA, type Config, type ConfigKey } from './schema.js';

export const CONFIG_FILE = 'hikyaku.json';

/** A configuration value that cannot be used; the message names the key and what is wrong. */
export class ConfigError extends Error {}

/** `smtp.maxMessageBytes` → `HIKYAKU_SMTP_MAX_MESSAGE_BYTES` */
export function envName(key: string): string {
  return 'HIKYAKU_' + key.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export interface LoadOptions {
  /** --data-dir; else HIKYAKU_DATA_DIR; else ./data */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Values given on the command line (strings, as typed), highest precedence. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

/** Defaults < hikyaku.json in the data dir < HIKYAKU_* environment < command line. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? env.HIKYAKU_DATA_DIR ?? 'data');
  const file = readConfigFile(join(dataDir, CONFIG_FILE));
  const out: Record<string, unknown> = { dataDir };
  for (const k of Object.keys(SCHEMA) as ConfigKey[]) {
    const spec = SCHEMA[k];
    const sources: [string, unknown][] = [];
    if (file.has(k)) sources.push([`${CONFIG_FILE}`, file.get(k)]);
    if (env[envName(k)] !== undefined) sources.push([envName(k), env[envName(k)]]);
    if (options.overrides?.[k] !== undefined) sources.push(['the command line', options.overrides[k]]);
    const last = sources.at(-1);
    if (!last) {
      out[k] = spec.default();
      continue;
    }
    try {
      out[k] = spec.parse(last[1]);
    } catch (err) {
      throw new ConfigError(`configuration key ${k} (from ${last[0]}) ${(err as Error).message}`);
    }
  }
  checkTogether(out as Config);
  return out as Config;
}

/**
 * Rules between keys. A queue lease shorter than the longest single step of a delivery
 * (a store call, one remote reply) would let a second worker take an entry that is still
 * being delivered; leases are renewed while work runs, but one step can block renewal.
 * Bodies outside the database are a PostgreSQL mailbox store's option.
 */
function checkTogether(config: Config): void {
  const steps = ['delivery.storeTimeoutMs', 'relay.connectTimeoutMs', 'relay.replyTimeoutMs'] as const;
  for (const step of steps) {
    if (config['delivery.leaseMs'] <= config[step]) {
      throw new ConfigError(`configuration key delivery.leaseMs (${config['delivery.leaseMs']}) must be longer than ${step} (${config[step]}): a lease must outlast the longest delivery step`);
    }
  }
  if (config['storage.bodies'] !== 'database' && config['storage.mailstore'] === 'sqlite') {
    throw new ConfigError(`configuration key storage.bodies (${config['storage.bodies']}) is for a PostgreSQL mailbox store; the embedded one (storage.mailstore = sqlite) keeps its bodies under DATA_DIR/mail`);
  }
}

/** Reads the nested JSON file into dotted keys; a missing file is an empty configuration. */
function readConfigFile(path: string): Map<string, unknown> {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(textContent);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const flat = new Map<string, unknown>();
  const walk = (value: unknown, prefix: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(prefix in SCHEMA)) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix ? `${prefix}.${k}` : k);
      return;
    }
    if (!(prefix in SCHEMA)) {
      throw new ConfigError(`${path}: unknown configuration key "${prefix}" (known keys: ${Object.keys(SCHEMA).join(', ')})`);
    }
    flat.set(prefix, value);
  };
  walk(parsed, '');
  return flat;
}
