/**
 * The switch of the storage-fault rehearsal (wiring glue, like wiring.ts). DATA_DIR/fault
 * holds the mailbox store's fault (`mailstore=hang`); the service writes it at start from
 * `fault.mailstore` (and removes it when that is empty, so no rehearsal outlives a
 * restart), `hikyaku fault` changes it while the service runs, and every thread's store
 * reads it every second: a rehearsal ends without a restart, which is what it rehearses.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultInjectingMailStore, describeFault, parseFault, type Fault, type MailStore } from './mailstore/index.js';
import type { Logger } from './observability/index.js';

const FILE = 'fault';
const POLL_MS = 1000;

/** Parses `mailstore=SPEC` (what the file and `hikyaku fault` hold); throws a sentence. */
export function parseFaultSetting(text: string): Fault {
  const t = text.trim();
  if (t === '' || t === 'none') return { kind: 'none' };
  const m = /^mailstore=(.*)$/.exec(t);
  if (!m) throw new Error(`a fault is mailstore=hang|fail|slow:<N>x|slow:<N>ms|none, got ${JSON.stringify(text)}`);
  return parseFault(m[1]!);
}

/** Sets the fault for every thread of a service on `dataDir` (atomically); none removes the file. */
export function writeFaultSetting(dataDir: string, fault: Fault): void {
  const path = join(dataDir, FILE);
  if (fault.kind === 'none') return rmSync(path, { force: true });
  writeFileSync(`${path}.tmp`, `mailstore=${describeFault(fault)}\n`);
  renameSync(`${path}.tmp`, path);
}

function readSetting(text: string | undefined, log: Logger): Fault | undefined {
  try {
    return parseFaultSetting(text ?? '');
  } catch (err) {
    log.error({ err }, 'the fault file cannot be read; the fault stays as it was');
    return undefined;
  }
}

/** A mailbox store under the fault of DATA_DIR/fault, followed every second. */
class SwitchedMailStore extends FaultInjectingMailStore {
  private current = 'none';
  private readonly timer: NodeJS.Timeout;

  constructor(
    inner: MailStore,
    private readonly path: string,
    private readonly log: Logger,
  ) {
    super(inner);
    let initial: string | undefined;
    try {
      initial = readFileSync(path, 'utf8');
    } catch {
      initial = undefined;
    }
    this.apply(readSetting(initial, log));
    this.timer = setInterval(() => {
      readFile(this.path, 'utf8').then(
        (text) => this.apply(readSetting(text, this.log)),
        () => this.apply({ kind: 'none' }),
      );
    }, POLL_MS);
    this.timer.unref();
  }

  private apply(fault: Fault | undefined): void {
    if (!fault || describeFault(fault) === this.current) return;
    this.current = describeFault(fault);
    this.setFault(fault, 'append');
    this.setFault(fault, 'reads');
    if (fault.kind === 'none') this.log.warn('mailbox store fault rehearsal ended');
    else this.log.warn({ fault: `mailstore=${this.current}` }, 'FAULT INJECTION ON: every mailbox store call is affected; for rehearsals, never in production');
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    await super.close();
  }
}

/** Wraps the service's mailbox store so the fault rehearsal can switch it. */
export function switchedMailStore(store: MailStore, dataDir: string, log: Logger): MailStore {
  return new SwitchedMailStore(store, join(dataDir, FILE), log);
}
