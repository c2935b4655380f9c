/** Where a password may be sent without TLS: never, only from loopback addresses (dev), or always. */
export type PlaintextLogin = 'never' | 'loopback' | 'always';

/** True if a password login is allowed on this connection. */
export function plaintextLoginAllowed(mode: PlaintextLogin, secure: boolean, remoteIp: string): boolean {
  if (secure || mode === 'always') return true;
  return mode === 'loopback' && (remoteIp.startsWith('127.') || remoteIp === '::1' || remoteIp.startsWith('::ffff:127.'));
}
