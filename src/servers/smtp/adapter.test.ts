import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { connectionOf } from './adapter.js';

test('smtp-server still has every private part the adapter patches', async () => {
  let seen: Record<string, string> | undefined;
  const server: SMTPServer = new SMTPServer({
    logger: false,
    authOptional: true,
    disableReverseLookup: true,
    onConnect(session, cb) {
      const c = connectionOf(server, session);
      seen = c && { send: typeof c.send, close: typeof c.close, handler_AUTH: typeof c.handler_AUTH, secure: typeof c.secure, remoteAddress: typeof c.remoteAddress };
      cb();
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('data', r));
  socket.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  assert.deepEqual(seen, { send: 'function', close: 'function', handler_AUTH: 'function', secure: 'boolean', remoteAddress: 'string' });
});
