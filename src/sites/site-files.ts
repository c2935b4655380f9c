import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { HikyakuError } from '../mail/index.js';
import { sitePath } from './site-path.js';

export interface SiteFile {
  /** Relative to the site's root, with / between folders. */
  readonly path: string;
  readonly size: number;
  readonly modifiedAt: number;
}

// A listing stops here (a site this large is managed over SFTP, not on a page).
const MAX_LISTED = 20_000;

/** Counts bytes through a stream and fails it once they pass `limit`. */
export function byteLimit(limit: number, onPass: () => Error): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      t.bytes += chunk.length;
      if (t.bytes > limit) return done(onPass());
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

export const quotaError = (quota: number) => new HikyakuError('ERR_SITE_QUOTA', `at most ${quota} bytes (${(quota / 1048576).toFixed(1)} MiB) in all`);

/**
 * The hosted websites' files under `root/<domain>/`, as uploads change them: every write goes
 * to a temporary file first and is renamed into place (a page is never served half-written),
 * the site's quota is checked while the bytes arrive, and changes to one site run one at a time.
 */
export class SiteFiles {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  /** The site's folder. */
  dir(domain: string): string {
    return join(this.root, domain);
  }

  /** A temporary name beside the sites (same file system, never served: no hosted domain starts with a dot). */
  async temp(): Promise<string> {
    const dir = join(this.root, '.tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomBytes(9).toString('hex'));
  }

  /** Runs `fn` after the site's earlier changes. */
  exclusive<T>(domain: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.locks.get(domain) ?? Promise.resolve();
    const next = prior.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(domain, settled);
    void settled.then(() => {
      if (this.locks.get(domain) === settled) this.locks.delete(domain);
    });
    return next;
  }

  /** Every file of the site (symbolic links are not followed), sorted by path. */
  async list(domain: string): Promise<SiteFile[]> {
    const out: SiteFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.dir(domain), rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (out.length >= MAX_LISTED) return;
        const path = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path);
        else if (e.isFile()) {
          const s = await stat(join(this.dir(domain), path)).catch(() => undefined);
          if (s) out.push({ path, size: s.size, modifiedAt: s.mtimeMs });
        }
      }
    };
    await walk('');
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The site's size: every file's bytes. */
  async usage(domain: string): Promise<number> {
    return (await this.list(domain)).reduce((n, f) => n + f.size, 0);
  }

  /** Where a site path is on disk, refusing a path whose folders are not folders (a file or a link in the way). */
  async resolve(domain: string, raw: string): Promise<{ path: string; abs: string }> {
    const path = sitePath(raw);
    const abs = join(this.dir(domain), path);
    let dir = this.dir(domain);
    for (const segment of path.split('/').slice(0, -1)) {
      dir = join(dir, segment);
      const s = await lstat(dir).catch(() => undefined);
      if (s && !s.isDirectory()) throw new HikyakuError('ERR_SITE_PATH', `${segment} is a file, not a folder`);
    }
    return { path, abs };
  }

  /** Writes a file from `body`, within `quota` bytes for the whole site (0: no limit); true if it is new. */
  write(domain: string, raw: string, body: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, quota: number): Promise<{ created: boolean; size: number }> {
    return this.exclusive(domain, async () => {
      const { path, abs } = await this.resolve(domain, raw);
      if (!path) throw new HikyakuError('ERR_SITE_PATH', 'a file needs a name');
      const existing = await lstat(abs).catch(() => undefined);
      if (existing?.isDirectory()) throw new HikyakuError('ERR_SITE_PATH', `${path} is a folder`);
      const room = quota > 0 ? quota - ((await this.usage(domain)) - (existing?.size ?? 0)) : Number.MAX_SAFE_INTEGER;
      const tmp = await this.temp();
      const counter = byteLimit(Math.max(0, room), () => quotaError(quota));
      try {
        await pipeline(body as NodeJS.ReadableStream, counter, createWriteStream(tmp, { mode: 0o644 }));
        await mkdir(dirname(abs), { recursive: true });
        await rename(tmp, abs);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      return { created: !existing, size: counter.bytes };
    });
  }

  /** Deletes a file, or a folder with everything in it. */
  remove(domain: string, raw: string): Promise<void> {
    return this.exclusive(domain, async () => {
      const { path, abs } = await this.resolve(domain, raw);
      if (!path || !(await lstat(abs).catch(() => undefined))) throw new HikyakuError('ERR_SITE_FILE_UNKNOWN', raw);
      await rm(abs, { recursive: true, force: true });
    });
  }

  /** Puts a whole new site in place of the old one at once: `fill` writes it into a new folder first. */
  replace<T>(domain: string, fill: (folder: string) => Promise<T>): Promise<T> {
    return this.exclusive(domain, async () => {
      const fresh = await this.temp();
      await mkdir(fresh, { recursive: true });
      let result: T;
      try {
        result = await fill(fresh);
      } catch (err) {
        await rm(fresh, { recursive: true, force: true });
        throw err;
      }
      const old = await this.temp();
      await rename(this.dir(domain), old).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(fresh, this.dir(domain));
      await rm(old, { recursive: true, force: true });
      return result;
    });
  }
}
