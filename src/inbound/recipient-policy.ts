import { HikyakuError, domainOf, normalizeAddress, AddressError } from '../mail/index.js';
import type { RecipientDirectory } from '../directory/index.js';

/**
 * Decides at RCPT time whether the MX accepts a recipient. The MX port trusts no
 * client address (loopback included): it accepts mail only for hosted recipients.
 * Returns the normalized address, or throws a HikyakuError with the reply to give.
 */
export function checkMxRecipient(directory: RecipientDirectory, rawAddress: string, alreadyAccepted: number, maxRecipients: number): string {
  let address: string;
  try {
    address = normalizeAddress(rawAddress);
  } catch (err) {
    if (err instanceof AddressError) throw new HikyakuError('ERR_BAD_ADDRESS', err.message);
    throw err;
  }
  // RFC 5321 §4.5.3.1.10: too many recipients is a temporary 452, the client sends the rest later.
  if (alreadyAccepted >= maxRecipients) throw new HikyakuError('ERR_TOO_MANY_RCPTS', `at most ${maxRecipients} per message`);
  if (!directory.isHostedDomain(domainOf(address))) throw new HikyakuError('ERR_RELAY_DENIED', `<${rawAddress}>`);
  if (!directory.isKnownRecipient(address)) throw new HikyakuError('ERR_RCPT_UNKNOWN', `<${rawAddress}>`);
  return address;
}
