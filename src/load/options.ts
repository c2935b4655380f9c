/**
 * What `hikyaku load` is told, checked: sizes and recipients as an operator writes them
 * (`4k:80,64k:15,1m:5`, `user{1..100}@example.test`), bounds on count, time, rate and
 * concurrency, and targets on this machine only unless explicitly allowed.
 */
import { isIP } from 'node:net';

export class LoadOptionError extends Error {}

export interface SizeShare {
  readonly bytes: number;
  readonly weight: number;
}

const MAX_SIZE = 50 * 1024 * 1024;
const MAX_RECIPIENTS = 100_000;

/** `4k`, `64k:15,1m:5`: sizes (bytes, k, m) with relative weights (default 1). */
export function parseSizes(text: string): SizeShare[] {
  const out = text.split(',').map((part) => {
    const m = /^(\d{1,9})([km]?)(?::(\d{1,6}))?$/i.exec(part.trim());
    if (!m) throw new LoadOptionError(`--sizes takes sizes such as 4k:80,64k:15,1m:5, got ${JSON.stringify(part)}`);
    const bytes = Number(m[1]) * ({ '': 1, k: 1024, m: 1024 * 1024 } as Record<string, number>)[m[2]!.toLowerCase()]!;
    const weight = m[3] === undefined ? 1 : Number(m[3]);
    if (bytes < 64 || bytes > MAX_SIZE) throw new LoadOptionError(`--sizes: each size must be from 64 bytes to 50m, got ${part.trim()}`);
    if (weight === 0) throw new LoadOptionError(`--sizes: a weight must be at least 1, got ${part.trim()}`);
    return { bytes, weight };
  });
  return out;
}

/** `user{1..100}@example.test,boss@example.test`: every address, ranges expanded (`option` names the option in errors). */
export function parseRecipients(text: string, option = '--rcpt'): string[] {
  const out: string[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^{}]*)\{(\d{1,6})\.\.(\d{1,6})\}([^{}]*)$/.exec(part);
    const [from, to] = m ? [Number(m[2]), Number(m[3])] : [0, 0];
    if (m && (to < from || to - from >= MAX_RECIPIENTS)) throw new LoadOptionError(`${option}: a range must go up and hold at most ${MAX_RECIPIENTS} addresses, got ${part}`);
    const names = m ? Array.from({ length: to - from + 1 }, (_, i) => `${m[1]}${from + i}${m[4]}`) : [part];
    for (const a of names) {
      if (!/^[^\s<>@]+@[A-Za-z0-9.-]+$/.test(a)) throw new LoadOptionError(`${option}: not an address: ${JSON.stringify(a)}`);
      out.push(a);
      if (out.length > MAX_RECIPIENTS) throw new LoadOptionError(`${option}: at most ${MAX_RECIPIENTS} addresses`);
    }
  }
  if (out.length === 0) throw new LoadOptionError(`${option}: name at least one address, such as user{1..100}@example.test`);
  return out;
}

/** A whole number in [min, max] from an option, or `fallback` when absent. */
export function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,12}$/.test(value) || Number(value) < min || Number(value) > max) throw new LoadOptionError(`--${name} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Load goes to this machine (127.0.0.0/8, ::1, localhost) or to a host named in --allow-target. */
export function checkTarget(host: string, allowed: readonly string[]): void {
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback && !allowed.includes(host)) {
    throw new LoadOptionError(`${host} is not on this machine: load goes to 127.0.0.0/8 or ::1 unless the target is named with --allow-target ${host}`);
  }
}
