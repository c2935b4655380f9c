import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The structured logger. Fields are a fixed set: `cid` (connection), `qid` (queue entry),
 * `mid` (message), `tenant`, `domain`, `rcpt`, `err`.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: { svc: 'hikyaku' } }, destination);
}
