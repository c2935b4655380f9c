/**
 * inbound: accept or refuse — recipient checks for the MX (hosted only, never an open
 * relay). Reads only the directory cache, never a store. Later: relay rules for
 * authenticated submission, rate limits.
 */
export * from './recipient-policy.js';
