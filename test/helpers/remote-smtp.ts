import { SMTPServer } from 'smtp-server';
import { loadOrCreateTls } from '../../src/servers/index.js';

/** One transaction a remote server took (its final reply was 250). */
export interface Received {
  readonly host: string;
  readonly mailFrom: string;
  readonly rcpts: string[];
  readonly body: Buffer;
  readonly secure: boolean;
  readonly user?: string;
}

/** How the remote answers: undefined accepts; a reply line ("451 4.3.0 busy") refuses. */
export interface RemoteScript {
  rcpt?: (rcpt: string) => string | undefined;
  data?: (mailFrom: string, rcpts: string[]) => string | undefined;
  /** A slow server: each RCPT and the reply to the data wait this long. */
  delayMs?: number;
}

const pause = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function replyError(line: string): Error {
  const code = Number(line.slice(0, 3));
  return Object.assign(new Error(line.slice(4)), { responseCode: code });
}

/**
 * A "remote" mail server for relay tests: smtp-server with STARTTLS on `host:port`
 * (another 127.0.0.x address), answering as `script` says and keeping what it accepted.
 */
export async function startRemoteSmtp(
  host: string,
  port: number,
  tlsDir: string,
  script: RemoteScript = {},
  auth?: { user: string; pass: string },
): Promise<{ received: Received[]; script: RemoteScript; onAuth?: () => void; readonly connections: number; dropConnections(): void; close(): Promise<void> }> {
  const tls = await loadOrCreateTls(tlsDir, 'remote.test', '', '');
  const received: Received[] = [];
  const state: { script: RemoteScript; onAuth?: () => void; connections: number } = { script, connections: 0 };
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    logger: false,
    disableReverseLookup: true,
    authOptional: !auth,
    disabledCommands: auth ? [] : ['AUTH'],
    allowInsecureAuth: true,
    onAuth: (a, _s, cb) => (state.onAuth?.(), a.username === auth?.user && a.password === auth?.pass ? cb(null, { user: a.username }) : cb(new Error('bad credentials'))),
    onConnect: (_session, cb) => {
      state.connections++;
      cb();
    },
    onRcptTo: (address, _s, cb) => {
      const r = state.script.rcpt?.(address.address);
      void pause(state.script.delayMs).then(() => cb(r ? replyError(r) : undefined));
    },
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        await pause(state.script.delayMs);
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcpts = session.envelope.rcptTo.map((r) => r.address);
        const r = state.script.data?.(mailFrom, rcpts);
        if (r) return cb(replyError(r));
        received.push({ host, mailFrom, rcpts, body: Buffer.concat(chunks), secure: session.secure, user: session.user as string | undefined });
        cb(null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // A client killed mid-session (the crash tests) resets its connection; that is expected.
  server.on('error', () => undefined);
  return {
    received,
    get script() {
      return state.script;
    },
    set script(s: RemoteScript) {
      state.script = s;
    },
    set onAuth(f: (() => void) | undefined) {
      state.onAuth = f;
    },
    /** SMTP sessions opened to it so far. */
    get connections() {
      return state.connections;
    },
    /** Closes every open session from the server's side (as a server that drops idle clients). */
    dropConnections() {
      for (const c of (server as unknown as { connections: Set<{ close(): void }> }).connections) c.close();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
