import type { ClientSettings } from '../../autoconfig/index.js';
// Route schemas carry OpenAPI's summary and tags (@fastify/swagger's additions to FastifySchema).
import type {} from '@fastify/swagger';
import type { ApiTokenStore, Authenticator, SessionStore, TotpStore } from '../../auth/index.js';
import type { AuditLog, DirectoryStore, LoginDirectory, TxtMxResolver } from '../../directory/index.js';
import type { MailStore } from '../../mailstore/index.js';
import type { ActivityTotals, BacklogHistory, NoticeMailer, NoticeStore } from '../../notices/index.js';
import type { QueueOperator, Spool } from '../../queue/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { ZoneSettings } from '../../zones/index.js';
import type { SiteFiles, SiteLogins } from '../../sites/index.js';

export interface PortalOptions {
  /** A session unused this long ends (idle timeout). */
  readonly idleMinutes: number;
  /** A session ends this long after login, used or not. */
  readonly maxHours: number;
  readonly minPasswordLength: number;
  /** The host name MX and SPF records point at (config `hostname`). */
  readonly mailHost: string;
  /** What every hosted zone publishes (tenants' own records are checked against it). */
  readonly zone: ZoneSettings;
  /** Where mail clients connect, for the Apple configuration profile. */
  readonly clients: ClientSettings;
  /** How often an automatic reply may answer one sender (shown to the user). */
  readonly autoReplyIntervalDays: number;
  /** Deadline for a mailbox store call (usage figures, emptying a mailbox). */
  readonly storeTimeoutMs: number;
  /** Secure cookie flag: always; or auto (left off only for plain HTTP from a loopback client, for dev). */
  readonly secureCookies: 'always' | 'auto';
  /** Reverse proxies whose X-Forwarded-* headers are believed (fastify trustProxy); empty: none. */
  readonly trustProxy: readonly string[];
  /** The status page's signals and thresholds, and the automatic incidents. */
  readonly status: {
    readonly sampleSeconds: number;
    readonly delayedSeconds: number;
    readonly disruptedSeconds: number;
    readonly slowStoreMs: number;
    readonly readerErrorPercent: number;
    readonly deliveryFailurePercent: number;
    readonly autoIncidents: 'off' | 'draft' | 'publish';
    readonly incidentAfterSeconds: number;
    /** Mail automatic incidents, when published, to the affected administrators. */
    readonly incidentMail: boolean;
  };
  /** Networks (CIDR) that may read GET /metrics on the portal; empty: nobody. */
  readonly metricsFrom: readonly string[];
  /** The built web UI (index.html and assets); absent: the API only. */
  readonly uiDir: string | undefined;
}

/** What the portal's routes use: core interfaces only (principle: servers never see a backend). */
export interface PortalDeps {
  /** The in-memory directory: logins, sessions' accounts, scopes; never waits on storage. */
  readonly directory: LoginDirectory & { refresh(): Promise<void> };
  /** Where changes are written (and lists read fresh). */
  readonly store: DirectoryStore;
  readonly authenticator: Authenticator;
  readonly sessions: SessionStore;
  readonly tokens: ApiTokenStore;
  readonly totp: TotpStore;
  readonly notices: NoticeStore;
  readonly backlog: BacklogHistory;
  readonly audit: AuditLog;
  readonly mailStore: MailStore;
  /** For the status page (does the spool answer, how old is the oldest waiting mail) and "your mail is delayed". */
  readonly spool: Pick<Spool, 'ping' | 'stats' | 'waitingFor'>;
  /** Where notices are mailed to customers' administrators from (the spool). */
  readonly noticeMail: NoticeMailer;
  /** The operators' queue view: the whole spool, and the DSN for mail they delete. */
  readonly queue: QueueOperator;
  /** For the live check of published DNS records (the resolver relay uses). */
  readonly resolver: TxtMxResolver;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** This process's delivery and reader totals, delivery threads merged (rates for the status page). */
  readonly activity: () => Promise<ActivityTotals>;
  /** The process's Prometheus text, delivery threads merged (GET /metrics). */
  readonly scrapeMetrics: () => Promise<{ contentType: string; text: string }>;
  /** The hosted websites: their files (shared with the web role), upload logins, the quota per site and where SFTP listens. */
  readonly sites: { readonly files: SiteFiles; readonly logins: SiteLogins; readonly quotaBytes: number; readonly sftpPort: number };
  readonly options: PortalOptions;
}
