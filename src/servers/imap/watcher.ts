import { withDeadline, type MailStore } from '../../mailstore/index.js';
import type { Logger } from '../../observability/index.js';

interface Watch {
  readonly folderId: number;
  known: number;
  readonly onChange: () => void;
}

/**
 * Tells IDLE sessions that their folder changed (RFC 2177): one cheap read of the watched
 * folders' modseqs every `pollMs`, however many sessions idle, whichever process or node
 * delivered the mail. A store that does not answer delays the news; nobody hangs on it.
 */
export class ChangeWatcher {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly store: MailStore,
    private readonly pollMs: number,
    private readonly deadlineMs: number,
    private readonly log: Logger,
  ) {}

  /** Calls `onChange` when the folder's modseq moves past `known`; returns the function that stops watching. */
  watch(folderId: number, known: number, onChange: () => void): () => void {
    const w: Watch = { folderId, known, onChange };
    this.watches.add(w);
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    return () => {
      this.watches.delete(w);
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async poll(): Promise<void> {
    if (this.polling || this.watches.size === 0) return;
    this.polling = true;
    try {
      const ids = [...new Set([...this.watches].map((w) => w.folderId))];
      const now = await withDeadline(this.store.highestModseqs(ids), this.deadlineMs);
      for (const w of this.watches) {
        const m = now.get(w.folderId);
        // A folder gone (deleted, renamed away) is a change too: the session finds out what.
        if (m === w.known) continue;
        w.known = m ?? -1;
        w.onChange();
      }
    } catch (err) {
      this.log.debug({ err }, 'IDLE check failed; trying again');
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watches.clear();
  }
}
