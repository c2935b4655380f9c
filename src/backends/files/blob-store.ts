/**
 * Message bodies as files in a directory every node shares (a network file system), for
 * the PostgreSQL mailbox store (`storage.bodies = file:///PATH`). Each object is written to a
 * temporary name, fdatasync'ed, renamed into place and its directory fsync'ed before `put`
 * resolves, so a body a row refers to survives a crash of any node.
 */
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../mailstore/index.js';

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

export class FileBlobStore implements BlobStore {
  readonly where: string;

  constructor(
    private readonly dir: string,
    private readonly fsync = true,
  ) {
    this.where = `file://${dir}`;
  }

  /** `dir/<last two characters>/<name>` (a temporary `<name>.tmp` beside it): a few hundred subdirectories, never one of millions of files. */
  private pathOf(name: string): { sub: string; path: string } {
    if (!NAME.test(name)) throw new Error(`not a body name: ${JSON.stringify(name)}`);
    const sub = join(this.dir, name.replace(/\.tmp$/, '').slice(-2));
    return { sub, path: join(sub, name) };
  }

  async put(name: string, data: Buffer): Promise<void> {
    const { sub, path } = this.pathOf(name);
    await mkdir(sub, { recursive: true });
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(data);
      if (this.fsync) await file.datasync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    if (this.fsync) {
      const d = await open(sub, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  }

  async get(name: string): Promise<Buffer> {
    return readFile(this.pathOf(name).path);
  }

  async delete(names: readonly string[]): Promise<void> {
    for (const name of names) await unlink(this.pathOf(name).path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  }

  async *list(before: number): AsyncIterable<string> {
    const subs = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    for (const sub of subs) {
      for (const name of await readdir(join(this.dir, sub)).catch(() => [] as string[])) {
        const s = await stat(join(this.dir, sub, name)).catch(() => undefined);
        if (s?.isFile() && s.mtimeMs < before) yield name;
      }
    }
  }
}
