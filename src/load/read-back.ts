/**
 * Reading back what the load generator sent: every message of each account, over POP3
 * (TOP n 0: the header is enough), counted by its X-Load-Id, so a rehearsal can tell what
 * was lost (accepted, not there) and what arrived twice.
 */
import { LoadPop3Client } from './pop3-client.js';

export interface ReadBack {
  /** How many times each X-Load-Id is in each account: `id address` → count. */
  readonly found: Map<string, number>;
  readonly messages: number;
  /** Accounts that could not be read, with why. */
  readonly unreadable: Record<string, string>;
}

export async function readBack(host: string, port: number, users: readonly string[], password: string, parallel = 8, timeoutMs = 30_000): Promise<ReadBack> {
  const found = new Map<string, number>();
  const unreadable: Record<string, string> = {};
  let messages = 0;
  let next = 0;
  const one = async (user: string) => {
    const c = await LoadPop3Client.open(host, port, timeoutMs);
    try {
      for (const line of [`USER ${user}`, `PASS ${password}`]) {
        const a = await c.command(line);
        if (!a.ok) throw new Error(`${line.split(' ')[0]}: -ERR ${a.text}`);
      }
      const list = await c.command('LIST', true);
      if (!list.ok) throw new Error(`LIST: -ERR ${list.text}`);
      for (const entry of list.lines) {
        const n = entry.split(' ')[0];
        const top = await c.command(`TOP ${n} 0`, true);
        if (!top.ok) throw new Error(`TOP ${n}: -ERR ${top.text}`);
        messages++;
        const id = top.lines.map((l) => /^X-Load-Id:\s*(\S+)/i.exec(l)?.[1]).find(Boolean);
        if (id) found.set(`${id} ${user}`, (found.get(`${id} ${user}`) ?? 0) + 1);
      }
      await c.command('QUIT');
    } finally {
      c.destroy();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(parallel, users.length) }, async () => {
      while (next < users.length) {
        const user = users[next++]!;
        try {
          await one(user);
        } catch (err) {
          unreadable[user] = (err as Error).message;
        }
      }
    }),
  );
  return { found, messages, unreadable };
}
