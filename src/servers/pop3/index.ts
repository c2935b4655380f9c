/**
 * servers/pop3: the POP3 listeners and sessions (RFC 1939, 2449, 2595, 3206, 5034).
 * Sessions use the auth service and the MailStore interface only; every store call has a
 * deadline, past which the client gets -ERR [SYS/TEMP] instead of a hang.
 */
export * from './pop3-server.js';
