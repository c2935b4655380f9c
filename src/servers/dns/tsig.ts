/**
 * TSIG (RFC 8945) with HMAC-SHA256, for zone transfers: verifying a request's signature and
 * signing the answer, on the message's own bytes (a re-encoded message would not match).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TsigKey {
  /** The key's name, lower case, no trailing dot. */
  readonly name: string;
  readonly secret: Buffer;
}

const ALGORITHM = 'hmac-sha256';
const TYPE_TSIG = 250;
const CLASS_ANY = 255;
const FUDGE = 300;

/** A name in uncompressed wire form (lower case, as RFC 8945 §4.3.3 canonicalizes it). */
function wireName(name: string): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it in the message. */
function readName(buf: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  let jumps = 0;
  for (let i = off; ; ) {
    if (i >= buf.length) throw new Error('name runs past the message');
    const len = buf[i]!;
    if (len === 0) {
      if (end < 0) end = i + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (++jumps > 20 || i + 1 >= buf.length) throw new Error('bad compression pointer');
      if (end < 0) end = i + 2;
      i = ((len & 0x3f) << 8) | buf[i + 1]!;
      continue;
    }
    labels.push(buf.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end };
}

/** Where the message's last record (the TSIG, if any) starts, and its parts. */
function lastRecord(msg: Buffer): { start: number; name: string; type: number; rdata: Buffer } | undefined {
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  let off = 12;
  for (let q = 0; q < counts[0]!; q++) off = readName(msg, off).end + 4;
  const records = counts[1]! + counts[2]! + counts[3]!;
  let last: { start: number; name: string; type: number; rdata: Buffer } | undefined;
  for (let r = 0; r < records; r++) {
    const start = off;
    const { name, end } = readName(msg, off);
    const type = msg.readUInt16BE(end);
    const length = msg.readUInt16BE(end + 8);
    last = { start, name, type, rdata: msg.subarray(end + 10, end + 10 + length) };
    off = end + 10 + length;
  }
  return last;
}

function variables(keyName: string, time: number, error = 0): Buffer {
  const timers = Buffer.alloc(12);
  timers.writeUIntBE(time, 0, 6);
  timers.writeUInt16BE(FUDGE, 6);
  timers.writeUInt16BE(error, 8);
  timers.writeUInt16BE(0, 10);
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS_ANY, 0);
  return Buffer.concat([wireName(keyName), classTtl, wireName(ALGORITHM), timers]);
}

export type TsigCheck = { ok: true; key: TsigKey; mac: Buffer } | { ok: false; why: 'unsigned' | 'unknown-key' | 'bad-signature' | 'bad-time' };

/** Checks the request's TSIG against `keys`. */
export function verifyTsig(msg: Buffer, keys: readonly TsigKey[], now = Date.now()): TsigCheck {
  let rr;
  try {
    rr = lastRecord(msg);
  } catch {
    return { ok: false, why: 'unsigned' };
  }
  if (!rr || rr.type !== TYPE_TSIG) return { ok: false, why: 'unsigned' };
  const key = keys.find((k) => k.name === rr.name);
  if (!key) return { ok: false, why: 'unknown-key' };
  const alg = readName(rr.rdata, 0);
  if (alg.name !== ALGORITHM) return { ok: false, why: 'bad-signature' };
  const time = rr.rdata.readUIntBE(alg.end, 6);
  const macSize = rr.rdata.readUInt16BE(alg.end + 8);
  const mac = rr.rdata.subarray(alg.end + 10, alg.end + 10 + macSize);
  const originalId = rr.rdata.readUInt16BE(alg.end + 10 + macSize);
  // The message as signed: without the TSIG record, one fewer additional, its original ID.
  const unsigned = Buffer.from(msg.subarray(0, rr.start));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = createHmac('sha256', key.secret).update(Buffer.concat([unsigned, variables(key.name, time)])).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { ok: false, why: 'bad-signature' };
  if (Math.abs(Math.floor(now / 1000) - time) > FUDGE) return { ok: false, why: 'bad-time' };
  return { ok: true, key, mac };
}

/** Signs an answer to a signed request (RFC 8945 §5.3): the request's MAC, the answer, the variables. */
export function signTsig(answer: Buffer, key: TsigKey, requestMac: Buffer, now = Date.now()): Buffer {
  const time = Math.floor(now / 1000);
  const macLength = Buffer.alloc(2);
  macLength.writeUInt16BE(requestMac.length);
  const mac = createHmac('sha256', key.secret).update(Buffer.concat([macLength, requestMac, answer, variables(key.name, time)])).digest();
  const rdataTail = Buffer.alloc(6 + 2 + 2);
  rdataTail.writeUIntBE(time, 0, 6);
  rdataTail.writeUInt16BE(FUDGE, 6);
  rdataTail.writeUInt16BE(mac.length, 8);
  const after = Buffer.alloc(6);
  after.writeUInt16BE(answer.readUInt16BE(0), 0);
  const rdata = Buffer.concat([wireName(ALGORITHM), rdataTail, mac, after]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(TYPE_TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([answer, wireName(key.name), head, rdata]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** Reads `name:base64secret` pairs (comma-separated), as `dns.tsigKeys` holds them. */
export function parseTsigKeys(text: string): TsigKey[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf(':');
      return { name: pair.slice(0, i).toLowerCase().replace(/\.$/, ''), secret: Buffer.from(pair.slice(i + 1), 'base64') };
    });
}
