import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDirectoryStore } from '../src/wiring.js';
import { testMessage } from './helpers/smtp-client.js';
import { loadWithKills } from './helpers/crash-load.js';
import { freePort, removeDir, seedDirectory, spawnServer, tempDir, testConfig, waitFor } from './helpers/service.js';
import { startDnsServer } from './helpers/dns-server.js';
import { startRemoteSmtp } from './helpers/remote-smtp.js';

const KILLS = 8;
const SENDERS = 2;
// Paced: relay opens one connection per transaction (~90 msg/s here), and the queue must drain in the test.
const PAUSE_MS = 15;

/**
 * Every message is forwarded to a remote domain, so each one goes MX → spool → local
 * expansion (spawning a remote entry with an SRS sender) → relay. The process is killed
 * at random moments meanwhile. Nothing that got a 250 may be lost; a repeated delivery to
 * the remote (killed between its 250 and our commit) is allowed, counted and reported.
 */
// Transactions to one destination in flight at once (relay.maxConnectionsPerDomain): what one kill can repeat.
const IN_FLIGHT = 4;

describe('crash safety of relay: SIGKILL while forwarding to a remote server', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;

  before(async () => {
    dns = await startDnsServer({ mx: { 'remote.test': [{ exchange: 'mx.remote.test', priority: 10 }] }, a: { 'mx.remote.test': ['127.0.0.5'] }, txt: {} });
  });

  after(async () => {
    await dns.close();
  });

  // At random moments, and exactly between a remote's 250 and our commit (the crash point).
  for (const mode of ['random', 'after-relay'] as const) {
    test(`${mode === 'random' ? 'random kills' : 'kills right after the remote\'s 250'}, ${KILLS}; every accepted message reaches the remote; repeats at most ${IN_FLIGHT} per kill`, async () => {
      const dir = tempDir();
      let server: ChildProcess | undefined;
      let remote: Awaited<ReturnType<typeof startRemoteSmtp>> | undefined;
      try {
        const store = openDirectoryStore(testConfig(dir));
        await seedDirectory(store, 'crash.test', ['fw']);
        await store.setForward('fw@crash.test', ['sink@remote.test'], false);
        await store.close();
        const port = await freePort();
        const relayPort = await freePort();
        remote = await startRemoteSmtp('127.0.0.5', relayPort, dir + '/remote-tls');
        const env = {
          // Only the roles under test: every other listener would take a port another test's restart may want back.
          HIKYAKU_ROLES: 'mx,delivery',
          HIKYAKU_MX_PORT: String(port),
          HIKYAKU_HOSTNAME: 'mx.crash.test',
          HIKYAKU_DELIVERY_POLL_MS: '50',
          HIKYAKU_RELAY_PORT: String(relayPort),
          HIKYAKU_RELAY_DNS_SERVERS: `127.0.0.1:${dns.port}`,
          HIKYAKU_RELAY_RETRY_BASE_MS: '50',
          HIKYAKU_RELAY_RETRY_MAX_MS: '200',
          HIKYAKU_RELAY_MAX_CONNECTIONS_PER_DOMAIN: String(IN_FLIGHT),
        };
        const load = await loadWithKills({
          port,
          senders: SENDERS,
          kills: KILLS,
          killEveryMs: 600,
          pauseMs: PAUSE_MS,
          selfKilling: mode === 'after-relay',
          spawn: () => spawnServer(dir, mode === 'after-relay' ? { ...env, HIKYAKU_FAULT_CRASH_AT: 'after-relay:0.05' } : env),
          next: (n, seq) => ({ id: `r${n}-${seq}`, from: 'someone@client.test', to: ['fw@crash.test'], body: testMessage(`r${n}-${seq}`, 2048) }),
        });
        server = load.server;
        if (mode === 'after-relay') {
          // The last incarnation still has its crash point armed: drain with a clean one.
          const gone = new Promise((r) => server!.once('exit', r));
          server.kill('SIGKILL');
          await gone;
          server = await spawnServer(dir, env);
        }
        const accepted = new Set(load.accepted.keys());
        const { inDoubt } = load;
        assert.ok(accepted.size > KILLS * 10, `enough load: ${accepted.size} messages accepted`);

        const received = remote.received;
        const counts = () => {
          const m = new Map<string, number>();
          for (const r of received) {
            const tid = /X-Test-Id: (\S+)/.exec(r.body.toString())![1]!;
            m.set(tid, (m.get(tid) ?? 0) + 1);
          }
          return m;
        };
        const relayed = await waitFor(() => [...accepted].every((id) => counts().has(id)), 120_000, 200);
        assert.ok(relayed, 'every accepted message relayed');
        const exit = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
        server.kill('SIGTERM');
        assert.equal(await exit, 0);
        server = undefined;

        const found = counts();
        let repeats = 0;
        for (const [tid, n] of found) {
          assert.ok(accepted.has(tid) || inDoubt.has(tid), `${tid} relayed but never got 250 nor was in doubt`);
          repeats += n - 1;
        }
        assert.ok(received.every((r) => /^SRS0=/i.test(r.mailFrom) && r.rcpts.join() === 'sink@remote.test'));
        // A repeat needs a kill between the remote's 250 and our commit: at most the transactions in flight then.
        assert.ok(repeats <= KILLS * IN_FLIGHT, `${repeats} repeats for ${KILLS} kills with at most ${IN_FLIGHT} transactions in flight`);
        if (mode === 'after-relay') assert.ok(repeats >= 1, 'a kill right after the remote\'s 250 repeats that transaction');
        console.log(`relay crash test (${mode}): ${accepted.size} accepted, ${inDoubt.size} in doubt at a kill, ${found.size} distinct relayed, ${repeats} repeated deliveries to the remote`);
      } finally {
        server?.kill('SIGKILL');
        await remote?.close();
        removeDir(dir);
      }
    });
  }
});
