import { Resolver } from 'node:dns/promises';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from './config/index.js';
import type { Authenticator } from './auth/index.js';
import type { DirectoryCache } from './directory/index.js';
import { deletedByOperatorDsn } from './delivery/index.js';
import type { MailStore } from './mailstore/index.js';
import type { QueueStats, Spool } from './queue/index.js';
import type { ActivityTotals } from './notices/index.js';
import type { Logger, Metrics } from './observability/index.js';
import { PortalServer } from './servers/index.js';
import { openDirectoryStore, openNoticeStore, openPortalState } from './wiring-stores.js';
import type { Listener } from './wiring.js';
import { sitesDir, zoneSettings } from './wiring-domains.js';
import { SiteFiles, SiteLogins } from './sites/index.js';

// The portal runs on the thread that answers SMTP: a write waits only briefly for another
// process's lock (SQLite blocks the thread meanwhile) and then answers 503.
const PORTAL_BUSY_TIMEOUT_MS = 250;

// Expired sessions are swept this often.
const SWEEP_MS = 10 * 60_000;

/** Where `npm install` put the built UI (vite build → dist/web). */
export const UI_DIR = fileURLToPath(new URL('../web/', import.meta.url));

/** The resolver relay uses (`relay.dnsServers`), with a short deadline: a page waits on it. */
function checkResolver(config: Config): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  if (config['relay.dnsServers']) resolver.setServers(config['relay.dnsServers'].split(','));
  return resolver;
}

/** Starts the portal role: its own connections to directory.db (changes, sessions, audit log). */
export async function startPortal(
  config: Config,
  parts: {
    directory: DirectoryCache;
    authenticator: Authenticator;
    mailStore: MailStore;
    spool: Spool;
    queueStats: () => Promise<QueueStats>;
    metrics: Metrics;
    scrape: () => Promise<{ contentType: string; text: string }>;
    activity: () => Promise<ActivityTotals>;
  },
  log: Logger,
): Promise<{ listener: Listener; close(): Promise<void> }> {
  const store = openDirectoryStore(config, false, PORTAL_BUSY_TIMEOUT_MS);
  const state = openPortalState(config, PORTAL_BUSY_TIMEOUT_MS);
  const notices = openNoticeStore(config, PORTAL_BUSY_TIMEOUT_MS);
  const portal = new PortalServer({
    directory: parts.directory,
    store,
    authenticator: parts.authenticator,
    sessions: state,
    tokens: state,
    totp: state,
    notices,
    backlog: notices,
    audit: state,
    mailStore: parts.mailStore,
    // The status page and its samples read the shared figures: an outage's reloads cost no extra reads of the queue.
    spool: { ping: () => parts.spool.ping(), waitingFor: (rcpts) => parts.spool.waitingFor(rcpts), stats: parts.queueStats },
    queue: {
      spool: parts.spool,
      // host:pid first, as every lease owner: leases of a portal killed mid-delete are handed back at the next start.
      owner: `${hostname()}:${process.pid}:portal`,
      dsnForDeleted: (entry) => deletedByOperatorDsn(parts.spool, parts.directory, config.hostname, entry),
    },
    noticeMail: { spool: parts.spool, directory: parts.directory, hostname: config.hostname, statusUrl: `${config['portal.publicUrl'] || `http://${config.hostname}:${config['portal.port']}`}/status` },
    resolver: checkResolver(config),
    sites: { files: new SiteFiles(sitesDir(config)), logins: new SiteLogins(sitesDir(config)), quotaBytes: config['web.siteQuotaBytes'], sftpPort: config['web.sftpPort'] },
    log,
    metrics: parts.metrics,
    scrapeMetrics: parts.scrape,
    activity: parts.activity,
    options: {
      idleMinutes: config['portal.sessionIdleMinutes'],
      maxHours: config['portal.sessionMaxHours'],
      minPasswordLength: config['auth.minPasswordLength'],
      mailHost: config.hostname,
      zone: zoneSettings(config),
      clients: { mailHost: config['dns.mailHost'] || config.hostname, ports: { imaps: config['imap.tlsPort'], pop3s: config['pop3.tlsPort'], submissions: config['submission.tlsPort'] } },
      autoReplyIntervalDays: config['delivery.autoReplyIntervalDays'],
      storeTimeoutMs: config['portal.storeTimeoutMs'],
      secureCookies: config['portal.secureCookies'],
      trustProxy: config['portal.trustProxy'].split(',').map((s) => s.trim()).filter(Boolean),
      uiDir: UI_DIR,
      metricsFrom: config['portal.metricsFrom'].split(',').map((s) => s.trim()).filter(Boolean),
      status: {
        sampleSeconds: config['status.sampleSeconds'],
        delayedSeconds: config['status.delayedSeconds'],
        disruptedSeconds: config['status.disruptedSeconds'],
        slowStoreMs: config['status.slowStoreMs'],
        readerErrorPercent: config['status.readerErrorPercent'],
        deliveryFailurePercent: config['status.deliveryFailurePercent'],
        autoIncidents: config['status.autoIncidents'],
        incidentAfterSeconds: config['status.incidentAfterSeconds'],
        incidentMail: config['status.incidentMail'],
      },
    },
  });
  const address = await portal.listen(config['listen.host'], config['portal.port']);
  const sweep = setInterval(() => {
    state.sweep().catch((err: unknown) => log.warn({ err }, 'could not sweep expired portal sessions'));
  }, SWEEP_MS);
  sweep.unref();
  return {
    listener: { role: 'portal', url: `http://${address.address}:${address.port}`, port: address.port, note: 'member site and JSON API (/api/v1)' },
    async close() {
      clearInterval(sweep);
      await portal.close();
      await store.close();
      await state.close();
      await notices.close();
    },
  };
}
