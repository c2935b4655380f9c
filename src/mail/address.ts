import { domainToASCII } from 'node:url';

/** A mailbox address split into its parts, as Hikyaku compares them. */
export interface Address {
  /** Local part as given (case kept for display). */
  readonly local: string;
  /** Domain in lower case, IDNs in their A-label (punycode) form. */
  readonly domain: string;
}

// RFC 5321 §4.5.3.1.1 / §4.5.3.1.2: local part at most 64 octets, domain at most 255.
const MAX_LOCAL_OCTETS = 64;
const MAX_DOMAIN_OCTETS = 255;
// RFC 5322 §3.2.3 atext, widened by RFC 6531 §3.3 to any non-ASCII UTF-8.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+)*$/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export class AddressError extends Error {}

/** Parses `local@domain` (no angle brackets, no display name). Throws AddressError with a sentence. */
export function parseAddress(input: string): Address {
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) {
    throw new AddressError(`"${input}" is not an e-mail address (expected local-part@domain)`);
  }
  const local = text.slice(0, at);
  const domain = parseDomain(text.slice(at + 1));
  if (Buffer.byteLength(local) > MAX_LOCAL_OCTETS) {
    throw new AddressError(`the local part of "${input}" is longer than ${MAX_LOCAL_OCTETS} octets`);
  }
  if (!DOT_ATOM.test(local) && !/^"([^"\\\r\n]|\\[ -~])*"$/.test(local)) {
    throw new AddressError(`"${local}" is not a valid local part`);
  }
  return { local, domain };
}

/** Normalizes a domain name: lower case, A-labels; throws AddressError when it is not a host name. */
export function parseDomain(input: string): string {
  const ascii = domainToASCII(input.trim().replace(/\.$/, '').toLowerCase());
  if (!ascii || ascii.length > MAX_DOMAIN_OCTETS) {
    throw new AddressError(`"${input}" is not a valid domain name`);
  }
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new AddressError(`"${input}" is not a valid domain name (expected something like example.com)`);
  }
  return ascii;
}

/**
 * The key under which an address is stored and looked up: local part in lower case.
 * Lenient: RFC 5321 §2.4 lets local parts be case-sensitive, but every hosted
 * mail service treats them as case-insensitive, and users expect it.
 */
export function addressKey(a: Address): string {
  return `${a.local.toLowerCase()}@${a.domain}`;
}

/** Parses and returns the lookup key in one step. */
export function normalizeAddress(input: string): string {
  return addressKey(parseAddress(input));
}

export function domainOf(key: string): string {
  return key.slice(key.lastIndexOf('@') + 1);
}

/**
 * The account key a login name stands for. Lenient: customers moving from Japanese hosted
 * mail services type `user%example.co.jp`, because their old servers took `%` for `@` in
 * user names (as Sendmail's and Courier's did); without an `@`, the last `%` is one.
 */
export function loginKey(input: string): string {
  const text = input.trim();
  const percent = text.lastIndexOf('%');
  return normalizeAddress(!text.includes('@') && percent > 0 ? `${text.slice(0, percent)}@${text.slice(percent + 1)}` : text);
}
