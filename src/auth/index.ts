/**
 * auth: logging in — password checks against the cached directory (argon2id), failed-login
 * limits per client address and per account, a delay on every failure. Protocol servers
 * call it; it never touches the mailbox store.
 */
export * from './login-guard.js';
export * from './window-counts.js';
export * from './memory-counters.js';
export * from './authenticator.js';
export * from './sessions.js';
export * from './totp.js';
export * from './login-recorder.js';
