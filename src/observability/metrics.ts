import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One thread's metrics as prom-client serialises them (what crosses postMessage). */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Every metric of one Hikyaku thread, in its own registry (no global state). Delivery
 * threads keep their own and send a snapshot when the main thread scrapes
 * (`mergeMetrics`): counters and histograms add up, gauges say how they combine.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Process-wide figures (CPU, memory, event-loop delay of the SMTP/POP3 thread): once per process, on the main thread. */
  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry, prefix: 'hikyaku_' });
    return this;
  }

  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON() as Promise<MetricsSnapshot>;
  }

  readonly smtpConnections = new Gauge({ name: 'hikyaku_smtp_connections', help: 'Open SMTP connections', registers: [this.registry], labelNames: ['role'] });
  readonly smtpAccepted = new Counter({ name: 'hikyaku_smtp_messages_accepted_total', help: 'Messages answered 250 after DATA', registers: [this.registry] });
  readonly smtpRefused = new Counter({ name: 'hikyaku_smtp_refusals_total', help: 'Refused commands by error code', registers: [this.registry], labelNames: ['code'] });
  readonly acceptSeconds = new Histogram({
    name: 'hikyaku_spool_accept_seconds',
    help: 'Time from end of DATA to durable spool commit',
    registers: [this.registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
  });
  readonly queueDepth = new Gauge({ name: 'hikyaku_queue_entries', help: 'Queue entries by state', registers: [this.registry], labelNames: ['state'] });
  readonly queueByTenant = new Gauge({
    name: 'hikyaku_queue_tenant_entries',
    help: 'Queue entries by route, state and tenant (the recipient\'s for mail delivered here, the sender\'s for mail relayed out), counted at most once a minute by one delivery thread',
    registers: [this.registry],
    labelNames: ['route', 'state', 'tenant'],
  });
  readonly queueOldest = new Gauge({ name: 'hikyaku_queue_oldest_age_seconds', help: 'Age of the oldest undelivered queue entry', registers: [this.registry], aggregator: 'max' });
  readonly deliveryLatency = new Histogram({
    name: 'hikyaku_delivery_latency_seconds',
    help: 'Time from acceptance to the mailbox (route local) or the remote server\'s 250 (route remote), per recipient',
    registers: [this.registry],
    labelNames: ['route'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 14_400, 86_400],
  });
  readonly deliveries = new Counter({ name: 'hikyaku_delivery_attempts_total', help: 'Delivery attempts by outcome', registers: [this.registry], labelNames: ['outcome'] });
  readonly storeSeconds = new Histogram({
    name: 'hikyaku_mailstore_append_seconds',
    help: 'Mailbox store append latency',
    registers: [this.registry],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 30],
  });
  readonly storeReadSeconds = new Histogram({
    name: 'hikyaku_mailstore_read_seconds',
    help: 'Mailbox store reads by readers: the maildrop listing at login, opening a message',
    registers: [this.registry],
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
  });
  /** Bound once: RETR is the hot path, and a bound child skips hashing its labels on every message. */
  readonly storeOpenSeconds = this.storeReadSeconds.labels({ op: 'open' });
  readonly leaseSeconds = new Histogram({
    name: 'hikyaku_spool_lease_seconds',
    help: 'Time to lease a batch of due queue entries',
    registers: [this.registry],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
  });
  readonly retentionRemoved = new Counter({ name: 'hikyaku_retention_messages_removed_total', help: 'Messages removed by domains\' retention rules', registers: [this.registry] });
  readonly retentionRuns = new Counter({ name: 'hikyaku_retention_runs_total', help: 'Completed passes of the retention job', registers: [this.registry] });
  readonly relayed = new Counter({ name: 'hikyaku_relay_recipients_total', help: 'Recipients handed to remote servers, by outcome (sent, deferred, bounced)', registers: [this.registry], labelNames: ['outcome'] });
  readonly relaySeconds = new Histogram({
    name: 'hikyaku_relay_transaction_seconds',
    help: 'Time of one outbound SMTP transaction, from DNS lookup to the final reply',
    registers: [this.registry],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
  });
  readonly dsnQueued = new Counter({ name: 'hikyaku_dsn_queued_total', help: 'Delivery status notifications queued, by kind (failed, delayed)', registers: [this.registry], labelNames: ['kind'] });
  readonly connectionsRefused = new Counter({ name: 'hikyaku_connections_refused_total', help: 'Connections turned away at a connection limit, by protocol', registers: [this.registry], labelNames: ['protocol'] });
  readonly smtpReplies = new Counter({ name: 'hikyaku_smtp_replies_total', help: 'SMTP replies sent, by role and reply code', registers: [this.registry], labelNames: ['role', 'code'] });
  readonly pop3Replies = new Counter({ name: 'hikyaku_pop3_replies_total', help: 'POP3 status replies sent: +OK, or -ERR with its response code (RFC 2449/3206) or none', registers: [this.registry], labelNames: ['status', 'code'] });
  readonly imapReplies = new Counter({ name: 'hikyaku_imap_replies_total', help: 'IMAP tagged replies sent: OK, NO or BAD, with the response code (RFC 5530) or none', registers: [this.registry], labelNames: ['status', 'code'] });
  private readonly replyChildren = new Map<string, { inc(): void }>();

  /** Counts one reply; the labelled child is made once per value (replies are the hot path). */
  countSmtpReply(role: string, code: number): void {
    this.child(`smtp ${role} ${code}`, () => this.smtpReplies.labels({ role, code: String(code) })).inc();
  }

  countPop3Reply(status: '+OK' | '-ERR', code: string): void {
    this.child(`pop3 ${status} ${code}`, () => this.pop3Replies.labels({ status, code })).inc();
  }

  countImapReply(status: 'OK' | 'NO' | 'BAD', code: string): void {
    this.child(`imap ${status} ${code}`, () => this.imapReplies.labels({ status, code })).inc();
  }

  private child(key: string, make: () => { inc(): void }): { inc(): void } {
    let c = this.replyChildren.get(key);
    if (!c) this.replyChildren.set(key, (c = make()));
    return c;
  }

  readonly pop3Sessions = new Gauge({ name: 'hikyaku_pop3_sessions', help: 'Open POP3 sessions', registers: [this.registry] });
  readonly imapSessions = new Gauge({ name: 'hikyaku_imap_sessions', help: 'Open IMAP sessions', registers: [this.registry] });
  readonly logins = new Counter({ name: 'hikyaku_auth_logins_total', help: 'Login attempts by protocol and result', registers: [this.registry], labelNames: ['protocol', 'result'] });
  readonly pop3RetrBytes = new Counter({ name: 'hikyaku_pop3_retr_bytes_total', help: 'Bytes sent by POP3 RETR and TOP', registers: [this.registry] });
  readonly deliveryLimit = new Gauge({ name: 'hikyaku_delivery_concurrency_limit', help: 'Current adaptive delivery concurrency limit', registers: [this.registry] });
  readonly breakerOpen = new Gauge({ name: 'hikyaku_delivery_breaker_open', help: '1 while the mailbox store circuit breaker of any delivery thread is open', registers: [this.registry], aggregator: 'max' });
}

/** The Prometheus text of this thread's metrics and the snapshots of the others (delivery threads). */
export async function mergeMetrics(main: Metrics, others: readonly MetricsSnapshot[]): Promise<{ contentType: string; text: string }> {
  if (others.length === 0) return { contentType: main.registry.contentType, text: await main.registry.metrics() };
  const merged = AggregatorRegistry.aggregate([await main.snapshot(), ...others]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}
