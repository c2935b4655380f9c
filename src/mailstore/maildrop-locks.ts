/**
 * Who holds a maildrop: a POP3 session locks its account's mailbox for its whole life
 * (RFC 1939 §8), and a second session, on this node or another, is told `[IN-USE]`.
 */
export interface MaildropLocks {
  /** True if this session now holds the lock; false if another session does. */
  acquire(accountId: number): Promise<boolean>;
  release(accountId: number): Promise<void>;
}

/** The locks of one process: enough when a single node serves POP3. */
export class LocalMaildropLocks implements MaildropLocks {
  private readonly held = new Set<number>();

  async acquire(accountId: number): Promise<boolean> {
    if (this.held.has(accountId)) return false;
    this.held.add(accountId);
    return true;
  }

  async release(accountId: number): Promise<void> {
    this.held.delete(accountId);
  }
}
