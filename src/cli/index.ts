/**
 * cli: the `hikyaku` command — start the service, manage the directory. Commands get
 * their stores from the wiring (main.ts) and print sentences, tables or JSON; a failure
 * is a message on stderr and a non-zero exit code, never a stack trace.
 */
export * from './output.js';
export * from './directory-commands.js';
export * from './queue-commands.js';
export * from './queue-manage.js';
export * from './tenant-commands.js';
export * from './fault-proxy-command.js';
export * from './progress.js';
export * from './load-command.js';
export * from './rehearse-command.js';
