/**
 * servers/dns: the dns role's listeners (UDP and TCP on one port, RFC 1035 and 7766),
 * answering from the zones module only; dns-packet reads and writes the wire format.
 */
export * from './dns-server.js';
export * from './rate-limit.js';
export * from './tsig.js';
