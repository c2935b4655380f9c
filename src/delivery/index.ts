/**
 * delivery: the queue workers. Local delivery into mailboxes with alias, catch-all and
 * forward expansion; adaptive concurrency, circuit breaker and backoff so a slow store
 * is not piled on (DESIGN.md principle 3). Idempotent: a repeated step after a crash
 * never shows the user a duplicate. Not yet: remote relay, auto-reply, DSNs.
 */
export * from './limiter.js';
export * from './service.js';
