/**
 * sasl: SASL mechanism codecs (RFC 4422). Only PLAIN (RFC 4616) so far. Pure.
 */
export * from './plain.js';
