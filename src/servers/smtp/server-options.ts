import type { SMTPServerOptions } from 'smtp-server';
import type { TlsMaterial } from '../tls.js';

/** The smtp-server settings every Hikyaku SMTP listener shares. */
export function baseServerOptions(
  o: { readonly hostname: string; readonly maxMessageBytes: number; readonly maxClients: number; readonly idleTimeoutSeconds: number },
  tls: TlsMaterial,
): SMTPServerOptions {
  return {
    name: o.hostname,
    key: tls.key,
    cert: tls.cert,
    size: o.maxMessageBytes,
    hideENHANCEDSTATUSCODES: false,
    // DSN (RFC 3461) parameters are not offered yet; bounces are sent without them.
    hideDSN: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    maxClients: o.maxClients,
    socketTimeout: o.idleTimeoutSeconds * 1000,
    // RFC 5321 §4.5.3.1.4: command lines are at most 512 octets; extensions may add
    // parameters, so allow some room and answer 500 beyond it.
    maxCommandLength: 2048,
    logger: false,
    // On shutdown, sessions still open after this are closed.
    closeTimeout: 5000,
  };
}
