/**
 * servers/http: HTTP listeners. Today the node's metrics and health listener; the portal
 * (member site, JSON API, status page) joins it. Uses core and observability interfaces only.
 */
export * from './metrics-server.js';
