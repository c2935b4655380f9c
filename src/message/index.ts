/**
 * message: composing and canonicalizing RFC 5322 messages — line endings, line length,
 * header sections, trace headers (Received, Return-Path, Delivered-To) and delivery
 * status notifications. Pure: no sockets, files or logger.
 * RFCs: 5322 §2.1.1 (line length), 5321 §4.4 (trace information), 3848 (protocol types),
 * 3464 and 6522 (DSN as multipart/report), 3834 (Auto-Submitted).
 */
export * from './normalize.js';
export * from './trace.js';
export * from './headers.js';
export * from './dsn.js';
export * from './hops.js';
export * from './autoreply.js';
export * from './mime-tree.js';
