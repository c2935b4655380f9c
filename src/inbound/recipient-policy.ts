import { HikyakuError, addressKey, domainOf, isSrsAddress, normalizeAddress, parseAddress, parseDomain, srsDecode, AddressError, type Address } from '../mail/index.js';
import type { RecipientDirectory } from '../directory/index.js';

function parsed(rawAddress: string): Address {
  try {
    return parseAddress(rawAddress);
  } catch (err) {
    if (err instanceof AddressError) throw new HikyakuError('ERR_BAD_ADDRESS', err.message);
    throw err;
  }
}

function requireLoaded(directory: RecipientDirectory): void {
  if (!directory.loaded) throw new HikyakuError('ERR_DIRECTORY_UNAVAILABLE');
}

function checkCount(alreadyAccepted: number, maxRecipients: number): void {
  // RFC 5321 §4.5.3.1.10: too many recipients is a temporary 452, the client sends the rest later.
  if (alreadyAccepted >= maxRecipients) throw new HikyakuError('ERR_TOO_MANY_RCPTS', `at most ${maxRecipients} per message`);
}

/**
 * Decides at RCPT time whether the MX accepts a recipient. The MX port trusts no
 * client address (loopback included): it accepts mail only for hosted recipients, and
 * for our own SRS addresses (bounces of forwarded mail) when their hash verifies.
 * Returns the normalized address, or throws a HikyakuError with the reply to give.
 */
export function checkMxRecipient(directory: RecipientDirectory, rawAddress: string, alreadyAccepted: number, maxRecipients: number, srsSecret: string): string {
  requireLoaded(directory);
  // RFC 5321 §4.5.1: the bare postmaster, without a domain, MUST be accepted.
  if (/^postmaster$/i.test(rawAddress)) {
    checkCount(alreadyAccepted, maxRecipients);
    const postmaster = directory.postmaster();
    if (!postmaster) throw new HikyakuError('ERR_RCPT_UNKNOWN', '<postmaster>: no domain is hosted here yet');
    return postmaster;
  }
  if (isSrsAddress(rawAddress)) return checkSrsRecipient(directory, rawAddress, alreadyAccepted, maxRecipients, srsSecret);
  const address = addressKey(parsed(rawAddress));
  checkCount(alreadyAccepted, maxRecipients);
  if (!directory.isHostedDomain(domainOf(address))) throw new HikyakuError('ERR_RELAY_DENIED', `<${rawAddress}>`);
  if (!directory.isKnownRecipient(address)) throw new HikyakuError('ERR_RCPT_UNKNOWN', `<${rawAddress}>`);
  return address;
}

/** Lenient: an SRS local part may exceed RFC 5321's 64 octets, as SRS addresses often do. */
function checkSrsRecipient(directory: RecipientDirectory, rawAddress: string, alreadyAccepted: number, maxRecipients: number, srsSecret: string): string {
  const at = rawAddress.lastIndexOf('@');
  let domain: string;
  try {
    domain = parseDomain(rawAddress.slice(at + 1));
  } catch (err) {
    if (err instanceof AddressError) throw new HikyakuError('ERR_BAD_ADDRESS', err.message);
    throw err;
  }
  checkCount(alreadyAccepted, maxRecipients);
  if (!directory.isHostedDomain(domain)) throw new HikyakuError('ERR_RELAY_DENIED', `<${rawAddress}>`);
  const address = `${rawAddress.slice(0, at).toLowerCase()}@${domain}`;
  if ('error' in srsDecode(address, srsSecret)) throw new HikyakuError('ERR_RCPT_UNKNOWN', `<${rawAddress}>`);
  return address;
}

/**
 * A recipient of authenticated submission: hosted addresses must exist (550 5.1.1 now,
 * rather than a bounce later); any other address is relayed. Returns the address as the
 * queue keeps it — normalized when hosted, its local part's case kept when remote.
 */
export function checkSubmissionRecipient(directory: RecipientDirectory, rawAddress: string, alreadyAccepted: number, maxRecipients: number): { address: string; remote: boolean } {
  requireLoaded(directory);
  const a = parsed(rawAddress);
  checkCount(alreadyAccepted, maxRecipients);
  if (!directory.isHostedDomain(a.domain)) return { address: `${a.local}@${a.domain}`, remote: true };
  const address = addressKey(a);
  if (!directory.isKnownRecipient(address)) throw new HikyakuError('ERR_RCPT_UNKNOWN', `<${rawAddress}>`);
  return { address, remote: false };
}

/**
 * Submission's sender check (RFC 6409 §6.1 lets the MSA enforce it): `account` may use
 * `rawAddress` as envelope sender or From: only if it is its own address or an alias
 * delivering to it. The null sender is refused: users do not send bounces.
 */
export function checkSender(directory: RecipientDirectory, account: string, rawAddress: string): void {
  if (rawAddress === '') throw new HikyakuError('ERR_SENDER_NOT_OWNED', 'the null sender <> is for bounces only');
  let key: string;
  try {
    key = normalizeAddress(rawAddress);
  } catch {
    throw new HikyakuError('ERR_SENDER_NOT_OWNED', `<${rawAddress}> is not an address`);
  }
  if (!directory.maySendAs(account, key)) throw new HikyakuError('ERR_SENDER_NOT_OWNED', `<${rawAddress}>`);
}
