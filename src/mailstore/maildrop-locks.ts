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

/**
 * The maildrop locks of one node's processes, held by the main process: each lock names its
 * owner (a process), so a worker that dies gives back what it held.
 */
export class MaildropLockTable {
  private readonly owners = new Map<number, string>();

  acquire(accountId: number, owner: string): boolean {
    if (this.owners.has(accountId)) return false;
    this.owners.set(accountId, owner);
    return true;
  }

  release(accountId: number, owner: string): void {
    if (this.owners.get(accountId) === owner) this.owners.delete(accountId);
  }

  /** Gives back every lock `owner` held; returns how many. */
  releaseAll(owner: string): number {
    let n = 0;
    for (const [accountId, o] of this.owners) if (o === owner && this.owners.delete(accountId)) n++;
    return n;
  }

  /** The locks as one owner takes them (the main process's own sessions). */
  for(owner: string): MaildropLocks {
    return {
      acquire: async (accountId) => this.acquire(accountId, owner),
      release: async (accountId) => this.release(accountId, owner),
    };
  }
}
