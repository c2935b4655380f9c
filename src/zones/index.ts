/**
 * zones: the DNS zones of the hosted domains, built from the directory (what the dns role
 * answers), and how a query is answered from them: authoritative data, NODATA and NXDOMAIN
 * with the SOA, REFUSED outside our zones, a minimal answer to ANY (RFC 8482).
 * Tenants' own records are checked here before they are stored.
 * RFCs: 1034/1035 (DNS), 2308 (negative caching), 6186 and 8314 (SRV for mail clients),
 * 8461 (MTA-STS), 8460 (TLS-RPT), 8659 (CAA).
 */
export * from './zone.js';
export * from './answer.js';
export * from './directory-zones.js';
export * from './custom-records.js';
export * from './zone-file.js';
