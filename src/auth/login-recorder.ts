import type { LastLogin, SessionStore } from './sessions.js';

/**
 * Remembers each account's latest protocol login (POP3, SMTP submission) in memory and
 * writes them to the store every few seconds, so a busy POP3 server does not turn every
 * login into a write. Best effort: a store that fails costs the figure, never a login.
 */
export class LoginRecorder {
  private pending = new Map<string, LastLogin>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<SessionStore, 'recordLogins'>,
    private readonly flushMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  record(subject: string, login: LastLogin): void {
    this.pending.set(subject, login);
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.size === 0) return;
    this.pending = new Map();
    try {
      await this.store.recordLogins(batch);
    } catch (err) {
      this.onError(err);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
