import { Presets, SingleBar } from 'cli-progress';
import type { Io } from './output.js';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/** A progress bar on the terminal (cli-progress) for a job of `total` steps; nothing without a terminal. */
export function startProgress(io: Io, label: string, total: number): Progress {
  if (!io.progress || total === 0) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} entries, {eta_formatted} left`, stream: io.progress, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
