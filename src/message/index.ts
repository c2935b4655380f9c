/**
 * message: composing and canonicalizing RFC 5322 messages — line endings, line length,
 * trace headers (Received, Return-Path, Delivered-To). Pure: no sockets, files or logger.
 * RFCs: 5322 §2.1.1 (line length), 5321 §4.4 (trace information), 3848 (protocol types).
 */
export * from './normalize.js';
export * from './trace.js';
