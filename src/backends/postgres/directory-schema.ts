/**
 * The directory's schema on PostgreSQL, with the portal's state and the notices beside it
 * (they follow `storage.directory`). Columns as in directory.db (flags 0/1, JSON as text,
 * times in ms), so both backends share their row mappers. `MIGRATIONS[i]` brings a schema
 * from version i to i+1.
 */
export const DIRECTORY_MIGRATIONS = [
  `CREATE TABLE dir_meta (k TEXT PRIMARY KEY, v BIGINT NOT NULL);
   INSERT INTO dir_meta VALUES ('version', 0);
   CREATE TABLE tenants (
     id BIGSERIAL PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     display_name TEXT NOT NULL,
     suspended INTEGER NOT NULL DEFAULT 0,
     created_at BIGINT NOT NULL);
   INSERT INTO tenants (name, display_name, created_at) VALUES ('default', 'Default', (extract(epoch from now()) * 1000)::bigint);
   CREATE TABLE domains (
     name TEXT PRIMARY KEY,
     created_at BIGINT NOT NULL,
     tenant_id BIGINT NOT NULL REFERENCES tenants(id),
     retention_days INTEGER);
   CREATE INDEX domains_tenant ON domains(tenant_id);
   CREATE TABLE accounts (
     id BIGSERIAL PRIMARY KEY,
     address TEXT NOT NULL UNIQUE,
     domain TEXT NOT NULL REFERENCES domains(name),
     password_hash TEXT NOT NULL,
     quota_bytes BIGINT NOT NULL DEFAULT 0,
     created_at BIGINT NOT NULL,
     name TEXT NOT NULL DEFAULT '',
     department TEXT NOT NULL DEFAULT '',
     role TEXT NOT NULL DEFAULT 'user',
     disabled INTEGER NOT NULL DEFAULT 0,
     must_change INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX accounts_domain ON accounts(domain);
   CREATE TABLE aliases (address TEXT PRIMARY KEY, domain TEXT NOT NULL REFERENCES domains(name), targets TEXT NOT NULL);
   CREATE INDEX aliases_domain ON aliases(domain);
   CREATE TABLE forwards (
     account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
     targets TEXT NOT NULL,
     keep_copy INTEGER NOT NULL,
     enabled INTEGER NOT NULL DEFAULT 1,
     conditions TEXT);
   CREATE TABLE autoreplies (
     account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
     enabled INTEGER NOT NULL,
     subject TEXT NOT NULL,
     body TEXT NOT NULL,
     starts_at BIGINT,
     ends_at BIGINT);
   CREATE TABLE dkim_keys (
     domain TEXT NOT NULL REFERENCES domains(name),
     selector TEXT NOT NULL,
     algorithm TEXT NOT NULL,
     private_key TEXT NOT NULL,
     public_key TEXT NOT NULL,
     active INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
     PRIMARY KEY (domain, selector));
   CREATE TABLE policies (scope TEXT PRIMARY KEY, policy TEXT NOT NULL);
   CREATE TABLE operators (login TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL);`,
  // Records tenant administrators add to their domains' zones.
  `CREATE TABLE dns_records (
     id BIGSERIAL PRIMARY KEY,
     domain TEXT NOT NULL REFERENCES domains(name),
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     ttl INTEGER NOT NULL,
     value TEXT NOT NULL);
   CREATE INDEX dns_records_domain ON dns_records(domain, name);`,
];

/** The portal's sessions, last logins, audit log, API tokens and second factors; and the counters and locks nodes share. */
export const PORTAL_MIGRATIONS = [
  `CREATE TABLE portal_sessions (
     id TEXT PRIMARY KEY,
     subject TEXT NOT NULL,
     kind TEXT NOT NULL,
     csrf TEXT NOT NULL,
     ip TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     seen_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL);
   CREATE INDEX portal_sessions_subject ON portal_sessions(subject);
   CREATE INDEX portal_sessions_expires ON portal_sessions(expires_at);
   CREATE TABLE last_logins (subject TEXT PRIMARY KEY, at BIGINT NOT NULL, ip TEXT NOT NULL, protocol TEXT NOT NULL);
   CREATE TABLE audit_log (
     id BIGSERIAL PRIMARY KEY,
     at BIGINT NOT NULL,
     tenant TEXT,
     actor TEXT NOT NULL,
     ip TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     detail TEXT NOT NULL);
   CREATE INDEX audit_log_tenant ON audit_log(tenant, id);
   CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     secret_hash TEXT NOT NULL,
     name TEXT NOT NULL,
     tenant TEXT,
     created_by TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     last_used_at BIGINT);
   CREATE TABLE totp (subject TEXT PRIMARY KEY, secret TEXT NOT NULL, confirmed INTEGER NOT NULL, last_step BIGINT NOT NULL DEFAULT 0);
   CREATE TABLE rate_counts (key TEXT NOT NULL, bucket BIGINT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, bucket));
   CREATE INDEX rate_counts_bucket ON rate_counts(bucket);`,
];

export const NOTICE_MIGRATIONS = [
  `CREATE TABLE notices (
     id BIGSERIAL PRIMARY KEY,
     kind TEXT NOT NULL,
     title TEXT NOT NULL,
     body TEXT NOT NULL,
     services TEXT NOT NULL,
     tenants TEXT NOT NULL,
     starts_at BIGINT NOT NULL,
     ends_at BIGINT,
     service_stops INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL,
     revision INTEGER NOT NULL DEFAULT 0,
     closed_at BIGINT,
     author TEXT NOT NULL,
     draft INTEGER NOT NULL DEFAULT 0,
     auto_service TEXT);
   CREATE UNIQUE INDEX notices_open_auto ON notices(auto_service) WHERE auto_service IS NOT NULL AND closed_at IS NULL;
   CREATE TABLE backlog_samples (at BIGINT PRIMARY KEY, waiting BIGINT NOT NULL, deferred BIGINT NOT NULL, oldest_seconds BIGINT NOT NULL, latency_ms BIGINT);`,
];
