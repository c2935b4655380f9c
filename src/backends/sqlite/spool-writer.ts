import { open, unlink, type FileHandle } from 'node:fs/promises';
import type { Envelope, SpoolWriter } from '../../queue/index.js';
import { INLINE_BODY_MAX, spoolWriteError } from './files.js';

/**
 * Holds the body in memory up to INLINE_BODY_MAX; past that it streams it to a file
 * written once (step 1 of the fsync discipline in files.ts happens in commit).
 */
export class HybridSpoolWriter implements SpoolWriter {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private size = 0;
  private handle: FileHandle | undefined;
  private closed = false;

  constructor(
    readonly messageId: string,
    private readonly path: string,
    private readonly fsync: boolean,
    private readonly recordEnvelope: (envelope: Envelope, size: number, body: readonly Buffer[] | null) => Promise<void>,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    this.size += chunk.length;
    if (this.bufferedBytes > INLINE_BODY_MAX) await this.flush().catch((err: unknown) => Promise.reject(spoolWriteError(err)));
  }

  private async flush(): Promise<void> {
    this.handle ??= await open(this.path, 'wx');
    const data = Buffer.concat(this.buffered, this.bufferedBytes);
    this.buffered = [];
    this.bufferedBytes = 0;
    await this.handle.write(data);
  }

  commit(envelope: Envelope): Promise<void> {
    return this.commitBody(envelope).catch((err: unknown) => Promise.reject(spoolWriteError(err)));
  }

  private async commitBody(envelope: Envelope): Promise<void> {
    if (!this.handle) {
      this.closed = true;
      return this.recordEnvelope(envelope, this.size, this.buffered);
    }
    if (this.bufferedBytes > 0) await this.flush();
    if (this.fsync) await this.handle.datasync();
    await this.handle.close();
    this.closed = true;
    await this.recordEnvelope(envelope, this.size, null);
  }

  async abort(): Promise<void> {
    this.buffered = [];
    if (!this.handle) return;
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await unlink(this.path).catch(() => undefined);
  }
}
