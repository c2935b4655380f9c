import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { SmtpClient } from './smtp-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One message a crash-test sender submits: `seq` counts over all senders. */
export type NextMessage = (sender: number, seq: number) => { id: string; from: string; to: string[]; body: Buffer };

export interface CrashLoadResult {
  /** The server running after the last kill. */
  readonly server: ChildProcess;
  /** Id → recipients, for every message whose final dot got 250. */
  readonly accepted: Map<string, string[]>;
  /** Ids whose data was sent but whose reply was lost in a crash: may or may not be delivered. */
  readonly inDoubt: Set<string>;
  readonly attempted: Set<string>;
}

/**
 * Runs `senders` SMTP clients against `port` (reconnecting through restarts), kills the
 * server with SIGKILL `kills` times at random moments of `killEveryMs` ± half, restarting
 * it with `spawn` each time, then stops the senders. With `selfKilling`, the server kills
 * itself (armed crash points): each of its `kills` deaths is waited for (up to
 * `killEveryMs` × 20) and followed by a restart.
 */
export async function loadWithKills(o: {
  port: number;
  senders: number;
  kills: number;
  killEveryMs: number;
  pauseMs?: number;
  next: NextMessage;
  spawn: () => Promise<ChildProcess>;
  selfKilling?: boolean;
}): Promise<CrashLoadResult> {
  const accepted = new Map<string, string[]>();
  const inDoubt = new Set<string>();
  const attempted = new Set<string>();
  let running = true;
  let seq = 0;
  const sender = async (n: number) => {
    while (running) {
      let c: SmtpClient;
      try {
        c = await SmtpClient.open(o.port);
      } catch {
        await sleep(20);
        continue;
      }
      while (running) {
        const m = o.next(n, seq++);
        attempted.add(m.id);
        const r = await c.send(m.from, m.to, m.body);
        if (r.reply.code === 250) accepted.set(m.id, m.to);
        else if (r.reply.code === 0) {
          inDoubt.add(m.id);
          break;
        } else assert.fail(`unexpected reply ${r.reply.code} ${r.reply.text}`);
        if (o.pauseMs) await sleep(o.pauseMs);
      }
      c.destroy();
    }
  };
  // A server that kills itself may die again before it has even printed its banner.
  const spawn = async (): Promise<ChildProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await o.spawn();
      } catch (err) {
        if (!o.selfKilling || attempt >= 10) throw err;
      }
    }
  };
  let server = await spawn();
  const senders = Array.from({ length: o.senders }, (_, i) => sender(i));
  try {
    for (let k = 0; k < o.kills; k++) {
      const exited = new Promise<string | null>((r) => server.once('exit', (_code, signal) => r(signal)));
      if (o.selfKilling) {
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), o.killEveryMs * 20));
        const how = await Promise.race([exited, timeout]);
        assert.equal(how, 'SIGKILL', `the server killed itself at its crash point (kill ${k + 1} of ${o.kills})`);
      } else {
        await sleep(o.killEveryMs * (0.5 + Math.random()));
        server.kill('SIGKILL');
        await exited;
      }
      server = await spawn();
    }
  } finally {
    running = false;
    await Promise.all(senders);
  }
  return { server, accepted, inDoubt, attempted };
}
