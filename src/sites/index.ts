/**
 * sites: the hosted websites' files as uploads change them (the member site's API, ZIP
 * archives, SFTP): paths kept inside each site, a quota per site, changes that appear at
 * once and whole, and each site's upload login. The web role serves what is here.
 */
export * from './site-path.js';
export * from './site-files.js';
export * from './site-archive.js';
export * from './site-logins.js';
