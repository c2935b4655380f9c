import type { AppendInput, MailStore } from './types.js';
import { WrappedMailStore, type FaultTarget } from './wrapped.js';

export type Fault = { kind: 'none' } | { kind: 'fail' } | { kind: 'hang' } | { kind: 'slow'; ms: number } | { kind: 'slower'; factor: number };

/**
 * Reads a fault as an operator writes it (`fault.mailstore`, `hikyaku start --fault`):
 * `hang`, `fail`, `slow:250ms` (each call waits that much first) or `slow:10x` (each call
 * takes ten times as long as the store needed). Throws an Error saying what is allowed.
 */
export function parseFault(text: string): Fault {
  const t = text.trim();
  if (t === '' || t === 'none') return { kind: 'none' };
  if (t === 'hang' || t === 'fail') return { kind: t };
  const slow = /^slow:(\d{1,7})(ms|x)$/.exec(t);
  if (slow && slow[2] === 'ms') return { kind: 'slow', ms: Number(slow[1]) };
  if (slow && Number(slow[1]) >= 1) return { kind: 'slower', factor: Number(slow[1]) };
  throw new Error(`must be none, hang, fail, slow:<N>ms or slow:<N>x, got ${JSON.stringify(text)}`);
}

/** The fault as the operator wrote it, for logs and the start banner. */
export function describeFault(fault: Fault): string {
  return fault.kind === 'slow' ? `slow:${fault.ms}ms` : fault.kind === 'slower' ? `slow:${fault.factor}x` : fault.kind;
}
/**
 * Wraps a MailStore and injects faults: fail at once, hang until the fault is cleared, or
 * add latency — on appends (delivery) or on reads (POP3/IMAP). Used by tests, and shipped
 * (`fault.mailstore`) so an operator can rehearse a storage failure on a staging install
 * before a rollout: accepting mail and logging in must not depend on the mailbox store
 * (DESIGN.md principles 1, 4 and 7).
 */
export class FaultInjectingMailStore extends WrappedMailStore {
  private readonly faults: Record<FaultTarget, Fault> = { append: { kind: 'none' }, reads: { kind: 'none' } };
  private readonly waiting = new Set<() => void>();
  appendCalls = 0;

  constructor(private readonly inner: MailStore) {
    super();
  }

  setFault(fault: Fault, target: FaultTarget = 'append'): void {
    this.faults[target] = fault;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  /** Runs `call` under the fault of `target`; with none, straight through (the service always has this wrapper). */
  protected through<T>(target: FaultTarget, call: (store: MailStore) => Promise<T>): Promise<T> {
    return this.faults[target].kind === 'none' ? call(this.inner) : this.injected(target, () => call(this.inner));
  }

  private async injected<T>(target: FaultTarget, call: () => Promise<T>): Promise<T> {
    while (this.faults[target].kind === 'hang') await new Promise<void>((r) => this.waiting.add(r));
    const fault = this.faults[target];
    if (fault.kind === 'fail') throw new Error('injected mailbox store failure');
    if (fault.kind === 'slow') await sleep(fault.ms);
    if (fault.kind !== 'slower') return call();
    const started = performance.now();
    const result = await call();
    await sleep((performance.now() - started) * (fault.factor - 1));
    return result;
  }

  override append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    this.appendCalls++;
    return super.append(input);
  }

  close() {
    return this.inner.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
