import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import ssh2, { type Attributes, type FileEntry, type SFTPWrapper } from 'ssh2';
import { HikyakuError } from '../../mail/index.js';
import { quotaError, type SiteFiles } from '../../sites/index.js';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;

/** An open file: reading one of the site's, or writing a new one into a temporary file, renamed into place at CLOSE. */
interface FileState {
  readonly kind: 'file';
  readonly fd: FileHandle;
  readonly target?: string;
  readonly temp?: string;
  /** Bytes the site may still grow by, and the largest end written. */
  readonly room: number;
  end: number;
  /** A write was refused (the quota): CLOSE then drops the upload. */
  failed?: boolean;
}
interface DirState {
  readonly kind: 'dir';
  entries: FileEntry[] | undefined;
}

const attrsOf = (s: Stats): Attributes => ({ mode: s.mode, uid: 0, gid: 0, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) });

function longname(name: string, s: Stats): string {
  const type = s.isDirectory() ? 'd' : '-';
  const perm = (m: number) => ['r', 'w', 'x'].map((c, i) => (m & (4 >> i) ? c : '-')).join('');
  const mode = type + perm((s.mode >> 6) & 7) + perm((s.mode >> 3) & 7) + perm(s.mode & 7);
  const date = s.mtime.toDateString().slice(4, 10) + ' ' + s.mtime.toTimeString().slice(0, 5);
  return `${mode} 1 site site ${String(s.size).padStart(8)} ${date} ${name}`;
}

/**
 * One SFTP session on one website (RFC draft-ietf-secsh-filexfer-02, as OpenSSH speaks it):
 * the site's folder is the whole file system the client sees (`..` at its root stays
 * there), links are neither followed nor made, an upload appears whole when its file is
 * closed, and the site's quota is checked as bytes arrive.
 */
export class SiteSftpSession {
  private readonly handles = new Map<number, FileState | DirState>();
  private next = 1;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly files: SiteFiles,
    private readonly domain: string,
    private readonly quota: number,
  ) {
    const on = (event: string, fn: (reqId: number, ...args: any[]) => Promise<void>) =>
      sftp.on(event as 'OPEN', (reqId: number, ...args: unknown[]) => {
        fn(reqId, ...args).catch((err: unknown) => this.fail(reqId, err));
      });
    // ssh2 leaves an SFTP channel open when the client ends it: close our side too.
    sftp.on('end', () => {
      sftp.end();
      void this.end();
    });
    on('REALPATH', async (id, path: string) => {
      const p = this.virtual(path);
      sftp.name(id, [{ filename: p, longname: p, attrs: {} as Attributes }]);
    });
    on('STAT', (id, path: string) => this.stat(id, path));
    on('LSTAT', (id, path: string) => this.stat(id, path));
    on('FSTAT', async (id, handle: Buffer) => {
      const h = this.handle(handle);
      if (h.kind !== 'file') return void sftp.status(id, STATUS_CODE.FAILURE, 'not a file');
      sftp.attrs(id, attrsOf(await h.fd.stat()));
    });
    on('SETSTAT', async (id) => void sftp.status(id, STATUS_CODE.OK));
    on('FSETSTAT', async (id) => void sftp.status(id, STATUS_CODE.OK));
    on('OPEN', (id, path: string, flags: number) => this.open(id, path, flags));
    on('READ', (id, handle: Buffer, offset: number, length: number) => this.read(id, handle, offset, length));
    on('WRITE', (id, handle: Buffer, offset: number, data: Buffer) => this.write(id, handle, offset, data));
    on('CLOSE', (id, handle: Buffer) => this.close(id, handle));
    on('OPENDIR', (id, path: string) => this.openDir(id, path));
    on('READDIR', (id, handle: Buffer) => this.readDir(id, handle));
    on('REMOVE', async (id, path: string) => {
      const abs = await this.real(path);
      if ((await lstat(abs)).isDirectory()) return void sftp.status(id, STATUS_CODE.FAILURE, 'that is a folder; use rmdir');
      await this.files.exclusive(this.domain, () => rm(abs));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('RMDIR', async (id, path: string) => {
      const abs = await this.real(path);
      if (abs === this.files.dir(this.domain)) return void sftp.status(id, STATUS_CODE.PERMISSION_DENIED, 'the site\'s own folder stays');
      await rmdir(abs);
      sftp.status(id, STATUS_CODE.OK);
    });
    on('MKDIR', async (id, path: string) => {
      await mkdir(await this.real(path));
      sftp.status(id, STATUS_CODE.OK);
    });
    on('RENAME', async (id, from: string, to: string) => {
      const [a, b] = [await this.real(from), await this.real(to)];
      await this.files.exclusive(this.domain, () => rename(a, b));
      sftp.status(id, STATUS_CODE.OK);
    });
    for (const unsupported of ['READLINK', 'SYMLINK']) on(unsupported, async (id) => void sftp.status(id, STATUS_CODE.OP_UNSUPPORTED, 'links are not part of a website here'));
  }

  /** The client's path as an absolute path of its view ('/' is the site's folder). */
  private virtual(path: string): string {
    return posix.normalize(posix.join('/', path || '.')).replace(/(.)\/$/, '$1');
  }

  /** Where a client's path is on disk, inside the site (parents must be folders, not links). */
  private async real(path: string): Promise<string> {
    await mkdir(this.files.dir(this.domain), { recursive: true });
    return (await this.files.resolve(this.domain, this.virtual(path))).abs;
  }

  private handle(handle: Buffer): FileState | DirState {
    const h = handle.length === 4 ? this.handles.get(handle.readUInt32BE(0)) : undefined;
    if (!h) throw new HikyakuError('ERR_SITE_FILE_UNKNOWN', 'no such handle');
    return h;
  }

  private add(state: FileState | DirState): Buffer {
    const id = this.next++;
    this.handles.set(id, state);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  }

  private fail(id: number, err: unknown): void {
    const e = err as NodeJS.ErrnoException & { code?: string };
    const code = e.code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : e.code === 'EACCES' || e.code === 'EPERM' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE;
    const message = err instanceof HikyakuError ? err.message : e.code === 'ENOENT' ? 'No such file' : e.code === 'ENOTEMPTY' ? 'The folder is not empty' : e.code === 'EEXIST' ? 'It exists already' : 'Failure';
    this.sftp.status(id, code, message);
  }

  private async stat(id: number, path: string): Promise<void> {
    const s = await lstat(await this.real(path));
    if (s.isSymbolicLink()) return void this.sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    this.sftp.attrs(id, attrsOf(s));
  }

  private async open(id: number, path: string, flags: number): Promise<void> {
    const abs = await this.real(path);
    const existing = await lstat(abs).catch(() => undefined);
    if (existing && !existing.isFile()) return void this.sftp.status(id, STATUS_CODE.FAILURE, 'not a file');
    if (!(flags & OPEN_MODE.WRITE)) {
      if (!existing) return void this.sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'No such file');
      return void this.sftp.handle(id, this.add({ kind: 'file', fd: await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW), room: 0, end: 0 }));
    }
    if (existing && flags & OPEN_MODE.EXCL) return void this.sftp.status(id, STATUS_CODE.FAILURE, 'It exists already');
    if (!existing && !(flags & OPEN_MODE.CREAT)) return void this.sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    const temp = await this.files.temp();
    const fd = await open(temp, 'w+', 0o644);
    // Without TRUNC the file is changed in place: start from its bytes.
    if (existing && !(flags & OPEN_MODE.TRUNC)) await fd.write(await readFile(abs), 0, undefined, 0);
    const used = await this.files.usage(this.domain);
    const room = this.quota > 0 ? this.quota - (used - (existing?.size ?? 0)) : Number.MAX_SAFE_INTEGER;
    this.sftp.handle(id, this.add({ kind: 'file', fd, target: abs, temp, room, end: existing && !(flags & OPEN_MODE.TRUNC) ? existing.size : 0 }));
  }

  private async read(id: number, handle: Buffer, offset: number, length: number): Promise<void> {
    const h = this.handle(handle);
    if (h.kind !== 'file') return void this.sftp.status(id, STATUS_CODE.FAILURE, 'not a file');
    const buf = Buffer.alloc(Math.min(length, 256 * 1024));
    const { bytesRead } = await h.fd.read(buf, 0, buf.length, offset);
    if (bytesRead === 0) return void this.sftp.status(id, STATUS_CODE.EOF);
    this.sftp.data(id, buf.subarray(0, bytesRead));
  }

  private async write(id: number, handle: Buffer, offset: number, data: Buffer): Promise<void> {
    const h = this.handle(handle);
    if (h.kind !== 'file' || !h.temp) return void this.sftp.status(id, STATUS_CODE.PERMISSION_DENIED, 'opened for reading');
    const end = Math.max(h.end, offset + data.length);
    if (end > h.room) {
      h.failed = true;
      return void this.sftp.status(id, STATUS_CODE.FAILURE, quotaError(this.quota).message);
    }
    await h.fd.write(data, 0, data.length, offset);
    h.end = end;
    this.sftp.status(id, STATUS_CODE.OK);
  }

  private async close(id: number, handle: Buffer): Promise<void> {
    const h = this.handle(handle);
    this.handles.delete(handle.readUInt32BE(0));
    if (h.kind === 'file') {
      await h.fd.close();
      if (h.temp && h.failed) {
        await rm(h.temp, { force: true });
        return void this.sftp.status(id, STATUS_CODE.FAILURE, quotaError(this.quota).message);
      }
      if (h.temp && h.target) {
        const { temp, target } = h;
        await this.files.exclusive(this.domain, async () => {
          await mkdir(dirname(target), { recursive: true });
          await rename(temp, target);
        });
      }
    }
    this.sftp.status(id, STATUS_CODE.OK);
  }

  private async openDir(id: number, path: string): Promise<void> {
    const abs = await this.real(path);
    if (!(await lstat(abs)).isDirectory()) return void this.sftp.status(id, STATUS_CODE.FAILURE, 'not a folder');
    const entries: FileEntry[] = [];
    for (const e of await readdir(abs, { withFileTypes: true })) {
      if (e.isSymbolicLink()) continue;
      const s = await lstat(join(abs, e.name)).catch(() => undefined);
      if (s) entries.push({ filename: e.name, longname: longname(e.name, s), attrs: attrsOf(s) });
    }
    this.sftp.handle(id, this.add({ kind: 'dir', entries }));
  }

  private async readDir(id: number, handle: Buffer): Promise<void> {
    const h = this.handle(handle);
    if (h.kind !== 'dir') return void this.sftp.status(id, STATUS_CODE.FAILURE, 'not a folder');
    if (!h.entries) return void this.sftp.status(id, STATUS_CODE.EOF);
    this.sftp.name(id, h.entries);
    h.entries = undefined;
  }

  /** Closes what the client left open; unfinished uploads are dropped. */
  async end(): Promise<void> {
    for (const h of this.handles.values()) {
      if (h.kind !== 'file') continue;
      await h.fd.close().catch(() => undefined);
      if (h.temp) await rm(h.temp, { force: true });
    }
    this.handles.clear();
  }
}
