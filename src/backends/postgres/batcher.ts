/**
 * Group commit for a PostgreSQL store: calls that arrive while earlier ones are on their
 * way to the database wait and then go together, as one statement or one transaction.
 * Idle, a call goes at once (next turn of the event loop), alone; under load, each round
 * trip carries many, so a database across a network costs round trips per batch, not per
 * message. One item's own failure (a full mailbox) is that item's answer; a failure of the
 * whole batch (the database) is every item's.
 */
export type Outcome<O> = { ok: O } | { error: Error };

/**
 * PostgreSQL's deadlock_detected, serialization_failure and unique_violation (a row another
 * node wrote after this batch looked): the batch is run again once, and then sees it.
 */
const RETRIED = new Set(['40P01', '40001', '23505']);

/** Most bytes (bodies) one batch carries to the database. */
const MAX_BYTES = 8 << 20;

export class Batcher<I, O> {
  private readonly waiting: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  /**
   * @param run   does one batch; answers one outcome per input, in order
   * @param max   most inputs in one batch
   * @param lanes most batches on their way at once (each holds a connection)
   * @param size  an input's bytes: a batch holds at most MAX_BYTES of them (but always one input)
   */
  constructor(
    private readonly run: (inputs: readonly I[]) => Promise<Outcome<O>[]>,
    private readonly max: number,
    private readonly lanes: number,
    private readonly size: (input: I) => number = () => 0,
  ) {}

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.kick();
        });
      }
    });
  }

  private kick(): void {
    while (this.running < this.lanes && this.waiting.length > 0) {
      let n = 0;
      for (let bytes = 0; n < this.waiting.length && n < this.max; n++) {
        bytes += this.size(this.waiting[n]!.input);
        if (n > 0 && bytes > MAX_BYTES) break;
      }
      const batch = this.waiting.splice(0, n);
      this.running++;
      void this.once(batch.map((b) => b.input))
        .then(
          (outcomes) => batch.forEach((b, i) => {
            const o = outcomes[i];
            if (o === undefined) b.reject(new Error('the batch gave no answer for this call'));
            else if ('ok' in o) b.resolve(o.ok);
            else b.reject(o.error);
          }),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.running--;
          this.kick();
        });
    }
  }

  private async once(inputs: readonly I[]): Promise<Outcome<O>[]> {
    try {
      return await this.run(inputs);
    } catch (err) {
      if (!RETRIED.has((err as { code?: string }).code ?? '')) throw err;
      return this.run(inputs);
    }
  }
}
