/**
 * delivery: the queue workers. Local delivery into mailboxes with alias, catch-all and
 * forward expansion; adaptive concurrency, circuit breaker and backoff so a slow store
 * is not piled on (DESIGN.md principle 3). Remote relay over SMTP (RFC 5321 §5.1 MX
 * lookup, STARTTLS, one transaction per destination), DKIM signing (RFC 6376), SRS for
 * forwards, DSNs (RFC 3464) for bounces and delays, never one for a bounce. Idempotent:
 * a repeated step after a crash never shows the user a duplicate; a remote server may
 * get a message twice if a crash falls between its 250 and our commit. Automatic replies
 * (RFC 3834) and quota warnings, once per sender/interval; conditional forwarding; the
 * domains' retention rules (RetentionJob).
 */
export * from './bounces.js';
export * from './lease-keeper.js';
export * from './limiter.js';
export * from './relay.js';
export * from './remote.js';
export * from './service.js';
export * from './supervisor.js';
export * from './retention.js';
