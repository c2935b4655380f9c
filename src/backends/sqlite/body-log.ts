import { closeSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writevSync } from 'node:fs';
import { constants, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { sql, type Db } from './db.js';

/**
 * The spool's body log: bodies of middling size (LOG_BODY_MIN up to INLINE_BODY_MAX) are
 * written once, into segment files under `spool/log`, instead of through the database's WAL
 * (which writes each page twice: as a WAL frame and again at the checkpoint) or into a file
 * of their own (a new file costs a filesystem journal commit each).
 *
 * - A segment is SEGMENT_BYTES, filled with zeros when made, so a record is an overwrite in
 *   place: its fdatasync touches no metadata. One fdatasync covers every record of a group
 *   commit, before the rows that point at them are committed (step 3 of files.ts's discipline).
 * - A record is a header (magic, size, CRC-32 of the body, message id), the body, and zeros
 *   to the next page, so every write covers whole pages and never reads a page back.
 * - One writer owns a segment at a time (body_segments.owner). A full segment is sealed once
 *   every record in it is committed or given up; a sealed segment no message row points at
 *   is free and is written over by the next writer that needs room. A writer that died
 *   leaves its segment to be sealed by recover().
 * - A reader checks the header and the CRC: a record written over (a segment reused under a
 *   reader whose lease had expired) or never made durable fails the read; it is never
 *   handed on as the message.
 * - A body that waits (deferred, held) is moved back into its row (see SqliteSpool), so that
 *   one old message never keeps a whole segment from being reused.
 */
export const LOG_BODY_MIN = 16 * 1024;
const SEGMENT_BYTES = 32 * 1024 * 1024;
const PAGE = 4096;
const HEADER = 64;
const MAGIC = 0x484b4231; // "HKB1"
const ID_MAX = HEADER - 12;
const ZEROS = Buffer.alloc(1024 * 1024);
// Free segments kept at start-up for the next writers; the rest are removed.
const SPARE_SEGMENTS = 2;

// AUTOINCREMENT: a removed segment's number is never used again, so a reader's open file of it is never taken for a new one.
export const LOG_MIGRATION = `CREATE TABLE body_segments (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT);
   ALTER TABLE messages ADD COLUMN body_seg INTEGER;
   ALTER TABLE messages ADD COLUMN body_off INTEGER;
   CREATE INDEX messages_body_seg ON messages(body_seg) WHERE body_seg IS NOT NULL;`;

const FREE = `s.owner IS NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.body_seg = s.id)`;

/** Where a record went: its segment and offset. `settled` must be called once its row is committed or given up. */
export interface LogRecord {
  readonly seg: number;
  readonly off: number;
  settled(): void;
}

class Segment {
  tail = 0;
  /** Records reserved in it and not yet settled. */
  unsettled = 0;
  /** No more records go into it. */
  full = false;
  sealed = false;
  constructor(
    readonly id: number,
    readonly handle: FileHandle,
  ) {}
}

export class BodyLog {
  private current: Promise<Segment> | undefined;
  private next: Promise<Segment> | undefined;
  private dirty = new Set<Segment>();
  private readonly readFds = new Map<number, number>();

  /**
   * `db`: the spool's connection; `commit` runs a change to body_segments in the spool's
   * next group commit.
   */
  constructor(
    private readonly dir: string,
    private readonly db: Db,
    private readonly owner: string,
    private readonly fsync: boolean,
    private readonly commit: (work: () => void) => Promise<void>,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes a body's record (not yet durable: see sync) and returns where it is. */
  async append(messageId: string, chunks: readonly Buffer[], size: number): Promise<LogRecord> {
    const id = Buffer.from(messageId, 'latin1');
    if (id.length > ID_MAX) throw new Error(`message id ${messageId} is too long for the body log`);
    const length = Math.ceil((HEADER + size) / PAGE) * PAGE;
    if (length > SEGMENT_BYTES) throw new Error(`a body of ${size} bytes does not fit a log segment`);
    const seg = await this.room(length);
    const off = seg.tail;
    seg.tail += length;
    seg.unsettled++;
    let settled = false;
    const record = {
      seg: seg.id,
      off,
      settled: () => {
        if (settled) return;
        settled = true;
        seg.unsettled--;
        this.sealIfDone(seg);
      },
    };
    try {
      const header = Buffer.alloc(HEADER);
      header.writeUInt32BE(MAGIC, 0);
      header.writeUInt32BE(size, 4);
      header.writeUInt32BE(chunks.reduce((crc, c) => crc32(c, crc), 0), 8);
      id.copy(header, 12);
      let buffers = [header, ...chunks, ZEROS.subarray(0, length - HEADER - size)];
      // Written from this thread: an overwrite into the page cache (~10 µs for 64 KiB) costs
      // less than handing it to the thread pool, which on a busy machine took ~100 µs of the
      // SMTP thread's time per message in waking a pool thread. The fdatasync (sync) waits
      // for the disk, so it stays on the pool.
      for (let at = off; buffers.length > 0; ) {
        const bytesWritten = writevSync(seg.handle.fd, buffers, at);
        at += bytesWritten;
        buffers = rest(buffers, bytesWritten);
      }
      this.dirty.add(seg);
      return record;
    } catch (err) {
      record.settled();
      throw err;
    }
  }

  /** Makes every record written so far durable (one fdatasync per segment written to). */
  async sync(): Promise<void> {
    const segments = [...this.dirty];
    this.dirty.clear();
    if (this.fsync) await Promise.all(segments.map((s) => s.handle.datasync()));
  }

  /** The body of `messageId` at `seg`/`off`, checked against its header and CRC. */
  read(messageId: string, seg: number, off: number, size: number): Buffer {
    let fd = this.readFds.get(seg);
    if (fd === undefined) this.readFds.set(seg, (fd = openSync(join(this.dir, String(seg)), 'r')));
    return readRecord(fd, messageId, seg, off, size);
  }

  /** Start-up housekeeping: segments of writers that died are sealed; free segments past a few spares and files without a row go. */
  recover(ownerDied: (owner: string) => boolean): void {
    const owned = sql(this.db, 'SELECT id, owner FROM body_segments WHERE owner IS NOT NULL').all() as { id: number; owner: string }[];
    const seal = sql(this.db, 'UPDATE body_segments SET owner = NULL WHERE id = ? AND owner = ?');
    for (const s of owned) if (ownerDied(s.owner)) seal.run(s.id, s.owner);
    const free = sql(this.db, `SELECT id FROM body_segments s WHERE ${FREE} ORDER BY id`).all() as { id: number }[];
    const drop = sql(this.db, `DELETE FROM body_segments AS s WHERE id = ? AND ${FREE}`);
    for (const { id } of free.slice(SPARE_SEGMENTS)) drop.run(id);
    const known = new Set((sql(this.db, 'SELECT id FROM body_segments').all() as { id: number }[]).map((r) => String(r.id)));
    for (const name of readdirSync(this.dir)) if (!known.has(name)) unlinkSync(join(this.dir, name));
  }

  async close(): Promise<void> {
    const owned = [this.current, this.next].filter((p) => p !== undefined);
    for (const p of owned) {
      const seg = await p.catch(() => undefined);
      await seg?.handle.close().catch(() => undefined);
    }
    this.current = this.next = undefined;
    // Only a writer that took segments writes here (a CLI command that never appended does not).
    if (owned.length > 0) sql(this.db, 'UPDATE body_segments SET owner = NULL WHERE owner = ?').run(this.owner);
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
  }

  /** The current segment, once it has `length` bytes free; past half full the next is made ready. */
  private async room(length: number): Promise<Segment> {
    for (;;) {
      const p = (this.current ??= this.claim());
      let seg: Segment;
      try {
        seg = await p;
      } catch (err) {
        if (this.current === p) this.current = undefined;
        throw err;
      }
      if (this.current !== p) continue;
      if (seg.tail + length <= SEGMENT_BYTES) {
        if (seg.tail + length > SEGMENT_BYTES / 2 && !this.next) {
          // Made ready in the background: a failure (a full disk) is met by the append that needs it.
          this.next = this.claim();
          this.next.catch(() => undefined);
        }
        return seg;
      }
      seg.full = true;
      this.current = this.next;
      this.next = undefined;
      this.sealIfDone(seg);
    }
  }

  /** A free segment (or a new one), owned by this writer and filled to its full size. */
  private async claim(): Promise<Segment> {
    let id = 0;
    await this.commit(() => {
      const row = (sql(this.db, `UPDATE body_segments SET owner = @owner WHERE id = (SELECT id FROM body_segments s WHERE ${FREE} ORDER BY id LIMIT 1) RETURNING id`).get({ owner: this.owner }) ??
        sql(this.db, 'INSERT INTO body_segments (owner) VALUES (?) RETURNING id').get(this.owner)) as { id: number };
      id = row.id;
    });
    let handle: FileHandle | undefined;
    try {
      handle = await open(join(this.dir, String(id)), constants.O_RDWR | constants.O_CREAT, 0o600);
      const { size } = await handle.stat();
      if (size < SEGMENT_BYTES) {
        for (let at = size; at < SEGMENT_BYTES; at += ZEROS.length) await handle.write(ZEROS, 0, Math.min(ZEROS.length, SEGMENT_BYTES - at), at);
        if (this.fsync) await handle.sync();
      }
      return new Segment(id, handle);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      void this.commit(() => this.seal(id)).catch(() => undefined);
      throw err;
    }
  }

  private sealIfDone(seg: Segment): void {
    if (!seg.full || seg.unsettled > 0 || seg.sealed) return;
    seg.sealed = true;
    this.dirty.delete(seg);
    // Sealed only after its records' rows are committed; until then nothing may reuse it.
    void this.commit(() => this.seal(seg.id)).then(
      () => seg.handle.close(),
      () => seg.handle.close(),
    ).catch(() => undefined);
  }

  private seal(id: number): void {
    sql(this.db, 'UPDATE body_segments SET owner = NULL WHERE id = ? AND owner = ?').run(id, this.owner);
  }
}

/** A body from the log at `dir` (for a reader that keeps no BodyLog, such as `db copy`). */
export function readLoggedBody(dir: string, messageId: string, seg: number, off: number, size: number): Buffer {
  const fd = openSync(join(dir, String(seg)), 'r');
  try {
    return readRecord(fd, messageId, seg, off, size);
  } finally {
    closeSync(fd);
  }
}

function readRecord(fd: number, messageId: string, seg: number, off: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + size);
  const n = readSync(fd, buf, 0, buf.length, off);
  const body = buf.subarray(HEADER);
  const id = buf.subarray(12, HEADER);
  const end = id.indexOf(0);
  const ok =
    n === buf.length &&
    buf.readUInt32BE(0) === MAGIC &&
    buf.readUInt32BE(4) === size &&
    id.subarray(0, end < 0 ? id.length : end).toString('latin1') === messageId &&
    crc32(body) === buf.readUInt32BE(8);
  if (!ok) throw new Error(`the spool's copy of message ${messageId} (log segment ${seg} at ${off}) does not check out`);
  return body;
}

/** `buffers` without their first `n` bytes. */
function rest(buffers: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
