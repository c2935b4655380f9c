import type { AppendInput, MailStore } from './types.js';

export type Fault = { kind: 'none' } | { kind: 'fail' } | { kind: 'hang' } | { kind: 'slow'; ms: number };
/** Which calls a fault applies to: writes (append) or reads (status, list, read, expunge). */
export type FaultTarget = 'append' | 'reads';

/**
 * Wraps a MailStore and injects faults: fail at once, hang until the fault is cleared, or
 * add latency — on appends (delivery) or on reads (POP3/IMAP). Used by tests and load runs
 * to show that accepting mail and logging in do not depend on the mailbox store
 * (DESIGN.md principles 1, 4 and 7).
 */
export class FaultInjectingMailStore implements MailStore {
  private readonly faults: Record<FaultTarget, Fault> = { append: { kind: 'none' }, reads: { kind: 'none' } };
  private readonly waiting = new Set<() => void>();
  appendCalls = 0;

  constructor(private readonly inner: MailStore) {}

  setFault(fault: Fault, target: FaultTarget = 'append'): void {
    this.faults[target] = fault;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  private async inject(target: FaultTarget): Promise<void> {
    while (this.faults[target].kind === 'hang') await new Promise<void>((r) => this.waiting.add(r));
    const fault = this.faults[target];
    if (fault.kind === 'fail') throw new Error('injected mailbox store failure');
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
  }

  async append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    this.appendCalls++;
    await this.inject('append');
    return this.inner.append(input);
  }

  async status(accountId: number) {
    await this.inject('reads');
    return this.inner.status(accountId);
  }

  async list(accountId: number) {
    await this.inject('reads');
    return this.inner.list(accountId);
  }

  async read(accountId: number, uid: number) {
    await this.inject('reads');
    return this.inner.read(accountId, uid);
  }

  async expunge(accountId: number, uids: readonly number[]) {
    await this.inject('reads');
    return this.inner.expunge(accountId, uids);
  }

  close() {
    return this.inner.close();
  }
}
