import { CliError } from './output.js';

export const FAULT_PROXY_USAGE = `  fault-proxy --to HOST:PORT [--listen 127.0.0.1:PORT] [--control 127.0.0.1:PORT]
                                a TCP proxy that makes what it fronts (PostgreSQL) sick on
                                demand: curl -X PATCH --data '{"latencyMs":20}' CONTROL/ ;
                                settings latencyMs, bandwidthBytesPerSecond, refuse,
                                dropEverySeconds; POST CONTROL/drop drops every connection`;

/** HOST:PORT (or [v6]:PORT) as the fault proxy's options take it; a CLI error naming the option otherwise. */
export function hostPort(option: string, value: string | undefined, fallback?: string): { host: string; port: number } {
  const v = value ?? fallback;
  const m = v === undefined ? null : /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new CliError(`${option} takes HOST:PORT, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`, 2);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
