import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { HikyakuError } from '../../mail/index.js';
import { HeaderCollector, HopCounter, LineNormalizer, receivedHeader } from '../../message/index.js';
import type { Envelope, Spool, SpoolWriter } from '../../queue/index.js';
import { hasParam } from './params.js';
import { crashPoint } from '../../observability/index.js';

export interface ReceiveOptions {
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxLineLength: number;
  /** RFC 5321 §6.3: a message with this many Received: fields already is in a loop. */
  readonly maxHops: number;
  /** RFC 3848 protocol type before the TLS/UTF-8 suffixes: ESMTP, or ESMTPA after AUTH. */
  readonly authenticated: boolean;
}

// A header section larger than this is treated as all header (submission checks it whole).
const MAX_HEADER_BYTES = 256 * 1024;

const hasSmtputf8 = (session: SMTPServerSession) => hasParam(session.envelope.mailFrom ? session.envelope.mailFrom.args : undefined, 'SMTPUTF8');

/**
 * Reads DATA into the spool: a Received: header first, line endings made CRLF, size and
 * line length limits (the rest is read and dropped, so the reply follows the final dot),
 * then one durable commit. `amendHeader` may check and change the header section before
 * it is written (submission); it throws a HikyakuError to refuse the message.
 * Resolves with the message id once committed; rejects with a HikyakuError to reply.
 */
export async function receiveIntoSpool(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  spool: Spool,
  options: ReceiveOptions,
  envelope: Omit<Envelope, 'smtputf8'>,
  amendHeader?: (header: Buffer) => Buffer,
): Promise<{ messageId: string; rewroteLineEndings: boolean }> {
  let writer: SpoolWriter;
  try {
    writer = await spool.begin();
  } catch (err) {
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    throw new HikyakuError('ERR_SPOOL_UNAVAILABLE', undefined, { cause: err });
  }
  const utf8 = hasSmtputf8(session);
  const normalizer = new LineNormalizer();
  const hops = new HopCounter();
  const collector = amendHeader ? new HeaderCollector(MAX_HEADER_BYTES) : undefined;
  let writing = true;
  let headerDone = !collector;
  let refusal: HikyakuError | undefined;
  // A write that failed (disk full): the rest of the data is read and dropped, then the reply.
  let failure: unknown;
  // Writes normalized output; the header section passes through amendHeader first.
  const put = async (out: Buffer, last: boolean): Promise<void> => {
    try {
      await putUnsafe(out, last);
    } catch (err) {
      failure ??= err;
      writing = false;
    }
  };
  const putUnsafe = async (out: Buffer, last: boolean): Promise<void> => {
    if (!headerDone) {
      const split = last ? { header: Buffer.concat([collector!.end() ?? Buffer.alloc(0), out]), rest: Buffer.alloc(0) } : collector!.push(out);
      if (!split) return;
      headerDone = true;
      try {
        out = Buffer.concat([amendHeader!(split.header), split.rest]);
      } catch (err) {
        if (!(err instanceof HikyakuError)) throw err;
        refusal = err;
        writing = false;
        return;
      }
    }
    if (out.length > 0) await writer.write(out);
  };
  try {
    const protocol = (utf8 ? 'UTF8SMTP' : 'ESMTP') + (session.secure ? 'S' : '') + (options.authenticated ? 'A' : '');
    await put(
      receivedHeader({
        helo: session.hostNameAppearsAs ?? 'unknown',
        remoteAddress: session.remoteAddress,
        byHost: options.hostname,
        protocol,
        id: writer.messageId,
        forAddress: envelope.recipients.length === 1 ? envelope.recipients[0] : undefined,
        date: new Date(),
      }),
      false,
    );
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const out = normalizer.push(chunk);
      hops.push(out);
      if (normalizer.longestLine > options.maxLineLength) writing = false;
      if (writing && out.length > 0) await put(out, false);
      crashPoint('data');
    }
    if (writing) await put(normalizer.end(), true);
    if (stream.sizeExceeded) throw new HikyakuError('ERR_MESSAGE_TOO_BIG', `the limit is ${options.maxMessageBytes} octets`);
    if (normalizer.longestLine > options.maxLineLength) {
      throw new HikyakuError('ERR_LINE_TOO_LONG', `${normalizer.longestLine} octets, the limit is ${options.maxLineLength}`);
    }
    if (hops.hops >= options.maxHops) throw new HikyakuError('ERR_MAIL_LOOP', `${hops.hops} Received: fields, the limit is ${options.maxHops}`);
    if (refusal) throw refusal;
    if (failure) throw failure;
    await writer.commit({ ...envelope, smtputf8: utf8 });
  } catch (err) {
    await writer.abort();
    if (err instanceof HikyakuError) throw err;
    throw new HikyakuError('ERR_SPOOL_UNAVAILABLE', undefined, { cause: err });
  }
  return { messageId: writer.messageId, rewroteLineEndings: normalizer.rewrote };
}
