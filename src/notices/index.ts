/**
 * notices: what the provider tells its customers about the service — maintenance and
 * incident notices (DESIGN.md principle 5: the backlog is visible, in words customers
 * understand). Stored beside the directory, shown by the portal's status page and member
 * site. No I/O here: the store interface and its rules.
 */
export * from './types.js';
export * from './incident-watch.js';
export * from './notice-mail.js';
