import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDirectoryStore, openMailStore } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { Pop3Client } from '../helpers/pop3-client.js';
import { freePort, hikyaku, mailboxMessages, removeDir, seedDirectory, spawnServer, tempDir, testConfig, waitFor } from '../helpers/service.js';

/**
 * The fault campaign: the real `hikyaku start` process, as shipped (delivery threads,
 * fsync, default deadlines), with the shipped storage-fault rehearsal (`--fault`) on the
 * mailbox store, under load from real SMTP clients, a POP3 reader probing meanwhile. Then
 * the fault ends (`hikyaku fault clear`, no restart) and every scenario checks the
 * promises: every 250 is in its mailbox exactly once, no client saw a permanent error for
 * a temporary cause, every reader answered within its deadline (pop3.storeTimeoutMs, 1.5 s,
 * plus a margin), and the service recovered by itself and still stops gracefully.
 */
interface Scenario {
  readonly name: string;
  readonly fault: string;
  readonly senders: number;
  readonly messages: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'mailbox store hangs', fault: 'hang', senders: 4, messages: 120 },
  { name: 'mailbox store fails every call', fault: 'fail', senders: 4, messages: 120 },
  { name: 'mailbox store 10x slower under 3x load', fault: 'slow:10x', senders: 12, messages: 360 },
];
const READER_DEADLINE_MS = 1500 + 1500;
const results: string[] = [];

describe('fault campaign on the real process', () => {
  after(() => {
    console.log(['fault | accepted | lost | duplicated | permanent errors | longest reader answer | time to recover', ...results].join('\n'));
  });

  for (const s of SCENARIOS) {
    test(`${s.name}: nothing lost or doubled, no permanent error, readers answer in time`, async () => {
      const dir = tempDir();
      const [port, pop3Port] = [await freePort(), await freePort()];
      const env = { HIKYAKU_MX_PORT: String(port), HIKYAKU_POP3_PORT: String(pop3Port), HIKYAKU_HOSTNAME: 'mx.campaign.test' };
      const store = openDirectoryStore(testConfig(dir));
      const ids = await seedDirectory(store, 'campaign.test', ['a', 'b', 'c', 'd']);
      await store.close();
      let server: ChildProcess | undefined = await spawnServer(dir, env, [], ['--fault', `mailstore=${s.fault}`]);
      try {
        const accepted = new Map<string, string>();
        let permanent = 0;
        let next = 0;
        const addresses = [...ids.keys()];
        const senders = Array.from({ length: s.senders }, async () => {
          const c = await SmtpClient.open(port);
          while (next < s.messages) {
            const n = next++;
            const id = `${s.fault}-${n}`;
            const r = await c.send('s@client.test', [addresses[n % addresses.length]!], testMessage(id, 4096));
            if (r.reply.code === 250) accepted.set(id, addresses[n % addresses.length]!);
            else if (r.reply.code >= 500) permanent++;
          }
          await c.quit();
        });
        // A reader logs in and asks for its mailbox while the store misbehaves.
        let longestReader = 0;
        const reader = (async () => {
          const pop = await Pop3Client.open(pop3Port);
          for (const cmd of ['USER a@campaign.test', 'PASS test-password', 'STAT', 'LIST', 'QUIT']) {
            const started = Date.now();
            const reply = (await pop.command(cmd)) as string;
            longestReader = Math.max(longestReader, Date.now() - started);
            if (cmd.startsWith('PASS')) assert.match(reply, /^\+OK/, 'logging in does not need the mailbox store');
            if (reply.startsWith('-ERR')) assert.match(reply, /^-ERR \[SYS\/TEMP\]/, `a temporary error, clearly marked: ${reply}`);
          }
          pop.destroy();
        })();
        await Promise.all([...senders, reader]);
        assert.equal(accepted.size, s.messages, 'every message accepted while the store misbehaves');

        const faultEnded = Date.now();
        const cleared = await hikyaku(dir, ['fault', 'clear']);
        assert.equal(cleared.code, 0, cleared.stderr);
        const mailStore = openMailStore(testConfig(dir));
        const count = async () => {
          let n = 0;
          for (const id of ids.values()) n += (await mailStore.list(id)).length;
          return n;
        };
        try {
          assert.ok(await waitFor(async () => (await count()) >= accepted.size, 120_000, 250), `delivered after the fault: ${await count()} of ${accepted.size}`);
          const recoverMs = Date.now() - faultEnded;
          const seen = new Map<string, number>();
          for (const [address, id] of ids) {
            for (const m of await mailboxMessages(mailStore, id)) {
              const key = `${/X-Test-Id: (\S+)/.exec(m)![1]!} ${address}`;
              seen.set(key, (seen.get(key) ?? 0) + 1);
            }
          }
          const lost = [...accepted].filter(([id, to]) => !seen.has(`${id} ${to}`)).length;
          const duplicated = [...seen.values()].filter((n) => n > 1).length;
          results.push(`${s.fault} | ${accepted.size} | ${lost} | ${duplicated} | ${permanent} | ${longestReader} ms | ${(recoverMs / 1000).toFixed(1)} s, no restart`);
          assert.equal(lost, 0, 'nothing lost');
          assert.equal(duplicated, 0, 'nothing doubled');
          assert.equal(permanent, 0, 'no permanent error for a temporary cause');
          assert.ok(longestReader <= READER_DEADLINE_MS, `every reader answer within its deadline (longest ${longestReader} ms)`);
          const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
          server.kill('SIGTERM');
          assert.equal(await exited, 0, 'a graceful stop after the rehearsal');
          server = undefined;
        } finally {
          await mailStore.close();
        }
      } finally {
        server?.kill('SIGKILL');
        removeDir(dir);
      }
    });
  }
});
