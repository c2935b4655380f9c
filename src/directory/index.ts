/**
 * directory: domains, accounts, aliases (with catch-all), forwards, credentials and
 * DKIM keys (RFC 6376, RFC 8463).
 * The store interface is implemented by each backend; the cache answers recipient
 * checks and expansion from memory, so accepting mail never waits on storage.
 * Invariants: addresses are normalized keys; an address is an account or an alias.
 */
export * from './types.js';
export * from './expand.js';
export * from './cache.js';
export * from './password.js';
export * from './dkim.js';
export * from './audit.js';
export * from './policy.js';
export * from './dns-check.js';
