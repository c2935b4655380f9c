import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { adaptReplies, connectionOf, type SmtpConnection } from './adapter.js';

test('smtp-server still has every private part the adapter patches', async () => {
  let seen: Record<string, string> | undefined;
  const server: SMTPServer = new SMTPServer({
    logger: false,
    authOptional: true,
    disableReverseLookup: true,
    onConnect(session, cb) {
      const c = connectionOf(server, session);
      seen = c && { socket: typeof c._socket?.cork, send: typeof c.send, close: typeof c.close, handler_AUTH: typeof c.handler_AUTH, secure: typeof c.secure, remoteAddress: typeof c.remoteAddress };
      cb();
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('data', r));
  socket.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  assert.deepEqual(seen, { socket: 'function', send: 'function', close: 'function', handler_AUTH: 'function', secure: 'boolean', remoteAddress: 'string' });
});

/** A connection whose socket records each write that reaches it: a group of chunks written together is one entry. */
function recordingConnection(): { connection: SmtpConnection; writes: string[][] } {
  const writes: string[][] = [];
  const socket = new Writable({
    writev(chunks, cb) {
      writes.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  const connection: SmtpConnection = { id: 'c', secure: false, remoteAddress: '127.0.0.1', _socket: socket, close() {}, send: (code, data) => void socket.write(`${code} ${String(data)}\r\n`) };
  return { connection, writes };
}

test('replies to pipelined MAIL, RCPT and DATA leave in one write; a 220 or 421 first lets out what is held, in order', async () => {
  const { connection, writes } = recordingConnection();
  adaptReplies(connection, () => undefined);
  connection.send(250, 'sender ok');
  connection.send(250, 'recipient ok');
  connection.send(354, 'go ahead');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, [['250 sender ok\r\n', '250 recipient ok\r\n', '354 go ahead\r\n']]);

  writes.length = 0;
  connection.send(250, 'ehlo');
  connection.send(220, 'ready to start TLS');
  connection.send(421, 'closing');
  assert.deepEqual(writes, [['250 ehlo\r\n'], ['220 ready to start TLS\r\n'], ['421 closing\r\n']], 'written before send returned, so before the handshake or close');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 3);
});
