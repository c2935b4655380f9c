/**
 * load: the load generator `hikyaku load` runs against an installation (principle 7: the
 * means to rehearse ship with the product). SMTP senders, POP3 readers and member-site logins; bounded in count and
 * time, aimed at this machine unless a target is explicitly allowed.
 */
export * from './options.js';
export * from './stats.js';
export * from './smtp-load.js';
export * from './pop3-load.js';
export * from './portal-load.js';
export * from './read-back.js';
