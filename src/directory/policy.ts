import { BlockList, isIP } from 'node:net';
import type { AccessPolicy } from './types.js';

/** A network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`, or one address); throws a sentence. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const parts = text.trim().split('/');
  const [address = '', bits] = parts;
  const v = parts.length <= 2 ? isIP(address) : 0;
  if (v === 0) throw new Error(`"${text}" is not an IP address or network (like 192.0.2.0/24)`);
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`"${text}": the prefix length must be 0 to ${max}`);
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** True when `ip` may log in under the policy's allow-list (an empty list allows every address). */
export function allowedFrom(policy: AccessPolicy, ip: string): boolean {
  if (policy.allowFrom.length === 0) return true;
  const list = new BlockList();
  for (const net of policy.allowFrom) {
    const { address, prefix, family } = parseCidr(net);
    list.addSubnet(address, prefix, family);
  }
  // An IPv4 client seen on an IPv6 socket (::ffff:192.0.2.1) is the IPv4 address.
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
  return isIP(plain) !== 0 && list.check(plain, family);
}
