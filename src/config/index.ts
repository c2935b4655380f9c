/**
 * config: the one configuration schema — keys, defaults, validation, sources.
 * Configuration is read once at start and passed down; nothing reads it globally.
 * Invariant: a bad value stops start-up with a sentence naming the key.
 */
export * from './schema.js';
export * from './load.js';
export * from './reference.js';
