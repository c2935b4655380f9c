import { createHmac } from 'node:crypto';

/**
 * Sender Rewriting Scheme (SRS0, as libsrs2 and postsrsd write it). A forward to another
 * domain carries `SRS0=hash=tt=origdomain=origlocal@ourdomain` as its reverse-path, so
 * the destination's SPF check sees our domain; a bounce to that address is routed back
 * to the original sender. The hash (HMAC under a secret of ours) stops anyone from using
 * us as an open relay through made-up SRS addresses; `tt` limits its lifetime.
 * Everything is compared in lower case, since addresses are looked up in lower case.
 */

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const DAY_MS = 86_400_000;
// libsrs2's default: an SRS address is honoured for 21 days.
const MAX_AGE_DAYS = 21;
const HASH_LENGTH = 6;

function timestamp(now: number): string {
  const days = Math.floor(now / DAY_MS) % 1024;
  return BASE32[days >> 5]! + BASE32[days & 31]!;
}

function ageDays(tt: string, now: number): number {
  const value = BASE32.indexOf(tt[0]!) * 32 + BASE32.indexOf(tt[1]!);
  return (Math.floor(now / DAY_MS) - value + 1024) % 1024;
}

function hash(secret: string, tt: string, domain: string, local: string): string {
  const mac = createHmac('sha256', secret).update(`${tt}=${domain}=${local}`.toLowerCase()).digest();
  let out = '';
  for (let i = 0; i < HASH_LENGTH; i++) out += BASE32[mac[i]! & 31];
  return out;
}

/** The SRS0 address for `sender` (local@domain) forwarded through `forwarderDomain`. */
export function srsEncode(sender: string, forwarderDomain: string, secret: string, now = Date.now()): string {
  const at = sender.lastIndexOf('@');
  const local = sender.slice(0, at);
  const domain = sender.slice(at + 1).toLowerCase();
  const tt = timestamp(now);
  return `SRS0=${hash(secret, tt, domain, local)}=${tt}=${domain}=${local}@${forwarderDomain}`;
}

/** True if the address looks like an SRS0 address (it may still be forged or expired). */
export function isSrsAddress(address: string): boolean {
  return /^srs0=/i.test(address);
}

/**
 * The original sender of an SRS0 address, or an error sentence when the address is not
 * one of ours: bad syntax, wrong hash, or older than 21 days.
 */
export function srsDecode(address: string, secret: string, now = Date.now()): { sender: string } | { error: string } {
  const at = address.lastIndexOf('@');
  const m = /^srs0=([^=]+)=([^=]{2})=([^=]+)=(.+)$/i.exec(address.slice(0, at));
  if (at < 0 || !m) return { error: 'not an SRS address' };
  const [, givenHash, tt, domain, local] = m as unknown as [string, string, string, string, string];
  if (![...tt.toLowerCase()].every((c) => BASE32.includes(c))) return { error: 'bad SRS timestamp' };
  if (hash(secret, tt.toLowerCase(), domain, local) !== givenHash.toLowerCase()) return { error: 'SRS hash does not match' };
  if (ageDays(tt.toLowerCase(), now) > MAX_AGE_DAYS) return { error: 'SRS address has expired' };
  return { sender: `${local}@${domain.toLowerCase()}` };
}
