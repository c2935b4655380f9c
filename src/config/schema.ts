import { hostname } from 'node:os';
import { parseFault } from '../mailstore/index.js';
import { parseCrashPoints } from '../observability/index.js';
import { parseCidr } from '../directory/index.js';

/** One configuration key: its default, how a text value is read, and what it means. */
interface KeySpec<T> {
  readonly default: () => T;
  /** Returns the value or throws an Error whose message says what is wrong. */
  readonly parse: (raw: unknown) => T;
  readonly doc: string;
}

function int(min: number, max: number): (raw: unknown) => number {
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

function text(pattern?: RegExp, what?: string): (raw: unknown) => string {
  return (raw) => {
    if (typeof raw !== 'string' || (pattern && !pattern.test(raw))) {
      throw new Error(`must be ${what ?? 'a string'}, got ${JSON.stringify(raw)}`);
    }
    return raw;
  };
}

/** A string that `check` accepts (it throws a sentence otherwise): one parser for the key and its users. */
function parsedBy(check: (text: string) => unknown): (raw: unknown) => string {
  return (raw) => {
    const value = text()(raw);
    check(value);
    return value;
  };
}

function bool(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  if (raw === 'false' || raw === '0' || raw === 'no') return false;
  throw new Error(`must be true or false, got ${JSON.stringify(raw)}`);
}

function oneOf<T extends string>(...values: T[]): (raw: unknown) => T {
  return (raw) => {
    if (typeof raw !== 'string' || !values.includes(raw as T)) {
      throw new Error(`must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw as T;
  };
}

function key<T>(defaultValue: T | (() => T), parse: (raw: unknown) => T, doc: string): KeySpec<T> {
  const makeDefault = typeof defaultValue === 'function' ? (defaultValue as () => T) : () => defaultValue;
  return { default: makeDefault, parse, doc };
}

export const ROLES = ['mx', 'submission', 'delivery', 'pop3', 'imap', 'portal', 'dns', 'web'] as const;
export type Role = (typeof ROLES)[number];

function roles(raw: unknown): Role[] {
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error(`must be a comma-separated list of roles (${ROLES.join(', ')}), got ${JSON.stringify(raw)}`);
  }
  for (const r of list) {
    if (!ROLES.includes(r)) {
      throw new Error(`"${String(r)}" is not a role this version runs; roles: ${ROLES.join(', ')}`);
    }
  }
  return [...new Set(list as Role[])];
}

const PORT = int(0, 65535);

/** `IP:port` (an IPv6 address in brackets) or empty (off); throws a sentence. */
function checkListenAddress(value: string): void {
  if (value === '') return;
  const m = /^([0-9.]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new Error(`must be IP:port (an IPv6 address in brackets) or empty, got ${JSON.stringify(value)}`);
}

/** Every configuration key. Each is settable in `hikyaku.json` (nested by the dots) and by `HIKYAKU_<KEY>`. */
export const SCHEMA = {
  roles: key<Role[]>([...ROLES], roles, 'Roles this process runs.'),
  hostname: key(() => hostname(), text(/^[A-Za-z0-9.-]{1,253}$/, 'a host name'), 'Name used in greetings, Received: headers and the TLS certificate.'),
  'listen.host': key('127.0.0.1', text(/^[0-9A-Fa-f:.]+$/, 'an IP address'), 'Address every listener binds to.'),
  'mx.port': key(2525, PORT, 'Port of inbound SMTP (role mx).'),
  'submission.port': key(5870, PORT, 'Port of authenticated submission with STARTTLS (role submission; 587 in production).'),
  'submission.tlsPort': key(4650, PORT, 'Port of authenticated submission over implicit TLS (RFC 8314; 465 in production).'),
  'submission.plaintextLogin': key<'never' | 'loopback' | 'always'>('never', oneOf('never', 'loopback', 'always'), 'AUTH without TLS on submission: never (AUTH is offered after STARTTLS only), only from loopback addresses (dev), or always.'),
  'submission.maxRecipients': key(100, int(1, 100000), 'Most recipients of one submitted message; more get 452 4.5.3.'),
  'submission.maxMessagesPerHour': key(500, int(1, 10_000_000), 'Messages one account may submit per hour; past it MAIL FROM gets 550 5.4.5.'),
  'submission.maxRecipientsPerHour': key(2000, int(1, 100_000_000), 'Recipients one account may send to per hour, over all its messages; past it RCPT TO gets 550 5.4.5.'),
  'submission.maxMessagesPerHourPerDomain': key(10_000, int(1, 100_000_000), 'Messages all accounts of one domain may submit per hour.'),
  'smtp.maxMessageBytes': key(50 * 1024 * 1024, int(1024, 2 ** 31), 'Largest message accepted (SIZE, RFC 1870).'),
  'smtp.maxRecipients': key(100, int(1, 100000), 'Most recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100).'),
  'smtp.maxLineLength': key(998, int(78, 1_000_000), 'Longest line of a message, without CRLF (RFC 5322 §2.1.1).'),
  'smtp.maxHops': key(50, int(2, 1000), 'A message arriving with this many Received: fields is refused as a mail loop (554 5.4.6; Postfix hopcount_limit).'),
  'smtp.idleTimeoutSeconds': key(300, int(1, 86400), 'Idle time before a session is closed (RFC 5321 §4.5.3.2.7).'),
  'smtp.maxSessionSeconds': key(1800, int(1, 86400), 'Longest a single SMTP session may last.'),
  'smtp.maxClients': key(2000, int(1, 1_000_000), 'Most concurrent SMTP connections.'),
  'pop3.port': key(1100, PORT, 'Port of POP3 with STLS (role pop3).'),
  'pop3.tlsPort': key(9950, PORT, 'Port of POP3 over implicit TLS (role pop3).'),
  'pop3.maxClients': key(5000, int(1, 1_000_000), 'Most concurrent POP3 connections (both ports); past it a client gets -ERR [SYS/TEMP] and is disconnected.'),
  'pop3.idleTimeoutSeconds': key(600, int(1, 86400), 'Idle time before a POP3 session is closed (RFC 1939 §3 asks for at least 10 minutes).'),
  'pop3.maxUnauthenticatedCommands': key(20, int(1, 10000), 'Commands a POP3 client may send before logging in.'),
  'pop3.storeTimeoutMs': key(1500, int(1, 600_000), 'Deadline for one mailbox store call in POP3; past it the client gets -ERR [SYS/TEMP]. The default keeps every answer within 2 s (DESIGN.md principle 4), so a reader on a sick store is told to try later rather than kept waiting.'),
  'pop3.plaintextLogin': key<'never' | 'loopback' | 'always'>('loopback', oneOf('never', 'loopback', 'always'), 'Password login without TLS: never, only from loopback addresses (dev), or always.'),
  'imap.port': key(1430, PORT, 'Port of IMAP with STARTTLS (role imap).'),
  'imap.tlsPort': key(9930, PORT, 'Port of IMAP over implicit TLS (role imap).'),
  'imap.maxClients': key(5000, int(1, 1_000_000), 'Most concurrent IMAP connections (both ports); past it a client gets * BYE [UNAVAILABLE] and is disconnected.'),
  'readers.processes': key(1, int(1, 64), 'Processes serving POP3 and IMAP sessions (roles pop3, imap): the service\'s own and readers.processes - 1 session workers accepting on the same sockets, each with its own store connections; failed-login counts and POP3 maildrop locks stay shared. pop3.maxClients and imap.maxClients hold per process. The number of cores suits a host that mostly serves readers.'),
  'imap.idleTimeoutSeconds': key(1800, int(60, 86400), 'Idle time before an IMAP session is closed (RFC 9051 §5.4: at least 30 minutes; clients renew IDLE within it).'),
  'imap.maxUnauthenticatedCommands': key(20, int(1, 10000), 'Commands an IMAP client may send before logging in.'),
  'imap.storeTimeoutMs': key(1500, int(1, 600_000), 'Deadline for one mailbox store call in IMAP; past it the command gets NO [UNAVAILABLE], so every answer comes within 2 s (DESIGN.md principle 4).'),
  'imap.plaintextLogin': key<'never' | 'loopback' | 'always'>('loopback', oneOf('never', 'loopback', 'always'), 'Password login without TLS: never, only from loopback addresses (dev), or always.'),
  'imap.maxLineBytes': key(65536, int(1024, 10_000_000), 'Longest IMAP command line, literals not counted.'),
  'dns.port': key(5353, PORT, 'Port of the authoritative DNS server, UDP and TCP (role dns; 53 in production).'),
  'dns.nameservers': key('', text(/^([A-Za-z0-9.-]{1,253}(,[A-Za-z0-9.-]{1,253})*)?$/, 'a comma-separated list of host names'), 'Name servers of every hosted zone (NS records), comma-separated; the first is the SOA\'s primary. Empty: this host\'s name (hostname).'),
  'dns.mailHost': key('', text(/^([A-Za-z0-9.-]{1,253})?$/, 'a host name'), 'The host name the zones publish for mail (MX) and client setup (SRV). Empty: hostname.'),
  'dns.ttl': key(3600, int(60, 604_800), 'TTL of the records the dns role serves, in seconds.'),
  'dns.maxTcpClients': key(1000, int(1, 100_000), 'Most concurrent DNS connections over TCP.'),
  'dns.transferFrom': key('', text(/^([0-9A-Fa-f:.]+(,[0-9A-Fa-f:.]+)*)?$/, 'a comma-separated list of IP addresses'), 'Secondaries allowed to transfer the zones (AXFR over TCP), comma-separated IP addresses; empty: none.'),
  'dns.tsigKeys': key('', text(/^([A-Za-z0-9.-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9.-]+:[A-Za-z0-9+/=]+)*)?$/, 'a comma-separated list of name:base64-secret'), 'TSIG keys (HMAC-SHA256, RFC 8945) a zone transfer must be signed with, as name:base64-secret, comma-separated; empty: transfers by address alone.'),
  'dns.notify': key('', text(/^([0-9A-Fa-f:.\[\]]+:\d+(,[0-9A-Fa-f:.\[\]]+:\d+)*)?$/, 'a comma-separated list of IP:port'), 'Secondaries told of every zone change by NOTIFY (RFC 1996), as IP:port, comma-separated.'),
  'dns.responsesPerSecond': key(200, int(0, 1_000_000), 'Response rate limiting over UDP: answers per second to one client network (/24, /56); past it every second query gets a truncated answer (retry over TCP) and the rest none. Loopback is never limited; 0: no limit.'),
  'web.port': key(8081, PORT, 'Port of the web role: websites and client autoconfiguration for the hosted domains (80 in production).'),
  'web.sitesDir': key('', text(), 'Where the websites are: one folder per hosted domain (index.html, 404.html, ...). Empty: DATA_DIR/sites.'),
  'dns.webHost': key('', text(/^([A-Za-z0-9.-]{1,253})?$/, 'a host name'), 'The host the zones point autoconfig.<domain> and autodiscover.<domain> at (the web role). Empty: hostname.'),
  'dns.webAddresses': key('', text(/^([0-9A-Fa-f:.]+(,[0-9A-Fa-f:.]+)*)?$/, 'a comma-separated list of IP addresses'), 'Addresses of the web role, published as each hosted domain\'s and its www. name\'s A/AAAA records, comma-separated; empty: none (tenants then add their own).'),
  'dns.hostAddresses': key('', text(/^([A-Za-z0-9.-]{1,253}=[0-9A-Fa-f:.]+(,[A-Za-z0-9.-]{1,253}=[0-9A-Fa-f:.]+)*)?$/, 'a comma-separated list of host=IP'), 'Addresses of the service\'s own hosts (mail, web, portal) as host=IP, comma-separated: published as A/AAAA when the host\'s name is in a hosted zone (the provider\'s own domain).'),
  'dns.dkimRetiredDays': key(7, int(1, 3650), 'Days a DKIM key stays in DNS after a newer one took over, so mail signed before the rotation still verifies where it is read late.'),
  'dns.tlsRptAddress': key('', text(/^([^\s@,;]+@[A-Za-z0-9.-]+)?$/, 'an e-mail address'), 'Where sending servers report TLS failures (TLS-RPT, RFC 8460) for every hosted domain; empty: postmaster@ the domain.'),
  'web.mtaStsMode': key<'enforce' | 'testing' | 'none' | 'off'>('testing', oneOf('enforce', 'testing', 'none', 'off'), 'The MTA-STS policy (RFC 8461) published for every hosted domain: enforce (senders must use verified TLS to our MX; needs a certificate for mta-sts.<domain> that senders trust), testing (they report, and deliver anyway), none, or off (no policy published).'),
  'web.tlsPort': key(8443, PORT, 'Port of the web role over HTTPS (443 in production): websites, autoconfiguration and the MTA-STS policy, with a certificate per domain.'),
  'web.certsDir': key('', text(), 'Certificates of the hosted domains for HTTPS: <domain>.crt and <domain>.key (PEM, the chain in the .crt) covering the domain and its www., mta-sts., autoconfig. and autodiscover. names. A domain without files gets a self-signed certificate. Empty: DATA_DIR/certs.'),
  'web.acmeDirectory': key('', text(/^(https:\/\/\S+)?$/, 'an https:// URL'), 'An ACME CA\'s directory URL (RFC 8555), e.g. https://acme-v02.api.letsencrypt.org/directory: every hosted domain without certificate files in web.certsDir gets one from it (HTTP-01 on web.port, which must be port 80 as the world sees it), renewed 30 days before expiry. Empty: self-signed certificates.'),
  'web.acmeEmail': key('', text(/^([^\s@]+@[^\s@]+)?$/, 'an e-mail address'), 'Contact address of the ACME account (expiry warnings from the CA); empty: none.'),
  'web.acmeCaFile': key('', text(), 'A CA certificate (PEM) to trust for the ACME server\'s own HTTPS, for a private CA; empty: the system\'s trust store.'),
  'web.siteQuotaBytes': key(100 * 1024 * 1024, int(0, 2 ** 40), 'Largest a hosted website may be, all its files together; 0: no limit.'),
  'web.processes': key(1, int(1, 64), 'Processes answering the websites over plain HTTP: the service\'s own and web.processes - 1 workers accepting on the same socket (nginx\'s worker_processes); the number of cores suits a host that mostly serves websites.'),
  'web.sftpPort': key(2222, PORT, 'Port of the SFTP server where tenants upload their websites (role web; 22 in production).'),
  'portal.port': key(8080, PORT, 'Port of the member site and its JSON API (role portal; 443 behind a TLS proxy in production).'),
  'portal.sessionIdleMinutes': key(30, int(1, 24 * 60), 'A portal session unused this long ends.'),
  'portal.sessionMaxHours': key(12, int(1, 24 * 30), 'A portal session ends this long after its login, used or not.'),
  'portal.secureCookies': key<'always' | 'auto'>('auto', oneOf('always', 'auto'), 'Secure flag of the session cookie: always, or auto (left off only for plain HTTP from a loopback client, so dev on http://127.0.0.1 works).'),
  'portal.storeTimeoutMs': key(1500, int(1, 60_000), 'Deadline for mailbox figures on portal pages; past it they read "temporarily unavailable".'),
  'portal.trustProxy': key('', text(), 'Addresses (comma-separated, CIDR allowed) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto the portal believes; empty: none.'),
  'portal.metricsFrom': key('127.0.0.0/8,::1', parsedBy((v) => v.split(',').map((n) => n.trim()).filter(Boolean).forEach(parseCidr)), 'Networks (comma-separated CIDR) that may read GET /metrics on the portal port, for Prometheus; empty: nobody (the node\'s metrics.listen serves it too).'),
  'status.sampleSeconds': key(60, int(1, 3600), 'How often the backlog is sampled for the status page\'s plots (a week of samples is kept).'),
  'status.delayedSeconds': key(900, int(1, 86_400 * 30), 'The status page shows sending as delayed when the oldest waiting mail is older than this.'),
  'status.disruptedSeconds': key(3600, int(1, 86_400 * 30), 'The status page shows sending as disrupted when the oldest waiting mail is older than this.'),
  'status.slowStoreMs': key(1000, int(1, 600_000), 'The status page shows reading mail as delayed when the mailbox store takes longer than this to answer a trivial read.'),
  'status.readerErrorPercent': key(5, int(1, 100), 'The status page shows reading mail as delayed when more than this share (percent) of POP3 and IMAP answers in a sample interval were temporary failures (-ERR [SYS/TEMP], NO [UNAVAILABLE]).'),
  'status.deliveryFailurePercent': key(20, int(1, 100), 'The status page shows sending as delayed when more than this share (percent) of deliveries into mailboxes in a sample interval had to be retried.'),
  'status.autoIncidents': key<'off' | 'draft' | 'publish'>('draft', oneOf('off', 'draft', 'publish'), 'Automatic incident notices when a service stays out of order: off, a draft for operators to publish, or published at once.'),
  'status.incidentAfterSeconds': key(300, int(1, 86_400), 'How long a service must stay out of order before an automatic incident notice opens.'),
  'status.incidentMail': key(false, bool, 'Mail each automatic incident, when it is published, to the affected customers\' administrators.'),
  'portal.publicUrl': key('', text(/^(https?:\/\/[^\s/]+)?$/, 'an http(s) origin such as https://members.example.net'), 'The member site\'s address as customers reach it, for links in mailed notices; empty: http://HOSTNAME:PORTAL_PORT.'),
  'auth.minPasswordLength': key(10, int(8, 128), 'Shortest password a person may choose in the portal.'),
  'auth.cacheSeconds': key(300, int(0, 86400), 'How long a successful password check is remembered (0: never), so repeated logins skip argon2id.'),
  'auth.failureDelayMs': key(2000, int(0, 60_000), 'Delay before answering a failed login.'),
  'auth.maxFailuresPerIp': key(20, int(1, 1_000_000), 'Failed logins from one address within the window before its logins are refused.'),
  'auth.maxFailuresPerAccount': key(10, int(1, 1_000_000), 'Failed logins for one account from one address within the window before that address may not try it again (never a lock-out of the account for everyone).'),
  'auth.failureWindowSeconds': key(600, int(1, 86400), 'Window in which failed logins are counted.'),
  'tls.cert': key('', text(), 'PEM certificate path; empty: a self-signed one under the data dir.'),
  'tls.key': key('', text(), 'PEM private key path; empty: a self-signed one under the data dir.'),
  'storage.directory': key('sqlite', text(/^(sqlite|postgres(ql)?:\/\/\S+)$/, 'sqlite or a postgres:// URL'), 'Where the directory (domains, accounts, aliases), the member site\'s sessions and audit log, the notices and the counters nodes share (failed logins, sending limits, POP3 maildrop locks) live: sqlite (DATA_DIR/directory.db) or a PostgreSQL URL; a change made on one node reaches every node\'s cache within a second.'),
  'storage.spool': key('sqlite', text(/^(sqlite|postgres(ql)?:\/\/\S+)$/, 'sqlite or a postgres:// URL'), 'Where the spool (accepted mail and its queue) lives: sqlite (DATA_DIR/spool) or a PostgreSQL URL (postgres://user@host:5432/db, ?schema=NAME for a schema of its own), shared by every node that uses it.'),
  'storage.mailstore': key('sqlite', text(/^(sqlite|postgres(ql)?:\/\/\S+)$/, 'sqlite or a postgres:// URL'), 'Where the mailboxes live: sqlite (DATA_DIR/mail) or a PostgreSQL URL (bodies in the database), shared by every delivery and reader node; it may be another cluster than the spool\'s.'),
  'storage.bodies': key('database', text(/^(database|file:\/\/\/\S+)$/, 'database or a file:/// URL'), 'Where a PostgreSQL mailbox store keeps message bodies: database (beside the mailboxes), or file:///PATH, a directory every reader and delivery node mounts (a network file system), written and fsynced before the message row commits. The interface is the one an S3-compatible bucket needs (put, get, delete, list).'),
  'storage.pgPoolSize': key(10, int(1, 1000), 'Most connections each PostgreSQL store of a process holds. A process holds at most this many for each store it opens on PostgreSQL (directory, member-site state, notices, spool, mailboxes; each delivery thread opens its own spool and mailboxes), plus one each for hearing the directory and the spool (per delivery thread) and one for POP3 maildrop locks: keep the sum over all nodes under the server\'s max_connections.'),
  'storage.pgStatementTimeoutMs': key(30_000, int(100, 3_600_000), 'PostgreSQL cancels a statement of ours running longer than this (a sick database fails calls instead of hanging them).'),
  'storage.fsync': key(true, bool, 'Fsync the spool before answering 250 and the mailbox store before a delivery counts as done (turn off only for throwaway tests).'),
  'delivery.threads': key(1, int(0, 64), 'Worker threads running delivery, each with its own storage connections; 0 runs it on the main thread.'),
  'delivery.concurrency': key(32, int(1, 1024), 'Most deliveries in flight per thread (the adaptive limit stays below it).'),
  'delivery.retryBaseMs': key(2000, int(1, 86_400_000), 'First retry delay after a failed delivery step; doubles each attempt, with jitter.'),
  'delivery.retryMaxMs': key(300_000, int(1, 86_400_000), 'Longest delay between retries.'),
  'delivery.storeTimeoutMs': key(30_000, int(1, 3_600_000), 'Deadline for one mailbox store call during delivery.'),
  'delivery.leaseMs': key(600_000, int(100, 86_400_000), 'How long a worker holds a queue entry before another may take it; renewed while the work runs. Must be longer than delivery.storeTimeoutMs and relay.replyTimeoutMs.'),
  'delivery.maxQueueSeconds': key(5 * 86_400, int(1, 60 * 86_400), 'A message not in its mailbox after this long (the store kept failing) is bounced to its sender; a shorter outage never bounces.'),
  'delivery.delayWarningSeconds': key(4 * 3600, int(1, 60 * 86_400), 'After this long not in its mailbox, the sender gets one delayed-delivery notice.'),
  'delivery.quotaGraceSeconds': key(86_400, int(0, 60 * 86_400), 'A message for a mailbox over quota is retried this long (from its arrival), then bounced with 5.2.2.'),
  'delivery.autoReplyIntervalDays': key(7, int(1, 365), 'An automatic reply answers each sender at most once in this many days (RFC 3834 §2; Sieve vacation\'s default).'),
  'delivery.quotaWarningPercent': key(90, int(0, 100), 'A mailbox past this share of its quota gets a warning from its domain\'s postmaster (again after a week if still so); 0: no warnings.'),
  'delivery.retentionIntervalSeconds': key(3600, int(1, 7 * 86_400), 'How often the domains\' retention rules (delete mail older than N days, set in the portal) are applied.'),
  'delivery.pollMs': key(500, int(10, 60_000), 'How often idle workers look for work written by other processes.'),
  'relay.port': key(25, PORT, 'SMTP port of remote MX hosts (tests point it elsewhere).'),
  'relay.dnsServers': key('', text(/^([0-9A-Fa-f:.\[\]]+(,[0-9A-Fa-f:.\[\]]+)*)?$/, 'a comma-separated list of IP[:port]'), 'DNS servers for MX lookups, comma-separated IP or IP:port; empty: the system resolver.'),
  'relay.smarthost': key('', text(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$|^$/, 'host:port'), 'Relay all outgoing mail through this host:port instead of MX lookups; empty: none.'),
  'relay.smarthostUser': key('', text(), 'User name for AUTH at the smarthost; empty: no AUTH.'),
  'relay.smarthostPassword': key('', text(), 'Password for AUTH at the smarthost.'),
  'relay.smarthostCa': key('', text(), 'PEM file of the CA that signed the smarthost\'s certificate; empty: the system\'s CAs. AUTH at the smarthost happens only over STARTTLS with a certificate that checks out.'),
  'relay.concurrency': key(64, int(1, 4096), 'Most outbound SMTP transactions in flight per delivery thread.'),
  'relay.maxConnectionsPerDomain': key(10, int(1, 1000), 'Most concurrent connections to one destination domain (or to the smarthost).'),
  'relay.connectionCacheMs': key(2000, int(0, 300_000), 'How long a relay session stays open after a message for the next one to the same destination (RSET, then MAIL FROM: no new TCP, TLS and EHLO), as Postfix\'s connection cache (smtp_connection_cache_time_limit, 2 s); a session serves at most 100 messages and 300 s. 0: a new connection per message.'),
  'relay.connectTimeoutMs': key(30_000, int(100, 600_000), 'Deadline for connecting to a remote host.'),
  'relay.replyTimeoutMs': key(300_000, int(100, 3_600_000), 'Deadline for any one reply of a remote server (RFC 5321 §4.5.3.2 asks for 5 to 10 minutes).'),
  'relay.retryBaseMs': key(300_000, int(1, 86_400_000), 'First retry delay after a temporary relay failure; doubles each attempt, with jitter.'),
  'relay.retryMaxMs': key(3_600_000, int(1, 86_400_000), 'Longest delay between relay retries.'),
  'relay.maxQueueSeconds': key(5 * 86_400, int(1, 60 * 86_400), 'A message not relayed after this long is bounced to its sender (5 days, like Postfix).'),
  'relay.delayWarningSeconds': key(4 * 3600, int(1, 60 * 86_400), 'After this long undelivered, the sender gets one delayed-delivery notice.'),
  'srs.secret': key('', text(), 'Secret of SRS addresses for forwarding; empty: one generated once and kept in DATA_DIR/srs.secret. Every node must share it.'),
  'postmaster.mailbox': key('', text(/^([^@\s]+@[A-Za-z0-9.-]+)?$/, 'an address'), 'Where mail to postmaster@ a hosted domain (and the bare postmaster) goes when the domain has no such account or alias; empty: the domain\'s first account.'),
  'directory.refreshMs': key(250, int(10, 60_000), 'How often the directory cache checks for changes.'),
  'fault.mailstore': key('', parsedBy(parseFault), 'Storage-fault rehearsal (staging only): every mailbox store call hangs, fails, or is slowed (slow:250ms adds that much, slow:10x makes each call ten times slower). Empty: off. Announced at start.'),
  'fault.crashAt': key('', parsedBy(parseCrashPoints), 'Crash rehearsal (staging only): at these points (data, spool-commit, after-append, expunge, after-relay) the process kills itself with SIGKILL with this probability, e.g. after-append:0.1. Empty: off. Announced at start.'),
  'metrics.listen': key('127.0.0.1:9464', parsedBy(checkListenAddress), 'Where the node serves GET /metrics (Prometheus text), /healthz and /readyz; empty: no such listener. Keep it off the public network.'),
  'metrics.queueBreakdownSeconds': key(60, int(1, 86_400), 'Least time between two counts of the queue by route, state and tenant (hikyaku_queue_tenant_entries); a count that took long waits 100 times as long.'),
  'metrics.readyTimeoutMs': key(2000, int(1, 60_000), 'Deadline for each check of /readyz (a store that answers later counts as not ready).'),
  'log.level': key('info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), 'Log level.'),
} as const;

export type ConfigKey = keyof typeof SCHEMA;
export type Config = { readonly [K in ConfigKey]: ReturnType<(typeof SCHEMA)[K]['parse']> } & { readonly dataDir: string };
