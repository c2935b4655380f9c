/**
 * servers/portal: the member site. A JSON API under /api/v1 for tenant administrators,
 * users and the provider's operators (sessions in the directory store, CSRF tokens,
 * problem+json errors, an OpenAPI document from the route schemas), and the React UI
 * built from web/ that uses only that API. Login and every directory page work while the
 * mailbox store is down; mailbox figures then read "temporarily unavailable" within the
 * store deadline (DESIGN.md principles 4 and 6).
 */
export * from './portal-server.js';
export type { PortalDeps, PortalOptions } from './deps.js';
