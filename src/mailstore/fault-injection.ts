import type { AppendInput, MailStore } from './types.js';

export type Fault = { kind: 'none' } | { kind: 'fail' } | { kind: 'hang' } | { kind: 'slow'; ms: number };

/**
 * Wraps a MailStore and injects faults on `append`: fail at once, hang until the fault
 * is cleared, or add latency. Used by tests and load runs to show that accepting mail
 * does not depend on the mailbox store (DESIGN.md principle 7).
 */
export class FaultInjectingMailStore implements MailStore {
  private fault: Fault = { kind: 'none' };
  private readonly waiting = new Set<() => void>();
  appendCalls = 0;

  constructor(private readonly inner: MailStore) {}

  setFault(fault: Fault): void {
    this.fault = fault;
    if (fault.kind !== 'hang') {
      for (const wake of this.waiting) wake();
      this.waiting.clear();
    }
  }

  async append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    this.appendCalls++;
    while (this.fault.kind === 'hang') await new Promise<void>((r) => this.waiting.add(r));
    const fault = this.fault;
    if (fault.kind === 'fail') throw new Error('injected mailbox store failure');
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    return this.inner.append(input);
  }

  status(accountId: number) {
    return this.inner.status(accountId);
  }

  list(accountId: number) {
    return this.inner.list(accountId);
  }

  read(accountId: number, uid: number) {
    return this.inner.read(accountId, uid);
  }

  expunge(accountId: number, uids: readonly number[]) {
    return this.inner.expunge(accountId, uids);
  }

  close() {
    return this.inner.close();
  }
}
