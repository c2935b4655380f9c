/**
 * inbound: accept or refuse — recipient checks for the MX (hosted only, never an open
 * relay; our SRS addresses), and for authenticated submission the sender check, the
 * recipient rules and hourly sending limits. Reads only the directory cache, never a store.
 */
export * from './recipient-policy.js';
export * from './send-limits.js';
