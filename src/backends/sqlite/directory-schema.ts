import { openDb, type Db } from './db.js';
export * from '../directory-rows.js';

/** The schema of directory.db: `MIGRATIONS[i]` brings it from user_version i to i+1. */
export const DIRECTORY_MIGRATIONS = [
  `CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
   INSERT INTO meta VALUES ('version', 0);
   CREATE TABLE domains (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
   CREATE TABLE accounts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     address TEXT NOT NULL UNIQUE,
     domain TEXT NOT NULL REFERENCES domains(name),
     password_hash TEXT NOT NULL,
     quota_bytes INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL);
   CREATE INDEX accounts_domain ON accounts(domain);
   CREATE TABLE aliases (
     address TEXT PRIMARY KEY,
     domain TEXT NOT NULL REFERENCES domains(name),
     targets TEXT NOT NULL);
   CREATE INDEX aliases_domain ON aliases(domain);
   CREATE TABLE forwards (
     account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
     targets TEXT NOT NULL,
     keep_copy INTEGER NOT NULL);`,
  `CREATE TABLE dkim_keys (
     domain TEXT NOT NULL REFERENCES domains(name),
     selector TEXT NOT NULL,
     algorithm TEXT NOT NULL,
     private_key TEXT NOT NULL,
     public_key TEXT NOT NULL,
     active INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (domain, selector));`,
  // Tenants, account profiles and roles, operators; the portal's sessions, logins and audit log.
  // Domains hosted before this version belong to the default tenant. (ALTER TABLE cannot
  // add a REFERENCES column with a default while foreign keys are on: the code checks it.)
  `CREATE TABLE tenants (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     display_name TEXT NOT NULL,
     suspended INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL);
   INSERT INTO tenants (id, name, display_name, created_at) VALUES (1, 'default', 'Default', CAST(unixepoch('subsec') * 1000 AS INTEGER));
   ALTER TABLE domains ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1;
   CREATE INDEX domains_tenant ON domains(tenant_id);
   ALTER TABLE accounts ADD COLUMN name TEXT NOT NULL DEFAULT '';
   ALTER TABLE accounts ADD COLUMN department TEXT NOT NULL DEFAULT '';
   ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
   ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE accounts ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE operators (login TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE portal_sessions (
     id TEXT PRIMARY KEY,
     subject TEXT NOT NULL,
     kind TEXT NOT NULL,
     csrf TEXT NOT NULL,
     ip TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL);
   CREATE INDEX portal_sessions_subject ON portal_sessions(subject);
   CREATE TABLE last_logins (subject TEXT PRIMARY KEY, at INTEGER NOT NULL, ip TEXT NOT NULL, protocol TEXT NOT NULL);
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     tenant TEXT,
     actor TEXT NOT NULL,
     ip TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     detail TEXT NOT NULL);
   CREATE INDEX audit_log_tenant ON audit_log(tenant, id);`,
  // Forwards that are off but kept; automatic replies.
  `ALTER TABLE forwards ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
   CREATE TABLE autoreplies (
     account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
     enabled INTEGER NOT NULL,
     subject TEXT NOT NULL,
     body TEXT NOT NULL,
     starts_at INTEGER,
     ends_at INTEGER);`,
  // What users may change and where they may log in from: per domain, per account.
  `CREATE TABLE policies (scope TEXT PRIMARY KEY, policy TEXT NOT NULL);`,
  // Tokens for automation through the portal's API.
  `CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     secret_hash TEXT NOT NULL,
     name TEXT NOT NULL,
     tenant TEXT,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER);`,
  // Conditional forwarding (JSON of ForwardConditions; NULL: everything).
  `ALTER TABLE forwards ADD COLUMN conditions TEXT;`,
  // Retention rule per domain (days; NULL: off).
  `ALTER TABLE domains ADD COLUMN retention_days INTEGER;`,
  // Second login factor (RFC 6238) of accounts and operators.
  `CREATE TABLE totp (subject TEXT PRIMARY KEY, secret TEXT NOT NULL, confirmed INTEGER NOT NULL, last_step INTEGER NOT NULL DEFAULT 0);`,
  // Maintenance and incident notices for customers.
  `CREATE TABLE notices (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     title TEXT NOT NULL,
     body TEXT NOT NULL,
     services TEXT NOT NULL,
     tenants TEXT NOT NULL,
     starts_at INTEGER NOT NULL,
     ends_at INTEGER,
     service_stops INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     revision INTEGER NOT NULL DEFAULT 0,
     closed_at INTEGER,
     author TEXT NOT NULL);`,
  // The backlog a minute at a time, for the status page's plots.
  `CREATE TABLE backlog_samples (at INTEGER PRIMARY KEY, waiting INTEGER NOT NULL, deferred INTEGER NOT NULL, oldest_seconds INTEGER NOT NULL);`,
  // Drafts (shown to operators only) and automatic incidents: one open per service, whichever instance saw it first.
  `ALTER TABLE notices ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE notices ADD COLUMN auto_service TEXT;
   CREATE UNIQUE INDEX notices_open_auto ON notices(auto_service) WHERE auto_service IS NOT NULL AND closed_at IS NULL;`,
  // Mean delivery latency per sample, for the status page's plot.
  `ALTER TABLE backlog_samples ADD COLUMN latency_ms INTEGER;`,
  // Records tenant administrators add to their domains' zones.
  `CREATE TABLE dns_records (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     domain TEXT NOT NULL REFERENCES domains(name),
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     ttl INTEGER NOT NULL,
     value TEXT NOT NULL);
   CREATE INDEX dns_records_domain ON dns_records(domain, name);`,
];

/**
 * A connection to directory.db, opened on first use and again after a failed open (a
 * locked or broken file at start costs the first calls an error, never the start). The
 * directory, the portal's state and the notices each keep their own.
 */
export class DirectoryFile {
  private opened: Db | undefined;

  /** `busyTimeoutMs`: how long a call waits for another process's lock (it blocks its thread). */
  constructor(
    private readonly path: string,
    private readonly busyTimeoutMs = 5000,
  ) {}

  protected get db(): Db {
    return (this.opened ??= openDb(this.path, DIRECTORY_MIGRATIONS, this.busyTimeoutMs));
  }

  async close(): Promise<void> {
    this.opened?.close();
    this.opened = undefined;
  }
}
