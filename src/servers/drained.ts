import type { Writable } from 'node:stream';

/**
 * Resolves when `sink` has room again ('drain') or is gone ('close'), whichever comes
 * first, and leaves no listener behind: a long RETR or FETCH waits hundreds of times.
 */
export function drained(sink: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      sink.off('drain', done).off('close', done);
      resolve();
    };
    sink.on('drain', done).on('close', done);
  });
}
