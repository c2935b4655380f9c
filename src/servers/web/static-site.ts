import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliCompress, createGzip } from 'node:zlib';

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

/**
 * Serves a hosted domain's website from `root/<domain>/` (RFC 9110): index.html for a
 * folder, the site's own 404.html, content types by extension, ETag and Last-Modified with
 * conditional requests, single byte ranges, and brotli or gzip for text. Nothing outside
 * the site's folder can be reached, by `..`, encoded or not, or by a symbolic link.
 */
export class StaticSites {
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
    const relative = posix.normalize(`/${decoded}`).replace(/^\/+/, '');
    let file = join(site, relative);
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      // A folder's address ends with a slash, so its page's relative links work.
      if (!pathname.endsWith('/')) return plain(res, 301, 'Moved', { location: `${pathname}/` });
      file = join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    const real = info?.isFile() ? await realpath(file).catch(() => undefined) : undefined;
    const siteReal = await realpath(site).catch(() => site);
    if (!info || !real || !(real.startsWith(siteReal + sep))) return this.notFound(site, req, res);
    return send(req, res, real, info.size, info.mtime, 200);
  }

  private async notFound(site: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const page = join(site, '404.html');
    const info = await stat(page).catch(() => undefined);
    if (info?.isFile()) return send(req, res, page, info.size, info.mtime, 404);
    return plain(res, 404, 'Not found');
  }
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function send(req: IncomingMessage, res: ServerResponse, file: string, size: number, mtime: Date, status: number): Promise<void> {
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const etag = `W/"${size.toString(16)}-${Math.floor(mtime.getTime() / 1000).toString(16)}"`;
  const lastModified = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  const headers: Record<string, string> = { 'content-type': type, etag, 'last-modified': lastModified.toUTCString(), 'accept-ranges': 'bytes', vary: 'Accept-Encoding' };
  if (status === 200) {
    // RFC 9110 §13.1: If-None-Match wins over If-Modified-Since.
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const notModified = inm !== undefined ? inm.split(',').some((t) => t.trim() === etag || t.trim() === '*') : ims !== undefined && !Number.isNaN(Date.parse(ims)) && lastModified.getTime() <= Date.parse(ims);
    if (notModified) {
      res.writeHead(304, { etag, 'last-modified': headers['last-modified']!, vary: 'Accept-Encoding' });
      return void res.end();
    }
  }
  const range = status === 200 ? parseRange(req.headers.range, size) : undefined;
  if (range === 'unsatisfiable') return plain(res, 416, 'Range not satisfiable', { 'content-range': `bytes */${size}` });
  const head = req.method === 'HEAD';
  if (range) {
    res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) });
    if (head) return void res.end();
    return pipeline(createReadStream(file, range), res);
  }
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const encoding = COMPRESSIBLE.test(type) && size >= MIN_COMPRESS ? (/\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : undefined) : undefined;
  if (encoding) {
    res.writeHead(status, { ...headers, 'content-encoding': encoding });
    if (head) return void res.end();
    return pipeline(createReadStream(file), encoding === 'br' ? createBrotliCompress() : createGzip(), res);
  }
  res.writeHead(status, { ...headers, 'content-length': String(size) });
  if (head) return void res.end();
  return pipeline(createReadStream(file), res);
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
