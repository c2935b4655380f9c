import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { Config } from './config/index.js';
import { DirectoryCache } from './directory/index.js';
import type { MailStore } from './mailstore/index.js';
import type { Spool } from './queue/index.js';
import { DeliveryService, RemoteDelivery, RetentionJob, SmtpRelay, ThreadSupervisor } from './delivery/index.js';
import { Metrics, armCrashPoints, type Logger } from './observability/index.js';
import { newLeaseOwner } from './backends/sqlite/index.js';
import { openDirectoryStore, openSpool, serviceMailStore, srsSecret } from './wiring-stores.js';
import { followQueueBreakdown } from './wiring-queue-metrics.js';

// Wiring: the delivery workers (in threads or on the main thread) and what they use.
function relayResolver(config: Config): Resolver {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (config['relay.dnsServers']) resolver.setServers(config['relay.dnsServers'].split(','));
  return resolver;
}

export function deliveryService(config: Config, spool: Spool, mailStore: MailStore, directory: DirectoryCache, log: Logger, metrics: Metrics): DeliveryService {
  const owner = newLeaseOwner();
  const relay = new SmtpRelay(
    relayResolver(config),
    {
      hostname: config.hostname,
      port: config['relay.port'],
      smarthost: config['relay.smarthost'],
      smarthostUser: config['relay.smarthostUser'],
      smarthostPassword: config['relay.smarthostPassword'],
      smarthostCa: config['relay.smarthostCa'] ? readFileSync(config['relay.smarthostCa']) : undefined,
      maxConnectionsPerDestination: config['relay.maxConnectionsPerDomain'],
      connectTimeoutMs: config['relay.connectTimeoutMs'],
      replyTimeoutMs: config['relay.replyTimeoutMs'],
      connectionCacheMs: config['relay.connectionCacheMs'],
    },
    log.child({ mod: 'relay' }),
  );
  const remote = new RemoteDelivery(
    spool,
    directory,
    relay,
    {
      owner,
      hostname: config.hostname,
      leaseMs: config['delivery.leaseMs'],
      retryBaseMs: config['relay.retryBaseMs'],
      retryMaxMs: config['relay.retryMaxMs'],
      maxAgeMs: config['relay.maxQueueSeconds'] * 1000,
      delayWarningMs: config['relay.delayWarningSeconds'] * 1000,
    },
    log.child({ mod: 'relay' }),
    metrics,
  );
  return new DeliveryService(
    spool,
    mailStore,
    directory,
    remote,
    {
      owner,
      hostname: config.hostname,
      relayConcurrency: config['relay.concurrency'],
      srsSecret: srsSecret(config),
      concurrency: config['delivery.concurrency'],
      leaseMs: config['delivery.leaseMs'],
      pollMs: config['delivery.pollMs'],
      retryBaseMs: config['delivery.retryBaseMs'],
      retryMaxMs: config['delivery.retryMaxMs'],
      storeTimeoutMs: config['delivery.storeTimeoutMs'],
      maxAgeMs: config['delivery.maxQueueSeconds'] * 1000,
      delayWarningMs: config['delivery.delayWarningSeconds'] * 1000,
      quotaGraceMs: config['delivery.quotaGraceSeconds'] * 1000,
      autoReplyIntervalMs: config['delivery.autoReplyIntervalDays'] * 86_400_000,
      quotaWarningPercent: config['delivery.quotaWarningPercent'],
    },
    log,
    metrics,
  );
}

/** The domains' retention rules, applied by one delivery worker per process (the first thread, or the main one). */
export function retentionJob(config: Config, directory: DirectoryCache, mailStore: MailStore, log: Logger, metrics: Metrics): RetentionJob {
  const job = new RetentionJob(directory, mailStore, { intervalMs: config['delivery.retentionIntervalSeconds'] * 1000, batch: 500, storeTimeoutMs: config['delivery.storeTimeoutMs'] }, log.child({ mod: 'retention' }), metrics);
  job.start();
  return job;
}

/** Everything a delivery thread needs, on its own connections (see delivery-thread.ts). */
export async function openDeliveryStack(config: Config, log: Logger, index = 0): Promise<{ delivery: DeliveryService; metrics: Metrics; stop(): Promise<void> }> {
  armCrashPoints(config['fault.crashAt']);
  const directoryStore = openDirectoryStore(config, true);
  const directory = new DirectoryCache(directoryStore, config['directory.refreshMs'], log, config['postmaster.mailbox']);
  await directory.start();
  const spool = openSpool(config);
  const mailStore = serviceMailStore(config, false, log);
  const metrics = new Metrics();
  const delivery = deliveryService(config, spool, mailStore, directory, log, metrics);
  const retention = index === 0 ? retentionJob(config, directory, mailStore, log, metrics) : undefined;
  const stopBreakdown = index === 0 ? followQueueBreakdown(spool, directory, metrics, log, config['metrics.queueBreakdownSeconds'] * 1000) : undefined;
  return {
    delivery,
    metrics,
    async stop() {
      stopBreakdown?.();
      await retention?.stop();
      await delivery.stop();
      directory.stop();
      await spool.close();
      await mailStore.close();
      await directoryStore.close();
    },
  };
}

/** Starts a supervised delivery worker thread (restarted if it dies); its stop() is graceful, then firm. */
export async function startDeliveryThread(config: Config, index: number, spool: Spool, log: Logger): Promise<ThreadSupervisor> {
  const thread = new ThreadSupervisor(
    // A graceful stop waits up to 10 s for deliveries in flight (DeliveryService.stop), then hands back leases.
    { url: new URL('./delivery-thread.js', import.meta.url), workerData: { config, index }, restartDelayMs: 500, maxRestartDelayMs: 30_000, stopTimeoutMs: 20_000 },
    log.child({ mod: 'delivery', thread: index }),
  );
  await thread.start();
  spool.onCommit(() => thread.post('wake'));
  return thread;
}
