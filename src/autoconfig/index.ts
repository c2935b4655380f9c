/**
 * autoconfig: what mail clients are told so that a new account works with nothing typed
 * but the address and password: Thunderbird's autoconfig file (config-v1.1.xml) and
 * Outlook's Autodiscover answer. Pure: settings in, XML out.
 */
export * from './client-config.js';
