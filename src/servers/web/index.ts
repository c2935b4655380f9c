/**
 * servers/web: the web role's HTTP and HTTPS listeners. Each hosted domain's static website
 * (by Host), client autoconfiguration (Thunderbird autoconfig, Outlook Autodiscover), the
 * MTA-STS policy at mta-sts.<domain>; a certificate per domain by SNI (the operator's files,
 * ACME, or self-signed).
 */
export * from './web-server.js';
export * from './web-handler.js';
export * from './static-site.js';
export * from './certificates.js';
export * from './acme.js';
