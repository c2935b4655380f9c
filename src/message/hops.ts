/**
 * Counts the `Received:` fields of a streamed header section (RFC 5321 §6.3: a message
 * with more trace fields than a limit is in a loop). Fed the normalized (CRLF) message in
 * chunks of any size; stops looking at the empty line that ends the header section.
 */
export class HopCounter {
  private partial = '';
  private done = false;
  hops = 0;

  push(chunk: Buffer): void {
    if (this.done) return;
    // latin1 maps each byte to one character: invalid UTF-8 or NUL cannot confuse the count.
    // Only up to the end of the header section, when it is in this chunk: a body is not split.
    const end = chunk.indexOf('\r\n\r\n');
    const part = end === -1 ? chunk : chunk.subarray(0, end + 4);
    const lines = (this.partial + part.toString('latin1')).split('\r\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (line === '') {
        this.done = true;
        return;
      }
      if (/^received[ \t]*:/i.test(line)) this.hops++;
    }
    // A header line is never this long (RFC 5322 §2.1.1 allows 998 octets); stop holding it.
    if (this.partial.length > 64 * 1024) this.partial = this.partial.slice(-16);
  }
}
