import { open, type FileHandle } from 'node:fs/promises';

/**
 * fsync discipline for files written once (spool bodies, mailbox blobs):
 * 1. write the file and fdatasync it (data and size on disk);
 * 2. fsync the directory that holds it, so the name survives a crash (POSIX leaves a new
 *    directory entry volatile until then) — done once per group commit, see GroupCommitter;
 * 3. only then commit the database row that refers to the file.
 * A crash before 3 leaves an orphan file, which is swept; never a row without its file.
 */
export class DirSyncer {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(private readonly enabled: boolean) {}

  async sync(dir: string): Promise<void> {
    if (!this.enabled) return;
    let handle = this.handles.get(dir);
    if (!handle) {
      handle = open(dir, 'r');
      this.handles.set(dir, handle);
    }
    await (await handle).sync();
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h).close().catch(() => undefined);
    this.handles.clear();
  }
}
