/**
 * Where a mailbox store keeps message bodies when they do not live in its own database: a
 * directory every node shares today (`backends/files`), an S3-compatible bucket next. The
 * four calls are S3's PUT, GET, DELETE and LIST, so a bucket needs no other promise.
 *
 * How a store uses it, so that no crash loses a body or leaves a reference to a missing one:
 * - a body is put under a name used once (its message key and a random suffix), durably,
 *   before the row that refers to it commits; two nodes storing the same body never share
 *   an object, so a delete can never take away what another just stored;
 * - an object is deleted only after the row that referred to it is gone (committed);
 * - a crash in between leaves an object nothing refers to, which `list` finds for the
 *   store's sweep at start.
 */
export interface BlobStore {
  /** Where the objects are, for readiness and logs (no secrets). */
  readonly where: string;
  /** Durable when it resolves. */
  put(name: string, data: Buffer): Promise<void>;
  get(name: string): Promise<Buffer>;
  /** Names that are not there are ignored. */
  delete(names: readonly string[]): Promise<void>;
  /** Names of objects written before `before` (ms since the epoch). */
  list(before: number): AsyncIterable<string>;
}
