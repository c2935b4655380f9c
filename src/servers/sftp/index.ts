/**
 * servers/sftp: the web role's SFTP listener, where tenants upload their websites; each
 * domain's login sees its site's folder only.
 */
export * from './sftp-server.js';
