import { createReadStream, statSync, type Stats } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib, { brotliCompressSync, createBrotliCompress, createGzip, gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8', '.xml': 'application/xml', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.avif': 'image/avif', '.ico': 'image/x-icon',
  '.pdf': 'application/pdf', '.woff': 'font/woff', '.woff2': 'font/woff2', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mp3': 'audio/mpeg', '.zip': 'application/zip',
  '.csv': 'text/csv; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.wasm': 'application/wasm',
};
const COMPRESSIBLE = /^(text\/|application\/(json|xml|javascript)|image\/svg)/;
// Below this, compressing costs more than it saves.
const MIN_COMPRESS = 1024;

// Files up to this size are kept in memory, up to CACHE_BYTES in all (their compressed forms, smaller, beside them).
const CACHE_FILE_MAX = 256 * 1024;
const CACHE_BYTES = 64 * 1024 * 1024;

/** What a request needs of a file, kept while the file's inode, size and mtime stay the same. */
interface Entry {
  readonly real: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly type: string;
  readonly etag: string;
  readonly lastModified: string;
  /** The bytes, for a small file. */
  readonly body?: Buffer;
  readonly compressed: Map<'br' | 'gzip', Buffer>;
  /** The headers of a whole 200 answer, made once. */
  readonly whole: Record<string, string>;
}

/**
 * Serves a hosted domain's website from `root/<domain>/` (RFC 9110): index.html for a
 * folder, the site's own 404.html, content types by extension, ETag and Last-Modified with
 * conditional requests, single byte ranges, and brotli or gzip for text. Nothing outside
 * the site's folder can be reached, by `..`, encoded or not, or by a symbolic link. Small
 * files are answered from memory, checked against the file with one stat per request (so
 * an upload is served at once), as nginx's open_file_cache does.
 */
export class StaticSites {
  private readonly cache = new Map<string, Entry>();
  private cached = 0;

  constructor(private readonly root: string) {}

  async serve(domain: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return plain(res, 400, 'Bad request: the path is not valid percent-encoding');
    }
    if (decoded.includes('\0')) return plain(res, 400, 'Bad request');
    const site = join(this.root, domain);
    let file = join(site, posix.normalize(`/${decoded}`).replace(/^\/+/, ''));
    // A stat on the event loop: one system call, cheaper than a trip to the thread pool.
    let info = statSync(file, { throwIfNoEntry: false });
    if (info?.isDirectory()) {
      // A folder's address ends with a slash, so its page's relative links work.
      if (!pathname.endsWith('/')) return plain(res, 301, 'Moved', { location: `${pathname}/` });
      file = join(file, 'index.html');
      info = statSync(file, { throwIfNoEntry: false });
    }
    if (!info?.isFile()) return this.notFound(site, req, res);
    const have = this.cache.get(file);
    if (have && have.ino === info.ino && have.size === info.size && have.mtimeMs === info.mtimeMs) return send(req, res, have, 200);
    const entry = await this.entry(site, file, info);
    if (!entry) return this.notFound(site, req, res);
    return send(req, res, entry, 200);
  }

  /** The file's entry: from the cache while the file is unchanged, else checked (inside the site) and read again. */
  private async entry(site: string, file: string, info: Stats): Promise<Entry | undefined> {
    const have = this.cache.get(file);
    if (have && have.ino === info.ino && have.size === info.size && have.mtimeMs === info.mtimeMs) return have;
    const real = await realpath(file).catch(() => undefined);
    const siteReal = await realpath(site).catch(() => site);
    if (!real || !real.startsWith(siteReal + sep)) return undefined;
    const seconds = Math.floor(info.mtimeMs / 1000);
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const small = info.size <= CACHE_FILE_MAX;
    const entry: Entry = {
      real,
      ino: info.ino,
      size: info.size,
      mtimeMs: info.mtimeMs,
      type,
      etag: `W/"${info.size.toString(16)}-${seconds.toString(16)}"`,
      lastModified: new Date(seconds * 1000).toUTCString(),
      body: small ? await readFile(real) : undefined,
      compressed: new Map(),
      whole: {},
    };
    Object.assign(entry.whole, { 'content-type': type, etag: entry.etag, 'last-modified': entry.lastModified, 'accept-ranges': 'bytes', vary: 'Accept-Encoding', 'content-length': String(info.size) });
    if (entry.body && entry.body.length !== info.size) return { ...entry, body: undefined };
    if (have) this.drop(file, have);
    if (small) {
      while (this.cached + info.size > CACHE_BYTES && this.cache.size) {
        const [oldest, e] = this.cache.entries().next().value!;
        this.drop(oldest, e);
      }
      this.cache.set(file, entry);
      this.cached += info.size;
    }
    return entry;
  }

  private drop(file: string, e: Entry): void {
    this.cache.delete(file);
    this.cached -= e.size;
  }

  private async notFound(site: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const page = join(site, '404.html');
    const info = statSync(page, { throwIfNoEntry: false });
    const entry = info?.isFile() ? await this.entry(site, page, info) : undefined;
    if (entry) return send(req, res, entry, 404);
    return plain(res, 404, 'Not found');
  }
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function send(req: IncomingMessage, res: ServerResponse, e: Entry, status: number): Promise<void> {
  // The common case first: a plain GET of a small file, no conditions, no range, nothing to compress.
  if (status === 200 && e.body && req.method === 'GET' && !req.headers['if-none-match'] && !req.headers['if-modified-since'] && !req.headers.range && (!req.headers['accept-encoding'] || !COMPRESSIBLE.test(e.type) || e.size < MIN_COMPRESS)) {
    res.writeHead(200, e.whole);
    return void res.end(e.body);
  }
  const headers: Record<string, string> = { 'content-type': e.type, etag: e.etag, 'last-modified': e.lastModified, 'accept-ranges': 'bytes', vary: 'Accept-Encoding' };
  if (status === 200) {
    // RFC 9110 §13.1: If-None-Match wins over If-Modified-Since.
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const notModified = inm !== undefined ? inm.split(',').some((t) => t.trim() === e.etag || t.trim() === '*') : ims !== undefined && !Number.isNaN(Date.parse(ims)) && Date.parse(e.lastModified) <= Date.parse(ims);
    if (notModified) {
      res.writeHead(304, { etag: e.etag, 'last-modified': e.lastModified, vary: 'Accept-Encoding' });
      return void res.end();
    }
  }
  const range = status === 200 ? parseRange(req.headers.range, e.size) : undefined;
  if (range === 'unsatisfiable') return plain(res, 416, 'Range not satisfiable', { 'content-range': `bytes */${e.size}` });
  const head = req.method === 'HEAD';
  if (range) {
    res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${e.size}`, 'content-length': String(range.end - range.start + 1) });
    if (head) return void res.end();
    if (e.body) return void res.end(e.body.subarray(range.start, range.end + 1));
    return pipeline(createReadStream(e.real, range), res);
  }
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const encoding = COMPRESSIBLE.test(e.type) && e.size >= MIN_COMPRESS ? (/\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : undefined) : undefined;
  if (encoding && e.body) {
    let packed = e.compressed.get(encoding);
    if (!packed) {
      packed = encoding === 'br' ? brotliCompressSync(e.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 6, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: e.size } }) : gzipSync(e.body);
      e.compressed.set(encoding, packed);
    }
    res.writeHead(status, { ...headers, 'content-encoding': encoding, 'content-length': String(packed.length) });
    return void res.end(head ? undefined : packed);
  }
  if (encoding) {
    res.writeHead(status, { ...headers, 'content-encoding': encoding });
    if (head) return void res.end();
    return pipeline(createReadStream(e.real), encoding === 'br' ? createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }) : createGzip(), res);
  }
  res.writeHead(status, { ...headers, 'content-length': String(e.size) });
  if (head) return void res.end();
  if (e.body) return void res.end(e.body);
  return pipeline(createReadStream(e.real), res);
}

/** One byte range (RFC 9110 §14.1.2); several ranges are answered whole, as many servers do. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
