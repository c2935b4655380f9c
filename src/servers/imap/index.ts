/**
 * servers/imap: the IMAP listeners and sessions (RFC 9051 IMAP4rev2, serving IMAP4rev1
 * clients too; STARTTLS; LITERAL+, IDLE, UIDPLUS, MOVE, CONDSTORE/QRESYNC, SPECIAL-USE,
 * LIST-EXTENDED/LIST-STATUS, ESEARCH, BINARY, QUOTA, UTF8=ACCEPT). Sessions use the auth
 * service and the MailStore's folder calls only: logging in needs the directory alone, and
 * every store call has a deadline, past which the client gets NO [UNAVAILABLE].
 */
export * from './imap-server.js';
export type { ImapOptions } from './context.js';
