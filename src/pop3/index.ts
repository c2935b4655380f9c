/**
 * pop3: the POP3 wire codec — command parsing and the multi-line response encoding
 * (CRLF, dot-stuffing, TOP). Bytes in, commands and bytes out; no sockets or storage.
 * RFCs: 1939 (POP3), 2449 (CAPA, response codes), 3206 (SYS and AUTH codes), 2595 (STLS).
 */
export * from './command.js';
export * from './stuffing.js';
