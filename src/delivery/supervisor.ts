import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/index.js';

export interface SupervisorOptions {
  /** The thread's entry module and its workerData. */
  readonly url: URL;
  readonly workerData: unknown;
  /** First restart delay after a thread died; doubles up to `maxRestartDelayMs`. */
  readonly restartDelayMs: number;
  readonly maxRestartDelayMs: number;
  /** How long a graceful stop may take before the thread is terminated. */
  readonly stopTimeoutMs: number;
}

/**
 * Keeps one worker thread running: a thread that dies (an uncaught error, a crash while
 * starting) is started again with backoff, so queued mail never waits for a restart of
 * the whole service. The thread says 'ready' once started and 'stopped' after a graceful
 * 'stop'; `stop()` never hangs on a thread that does not answer: it terminates it.
 * Messages to the thread ('wake') go to whichever incarnation runs.
 */
export class ThreadSupervisor {
  private worker: Worker | undefined;
  private stopping = false;
  private restarts = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly answers = new Map<number, (value: unknown) => void>();
  private nextQuestion = 0;
  /** How many times a thread became ready (1 + restarts that worked). */
  incarnations = 0;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the thread; resolves when it is ready (or, if it died starting, once a restart is scheduled). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const worker = new Worker(this.options.url, { workerData: this.options.workerData });
      this.worker = worker;
      let ready = false;
      worker.on('message', (m: unknown) => {
        if (isAnswer(m)) this.answers.get(m.answer)?.(m.value);
        if (m === 'ready') {
          ready = true;
          this.restarts = 0;
          this.incarnations++;
          resolve();
        }
      });
      worker.on('error', (err) => this.log.error({ err }, ready ? 'delivery thread failed' : 'delivery thread failed while starting'));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (this.stopping) return;
        const delay = Math.min(this.options.maxRestartDelayMs, this.options.restartDelayMs * 2 ** this.restarts++);
        this.log.error({ code, restartInMs: delay }, 'delivery thread exited; starting it again');
        this.timer = setTimeout(() => void this.start(), delay);
        resolve();
      });
    });
  }

  post(message: string): void {
    this.worker?.postMessage(message);
  }

  /**
   * Asks the running thread `{ ask, id }` and resolves with the value of its `{ answer: id,
   * value }`; undefined when no thread runs or none answers within `timeoutMs` (a scrape
   * must not wait on a stuck thread).
   */
  ask(ask: string, timeoutMs: number): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.resolve(undefined);
    const id = ++this.nextQuestion;
    return new Promise((resolve) => {
      const done = (value: unknown) => {
        clearTimeout(timer);
        this.answers.delete(id);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.answers.set(id, done);
      worker.postMessage({ ask, id });
    });
  }

  /** True while a thread runs (for tests and health checks). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const worker = this.worker;
    if (!worker) return;
    const stopped = new Promise<void>((r) => {
      worker.on('message', (m: unknown) => m === 'stopped' && r());
      worker.once('exit', () => r());
    });
    const timeout = new Promise<void>((r) => setTimeout(r, this.options.stopTimeoutMs).unref());
    worker.postMessage('stop');
    await Promise.race([stopped, timeout]);
    await worker.terminate();
  }
}

function isAnswer(m: unknown): m is { answer: number; value: unknown } {
  return typeof m === 'object' && m !== null && typeof (m as { answer?: unknown }).answer === 'number';
}
