/**
 * Memory per idle session: the server's resident (RSS) and proportional (PSS) memory
 * before and after opening N idle sessions — SMTP after EHLO, POP3 after login.
 */
import { Pop3Client } from '../test/helpers/pop3-client.js';
import { SmtpClient } from '../test/helpers/smtp-client.js';
import { BENCH_PASSWORD, pool, type BenchServer } from './server.js';

export interface IdleResult {
  readonly protocol: 'smtp' | 'pop3';
  readonly sessions: number;
  readonly rssBytesPerSession: number;
  readonly pssBytesPerSession: number;
}

const settle = () => new Promise((r) => setTimeout(r, 1000));

export async function idleSessions(server: BenchServer, protocol: 'smtp' | 'pop3', sessions: number): Promise<IdleResult> {
  await settle();
  const before = server.memory();
  const open: { destroy(): void }[] = [];
  const users = [...server.popAccounts.keys()];
  // Logins verify argon2id hashes: a few at a time, as a real morning rush would.
  await pool(Array.from({ length: sessions }), protocol === 'pop3' ? 16 : 64, async (_, i) => {
    if (protocol === 'smtp') {
      open.push(await SmtpClient.open(server.smtpPort));
    } else {
      const c = await Pop3Client.open(server.pop3Port);
      // Several sessions per mailbox would hit [IN-USE]: one mailbox per session.
      await c.login(users[i]!, BENCH_PASSWORD);
      open.push(c);
    }
  });
  await settle();
  const after = server.memory();
  for (const c of open) c.destroy();
  return {
    protocol,
    sessions,
    rssBytesPerSession: Math.round((after.rss - before.rss) / sessions),
    pssBytesPerSession: Math.round((after.pss - before.pss) / sessions),
  };
}
