/**
 * imap: the IMAP wire codec — framing commands with their literals, parsing them into
 * arguments, FETCH items and SEARCH criteria, sequence sets, modified UTF-7 mailbox names,
 * and encoding response values. Bytes in, commands and bytes out; no sockets or storage.
 * RFCs: 9051 (IMAP4rev2), 3501 (IMAP4rev1), 7888 (LITERAL+/-), 3516 (BINARY),
 * 4731 (ESEARCH), 7162 (CONDSTORE/QRESYNC).
 */
export * from './reader.js';
export * from './parser.js';
export * from './sequence.js';
export * from './mutf7.js';
export * from './encode.js';
export * from './fetch.js';
export * from './search.js';
