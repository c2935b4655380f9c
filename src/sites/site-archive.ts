import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { HikyakuError } from '../mail/index.js';
import { byteLimit, quotaError } from './site-files.js';
import { sitePath } from './site-path.js';

/** Most entries an uploaded archive may have. */
export const MAX_ENTRIES = 10_000;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

const refuse = (why: string) => new HikyakuError('ERR_SITE_ARCHIVE', why);

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err ? reject(refuse(`it is not a ZIP file (${err.message})`)) : resolve(zip))),
  );
}

function entries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      if (out.length > MAX_ENTRIES) return reject(refuse(`it has more than ${MAX_ENTRIES} entries`));
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', (err: Error) => reject(refuse(err.message)));
    zip.readEntry();
  });
}

const readStream = (zip: yauzl.ZipFile, entry: yauzl.Entry) =>
  new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(refuse(`${entry.fileName}: ${err.message}`)) : resolve(stream))));

// What archivers add that no website wants: macOS resource forks and folder settings.
const JUNK = /(^|\/)(__MACOSX(\/|$)|\.DS_Store$|Thumbs\.db$)/;

/**
 * Unpacks a ZIP of a website into `into`, refusing the whole archive when an entry would
 * land outside it (zip-slip), is a symbolic link, is encrypted, or when it holds more than
 * `quota` bytes (0: no limit) uncompressed, counted as the bytes come out (a zip bomb stops
 * there, whatever its header claims). An archive of one folder is unpacked from inside it.
 */
export async function extractSite(file: string, into: string, quota: number): Promise<{ files: number; bytes: number }> {
  const zip = await open(file);
  try {
    const all = (await entries(zip)).filter((e) => !JUNK.test(e.fileName));
    const planned = all.map((e) => {
      if ((e.externalFileAttributes >>> 16 & S_IFMT) === S_IFLNK) throw refuse(`${e.fileName} is a symbolic link`);
      if (e.generalPurposeBitFlag & 1) throw refuse(`${e.fileName} is encrypted`);
      let path: string;
      try {
        path = sitePath(e.fileName);
      } catch (err) {
        throw refuse((err as Error).message.replace(/^[^:]*: /, ''));
      }
      return { entry: e, path, folder: e.fileName.endsWith('/') };
    });
    const files = planned.filter((p) => !p.folder && p.path);
    if (files.length === 0) throw refuse('it holds no files');
    // One top folder around everything (how "compress folder" makes them): unpack its content.
    const top = files[0]!.path.split('/')[0]!;
    const strip = files.every((f) => f.path.startsWith(`${top}/`)) ? top.length + 1 : 0;
    if (quota > 0 && files.reduce((n, f) => n + f.entry.uncompressedSize, 0) > quota) throw quotaError(quota);
    let bytes = 0;
    for (const f of files) {
      const target = join(into, f.path.slice(strip));
      const counter = byteLimit(quota > 0 ? quota - bytes : Number.MAX_SAFE_INTEGER, () => quotaError(quota));
      try {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(await readStream(zip, f.entry), counter, createWriteStream(target, { mode: 0o644, flags: 'wx' }));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Two entries for one name, or a file where another entry wants a folder.
        if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw refuse(`${f.entry.fileName} clashes with another entry`);
        throw err;
      }
      bytes += counter.bytes;
    }
    return { files: files.length, bytes };
  } finally {
    zip.close();
  }
}
