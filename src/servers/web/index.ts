/**
 * servers/web: the web role's HTTP listener. So far it serves client autoconfiguration
 * (Thunderbird autoconfig, Outlook Autodiscover) for the hosted domains, from the
 * autoconfig module and the directory; website hosting is still to come.
 */
export * from './web-server.js';
export * from './static-site.js';
