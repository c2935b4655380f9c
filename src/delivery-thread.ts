/**
 * Entry of a delivery worker thread (wiring, like wiring.ts). The thread opens its own
 * storage connections, so the mailbox store's commits and fsyncs never run on the event
 * loop that answers SMTP (DESIGN.md principle 1), and delivery uses a second core.
 * Messages from the main thread: 'wake' (new mail committed), 'stop' (graceful), and
 * `{ ask: 'metrics', id }`, answered with this thread's metrics snapshot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config/index.js';
import { createLogger } from './observability/index.js';
import { openDeliveryStack } from './wiring-delivery.js';

const config = (workerData as { config: Config }).config;
const log = createLogger(config['log.level']).child({ mod: 'delivery', thread: (workerData as { index: number }).index });
const stack = await openDeliveryStack(config, log, (workerData as { index: number }).index);
stack.delivery.start();
parentPort!.on('message', (m: unknown) => {
  if (m === 'wake') stack.delivery.wake();
  if (typeof m === 'object' && m !== null && (m as { ask?: unknown }).ask === 'metrics') {
    const id = (m as { id: number }).id;
    void stack.metrics.snapshot().then((value) => parentPort!.postMessage({ answer: id, value }));
  }
  if (m === 'stop') {
    void stack.stop().then(() => parentPort!.postMessage('stopped'));
  }
});
parentPort!.postMessage('ready');
