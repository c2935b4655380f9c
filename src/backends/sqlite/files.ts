import { open, type FileHandle } from 'node:fs/promises';
import { HikyakuError } from '../../mail/index.js';
import { sendsAsStored } from '../../pop3/index.js';

/**
 * A failed write as the spool's callers should see it: a full disk (file or database) is
 * ERR_SPOOL_FULL (RFC 3463 4.3.1, "mail system full"), anything else is passed on.
 */
export function spoolWriteError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  return ['ENOSPC', 'EDQUOT', 'SQLITE_FULL'].includes(code) ? new HikyakuError('ERR_SPOOL_FULL', code, { cause: err }) : err;
}

/**
 * Bodies up to this size are stored in the database row itself, larger ones as files.
 * Measured on the target disk: creating a new file durably (fdatasync + directory fsync)
 * runs at ~765/s, because each new file costs a filesystem journal commit, while a WAL
 * commit of many small rows costs one fdatasync of a reused file (~6,400/s). Large bodies
 * still stream to files, so they never sit whole in memory.
 */
export const INLINE_BODY_MAX = 128 * 1024;

/** The blobs.sendable value of a body held in memory (see StoredMessage.sendable); a body streamed to a file is not looked at (NULL). */
export const sendableColumn = (body: Buffer | undefined): number | null => (body && sendsAsStored(body) ? 1 : null);

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
      // A failed open (EMFILE, a directory not there yet) is not kept: the next sync tries again.
      handle.catch(() => this.handles.get(dir) === handle && this.handles.delete(dir));
    }
    await (await handle).sync();
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await h.then((f) => f.close()).catch(() => undefined);
    this.handles.clear();
  }
}
