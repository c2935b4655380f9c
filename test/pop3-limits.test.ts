import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pop3Client } from './helpers/pop3-client.js';
import { removeDir, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

describe('POP3 connection limit', () => {
  let dir: string;
  let t: TestService;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'pop3.maxClients': 2 });
  });

  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('past pop3.maxClients a client gets -ERR [SYS/TEMP] and is disconnected; a freed slot is used again', async () => {
    const first = await Pop3Client.open(t.pop3Port);
    const second = await Pop3Client.open(t.pop3Port);
    await assert.rejects(Pop3Client.open(t.pop3Port), /greeting: -ERR \[SYS\/TEMP\] Too many connections/);
    await first.quit();
    let third: Pop3Client | undefined;
    assert.ok(
      await waitFor(async () => {
        third = await Pop3Client.open(t.pop3Port).catch(() => undefined);
        return third !== undefined;
      }, 5000),
      'a slot is free again',
    );
    await third!.quit();
    await second.quit();
  });
});
