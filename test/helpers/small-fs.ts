import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * A small file system of its own (tmpfs of `sizeKb`) mounted at `path`, so a test can fill
 * the disk under one store without touching the machine's. Needs root (CI runs as root);
 * returns undefined with the reason when mounting is not allowed here.
 */
export function mountSmallFs(path: string, sizeKb: number): { unmount(): void } | { skip: string } {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    return { skip: `cannot mount a small tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}` };
  }
  return {
    unmount() {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
    },
  };
}

/** Fills the file system under `file` until it has no room left; returns a function to free it. */
export function fillUp(file: string): () => void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { stdio: 'pipe' });
  } catch {
    // dd stops with "No space left on device": that is the point.
  }
  return () => execFileSync('rm', ['-f', file]);
}
