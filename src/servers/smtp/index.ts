/**
 * servers/smtp: the SMTP listeners. Sessions call services (inbound policy, directory
 * cache, spool) through their interfaces and never a backend.
 * RFCs: 5321 (SMTP), 1870 (SIZE), 6152 (8BITMIME), 6531 (SMTPUTF8), 2920 (PIPELINING),
 * 2034/3463 (enhanced status codes), 3207 (STARTTLS).
 */
export * from './mx-server.js';
export * from './submission-server.js';
