import { fileURLToPath } from 'node:url';
import type { Config } from './config/index.js';
import { DirectoryCache } from './directory/index.js';
import { MaildropLockTable, parseFault, type MailStore } from './mailstore/index.js';
import { writeFaultSetting } from './fault-switch.js';
import type { Spool } from './queue/index.js';
import type { ThreadSupervisor } from './delivery/index.js';
import { SendingLimits } from './inbound/index.js';
import { MxServer, SubmissionServer, loadOrCreateTls } from './servers/index.js';
import { MemoryCounters } from './auth/index.js';
import { SessionWorkers } from './processes/index.js';
import { loginsFor, startReaders } from './wiring-readers.js';
import { Metrics, armCrashPoints, createLogger, type Logger } from './observability/index.js';
import { activityTotals, metricsScraper, startMetricsListener } from './wiring-metrics.js';
import { followQueueBreakdown, followQueueMetrics, sharedQueueStats } from './wiring-queue-metrics.js';
import { startPortal } from './wiring-portal.js';
import { configuredFault, openClusterState, openDirectoryStore, openMailStore, openPortalState, openSpool, serviceMailStore, srsSecret } from './wiring-stores.js';
import { deliveryService, retentionJob, startDeliveryThread } from './wiring-delivery.js';
import { startDns, startWeb } from './wiring-domains.js';

export { configuredFault, openDirectoryStore, openMailStore, openPortalState, openSpool, srsSecret } from './wiring-stores.js';
export { openDeliveryStack } from './wiring-delivery.js';

/**
 * The one wiring point: configuration → backends → services → listeners.
 * Layout of the data dir: directory.db, spool/ (spool.db, log/, messages/), mail/
 * (mailstore.db, blobs/), tls/, hikyaku.json.
 */
// The main thread waits at most this long for another process's lock when recording logins.
const LOGIN_STATE_BUSY_TIMEOUT_MS = 100;
// The session workers' entry (readers.processes), beside this file in dist/.
const SESSION_WORKER = fileURLToPath(new URL('./session-worker.js', import.meta.url));

export interface Listener {
  readonly role: string;
  readonly url: string;
  readonly port: number;
  readonly note: string;
}

export interface Service {
  readonly listeners: readonly Listener[];
  /** The mailbox store as this thread sees it; opened on first use. */
  readonly mailStore: MailStore;
  readonly spool: Spool;
  readonly directory: DirectoryCache;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Graceful: stop accepting, finish or hand back work in flight, close storage. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly log?: Logger;
  /** Wraps the mailbox store, e.g. with FaultInjectingMailStore in tests. */
  readonly wrapMailStore?: (store: MailStore) => MailStore;
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.log ?? createLogger(config['log.level']);
  const metrics = new Metrics().withProcessMetrics();
  const fault = configuredFault(config);
  if (fault) log.warn({ fault }, 'FAULT INJECTION ON: for rehearsals on staging, never in production');
  // The rehearsal's switch starts from the configuration: no fault outlives a restart.
  writeFaultSetting(config.dataDir, parseFault(config['fault.mailstore']));
  const directoryStore = openDirectoryStore(config, true);
  const directory = new DirectoryCache(directoryStore, config['directory.refreshMs'], log.child({ mod: 'directory' }), config['postmaster.mailbox']);
  await directory.start();
  const spool = openSpool(config);
  const recovered = await spool.recover();
  if (Object.values(recovered).some((n) => n > 0)) log.info(recovered, 'spool recovered after an unclean stop');
  // The mailbox store's housekeeping runs beside the start: a broken mail/ must not stop the MX.
  setImmediate(() => {
    void (async () => {
      const store = openMailStore(config);
      try {
        const swept = await store.recover();
        if (swept.orphans) log.info(swept, 'mailbox store: unreferenced body files removed');
      } finally {
        await store.close();
      }
    })().catch((err: unknown) => log.error({ err }, 'mailbox store housekeeping failed; delivery retries until the store works'));
  });
  // Opened only when used here (in-process delivery, tests): an MX whose delivery runs in
  // threads must start and accept even when the mailbox store's files are unavailable.
  let mailStoreHere: MailStore | undefined;
  const mailStore = (): MailStore => {
    if (!mailStoreHere) {
      // With delivery in threads, only readers (POP3) use this one, on the SMTP thread.
      const raw = serviceMailStore(config, config['delivery.threads'] > 0 && !options.wrapMailStore, log);
      mailStoreHere = options.wrapMailStore ? options.wrapMailStore(raw) : raw;
    }
    return mailStoreHere;
  };
  const listeners: Listener[] = [];
  const stops: (() => Promise<void>)[] = [];
  const deliveryThreads: ThreadSupervisor[] = [];
  const sessionWorkers: SessionWorkers[] = [];

  const needsTls = config.roles.some((r) => r === 'mx' || r === 'pop3' || r === 'imap' || r === 'submission' || r === 'web');
  // Protocol logins show as the accounts' "last login" in the portal: written in batches.
  const loginState = openPortalState(config, LOGIN_STATE_BUSY_TIMEOUT_MS);
  // On PostgreSQL the nodes count failed logins and messages sent together and lock maildrops for each other.
  const cluster = openClusterState(config, loginState, log.child({ mod: 'cluster' }));
  const sharedError = (what: string) => (err: unknown) => log.warn({ err }, `shared ${what} counts unavailable; this node counts by itself meanwhile`);
  // With session workers on the embedded store, this process keeps what their sessions share.
  const readerProcesses = config.roles.some((r) => r === 'pop3' || r === 'imap') && !options.wrapMailStore ? config['readers.processes'] : 1;
  const nodeState = readerProcesses > 1 && !cluster ? { counters: new MemoryCounters(), locks: new MaildropLockTable(), mailStore } : undefined;
  const logins = loginsFor(config, directory, loginState, cluster?.counters ?? nodeState?.counters, log);
  const authenticator = logins.authenticator;
  stops.push(async () => {
    await logins.stop();
    await cluster?.close();
    await loginState.close();
  });
  // Listeners first (stop accepting), then delivery (finish or hand back leases), then the stores.
  const shutdown = async (tolerant = false) => {
    for (const stop of stops) await (tolerant ? stop().catch(() => undefined) : stop());
    directory.stop();
    await spool.close();
    await mailStoreHere?.close();
    await directoryStore.close();
  };
  try {
    const tls = needsTls ? await loadOrCreateTls(config.dataDir, config.hostname, config['tls.cert'], config['tls.key']) : undefined;

    if (config.roles.includes('mx')) {
      const mx = new MxServer(
        {
          host: config['listen.host'],
          port: config['mx.port'],
          hostname: config.hostname,
          maxMessageBytes: config['smtp.maxMessageBytes'],
          maxRecipients: config['smtp.maxRecipients'],
          maxLineLength: config['smtp.maxLineLength'],
          maxHops: config['smtp.maxHops'],
          idleTimeoutSeconds: config['smtp.idleTimeoutSeconds'],
          maxSessionSeconds: config['smtp.maxSessionSeconds'],
          maxClients: config['smtp.maxClients'],
          srsSecret: srsSecret(config),
        },
        directory,
        spool,
        tls!,
        log.child({ mod: 'mx' }),
        metrics,
      );
      const address = await mx.listen();
      listeners.push({ role: 'mx', url: `smtp://${address.address}:${address.port}`, port: address.port, note: `STARTTLS, certificate ${tls!.source}` });
      stops.push(() => mx.close());
    }

    if (config.roles.includes('submission')) {
      const submission = new SubmissionServer(
        {
          host: config['listen.host'],
          port: config['submission.port'],
          tlsPort: config['submission.tlsPort'],
          hostname: config.hostname,
          maxMessageBytes: config['smtp.maxMessageBytes'],
          maxRecipients: config['submission.maxRecipients'],
          maxLineLength: config['smtp.maxLineLength'],
          maxHops: config['smtp.maxHops'],
          idleTimeoutSeconds: config['smtp.idleTimeoutSeconds'],
          maxSessionSeconds: config['smtp.maxSessionSeconds'],
          maxClients: config['smtp.maxClients'],
          plaintextLogin: config['submission.plaintextLogin'],
        },
        authenticator,
        directory,
        spool,
        new SendingLimits({
          perAccountPerHour: config['submission.maxMessagesPerHour'],
          perDomainPerHour: config['submission.maxMessagesPerHourPerDomain'],
          recipientsPerAccountPerHour: config['submission.maxRecipientsPerHour'],
        }, cluster?.counters, sharedError('sending')),
        tls!,
        log.child({ mod: 'submission' }),
        metrics,
      );
      const { plain, tls: implicit } = await submission.listen();
      listeners.push({ role: 'submission', url: `smtp://${plain.address}:${plain.port}`, port: plain.port, note: `STARTTLS, AUTH ${config['submission.plaintextLogin'] === 'never' ? 'after TLS only' : 'PLAIN LOGIN'}` });
      listeners.push({ role: 'submissions', url: `smtps://${implicit.address}:${implicit.port}`, port: implicit.port, note: 'implicit TLS' });
      stops.unshift(() => submission.close());
    }

    if (config.roles.includes('pop3') || config.roles.includes('imap')) {
      const readers = await startReaders(config, { authenticator, mailStore: mailStore(), tls: tls!, log, metrics, locks: cluster?.locks ?? nodeState?.locks.for('main') });
      listeners.push(...readers.listeners);
      stops.unshift(() => readers.close());
      if (readerProcesses > 1) {
        const workers = new SessionWorkers({ entry: SESSION_WORKER, count: readerProcesses - 1, init: { config }, state: nodeState }, log.child({ mod: 'readers' }));
        await workers.start();
        for (const [protocol, server] of readers.servers) server.handOff = (socket, secure) => workers.handOff(protocol, socket, secure, () => server.accept(socket, secure));
        sessionWorkers.push(workers);
        stops.unshift(() => workers.stop());
      }
    }

    if (config.roles.includes('dns')) {
      const dns = await startDns(config, directory, log.child({ mod: 'dns' }));
      listeners.push(dns.listener);
      stops.unshift(() => dns.close());
    }

    if (config.roles.includes('web')) {
      const web = await startWeb(config, directory, authenticator, tls!, log.child({ mod: 'web' }));
      listeners.push(...web.listeners);
      stops.unshift(() => web.close());
    }

    // Listeners before delivery: a rehearsal's crash points arm in the delivery threads at once.
    // One read of the queue's figures every few seconds at most, however many ask (gauges, status page).
    const queueStats = sharedQueueStats(spool, 4000);
    if (config.roles.includes('portal')) {
      const portal = await startPortal(config, { directory, authenticator, mailStore: mailStore(), spool, queueStats, metrics, scrape: metricsScraper({ metrics, deliveryThreads, sessionWorkers }), activity: activityTotals({ metrics, deliveryThreads, sessionWorkers }) }, log.child({ mod: 'portal' }));
      listeners.push(portal.listener);
      stops.unshift(() => portal.close());
    }

    if (config.roles.includes('delivery')) {
      const threads = options.wrapMailStore ? 0 : config['delivery.threads'];
      if (threads === 0) {
        const delivery = deliveryService(config, spool, mailStore(), directory, log.child({ mod: 'delivery' }), metrics);
        delivery.start();
        const retention = retentionJob(config, directory, mailStore(), log, metrics);
        stops.push(() => retention.stop());
        const stopBreakdown = followQueueBreakdown(spool, directory, metrics, log, config['metrics.queueBreakdownSeconds'] * 1000);
        stops.push(async () => stopBreakdown());
        stops.push(() => delivery.stop());
      }
      for (let i = 0; i < threads; i++) {
        const thread = await startDeliveryThread(config, i, spool, log);
        deliveryThreads.push(thread);
        stops.push(() => thread.stop());
      }
      listeners.push({ role: 'delivery', url: '-', port: 0, note: `${threads || 'main'} thread(s), up to ${config['delivery.concurrency']} deliveries in flight each` });
    }

    if (config['metrics.listen']) {
      const server = await startMetricsListener(config, { metrics, deliveryThreads, sessionWorkers, directory, spool, mailStore }, log.child({ mod: 'metrics' }));
      listeners.push(server.listener);
      stops.unshift(() => server.close());
    }

    const stopQueueMetrics = followQueueMetrics(queueStats, metrics, log);
    // Armed once started, so a rehearsal's crashes never stop the start itself.
    armCrashPoints(config['fault.crashAt']);

    return {
      listeners,
      get mailStore() {
        return mailStore();
      },
      spool,
      directory,
      metrics,
      log,
      async stop() {
        stopQueueMetrics();
        await shutdown();
      },
    };
  } catch (err) {
    // A start that fails half-way (a port taken) leaves nothing listening or open behind.
    await shutdown(true).catch(() => undefined);
    throw err;
  }
}
