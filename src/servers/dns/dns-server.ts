import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as packet from 'dns-packet';
import { answer, type ZoneSource } from '../../zones/index.js';
import type { Logger } from '../../observability/index.js';
import { ResponseRateLimiter } from './rate-limit.js';
import { signTsig, verifyTsig, type TsigKey } from './tsig.js';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
// RFC 1035 §4.2.1 without EDNS; with it, at most what DNS Flag Day 2020 recommends.
const UDP_PLAIN = 512;
const UDP_MAX = 1232;
const TCP_IDLE_MS = 10_000;
// Answers kept for repeated queries (resolvers ask the same few names again and again).
const CACHE_MAX = 20_000;

export interface DnsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxTcpClients: number;
  /** UDP answers per second per client network (see ResponseRateLimiter); 0: no limit. */
  readonly responsesPerSecond: number;
  /** Networks the limit leaves alone; loopback by default. */
  readonly exempt?: (address: string) => boolean;
  /** Zone transfers (AXFR over TCP): the addresses allowed, and the TSIG keys one of which must sign (none: unsigned allowed). */
  readonly transfer?: { readonly from: readonly string[]; readonly keys: readonly TsigKey[] };
  /** Secondaries told of every change (RFC 1996 NOTIFY), as host:port. */
  readonly notify?: readonly { readonly host: string; readonly port: number }[];
}

/** The same answer with only its header: TC set, the sections empty (a rate-limited "slip"). */
function truncated(answer: Buffer): Buffer {
  const out = Buffer.from(answer.subarray(0, 12));
  out.writeUInt16BE(out.readUInt16BE(2) | packet.TRUNCATED_RESPONSE, 2);
  out.writeUInt16BE(0, 4);
  out.fill(0, 6, 12);
  return out;
}

/** True for a query whose one question asks for AXFR or IXFR (type 252 or 251), read off the wire. */
function isTransfer(msg: Buffer): boolean {
  if (msg.length < 17 || msg.readUInt16BE(4) !== 1) return false;
  let i = 12;
  while (i < msg.length && msg[i] !== 0 && (msg[i]! & 0xc0) === 0) i += 1 + msg[i]!;
  const type = i + 3 <= msg.length ? msg.readUInt16BE(i + 1) : 0;
  return type === 252 || type === 251;
}

/** The header of a reply that carries no question: id, QR, and the rcode (a query too broken to read). */
function bareReply(query: Buffer, rcode: number): Buffer | undefined {
  if (query.length < 12) return undefined;
  const out = Buffer.alloc(12);
  query.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | rcode, 2);
  return out;
}

/**
 * Answers one DNS message (RFC 1035 §4): one question of class IN, answered from our
 * zones; `maxSize` (UDP) truncates an answer that does not fit, so the client asks again
 * over TCP (RFC 7766). Returns undefined when nothing should be sent (a response, noise).
 */
export function respond(query: Buffer, source: ZoneSource, udp: boolean): Buffer | undefined {
  let q: packet.Packet;
  try {
    q = packet.decode(query);
  } catch {
    return bareReply(query, RCODE.FORMERR);
  }
  if (q.type !== 'query') return undefined;
  const flags = q.flags ?? 0;
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & packet.RECURSION_DESIRED;
  const reply = (rcode: number, body: Partial<packet.Packet> = {}): packet.Packet => ({ type: 'response', id: q.id, flags: rd | rcode, questions: q.questions, ...body });
  if (opcode !== 0) return packet.encode(reply(RCODE.NOTIMP));
  const question = q.questions?.[0];
  if (!question || q.questions!.length !== 1) return packet.encode(reply(RCODE.FORMERR));
  const opt = (q.additionals ?? []).find((r) => r.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const ednsOut = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: UDP_MAX } as packet.Answer] : [];
  if ((question.class ?? 'IN') !== 'IN') return packet.encode(reply(RCODE.REFUSED, { additionals: ednsOut }));
  // Zone transfers are not offered yet; over UDP they are not allowed at all (RFC 5936 §4.2).
  if (question.type === 'AXFR' || question.type === 'IXFR') return packet.encode(reply(udp ? RCODE.FORMERR : RCODE.REFUSED, { additionals: ednsOut }));
  const a = answer(source, question.name, question.type);
  const encoded = packet.encode(
    reply(RCODE[a.rcode] | (a.authoritative ? packet.AUTHORITATIVE_ANSWER : 0), {
      answers: a.answers as packet.Answer[],
      authorities: a.authority as packet.Answer[],
      additionals: ednsOut,
    }),
  );
  const limit = opt ? Math.max(UDP_PLAIN, Math.min(opt.udpPayloadSize ?? UDP_PLAIN, UDP_MAX)) : UDP_PLAIN;
  if (!udp || encoded.length <= limit) return encoded;
  // RFC 2181 §9: too large for UDP: the header says so (TC), the client retries over TCP.
  return packet.encode(reply(RCODE[a.rcode] | (a.authoritative ? packet.AUTHORITATIVE_ANSWER : 0) | packet.TRUNCATED_RESPONSE, { additionals: ednsOut }));
}

/** The dns role: authoritative answers for the hosted domains over UDP and TCP. */
export class DnsServer {
  private udp: UdpSocket;
  private readonly limiter: ResponseRateLimiter;
  private readonly tcp: Server;
  private readonly sockets = new Set<Socket>();
  private notifyTimer: NodeJS.Timeout | undefined;
  /** Encoded answers by the query's bytes after its ID (so the question's case is echoed as asked), for the zones' current version. */
  private readonly cache = new Map<string, Buffer>();
  private cacheVersion = -1;

  constructor(
    private readonly options: DnsServerOptions,
    private readonly source: ZoneSource,
    private readonly log: Logger,
  ) {
    this.limiter = new ResponseRateLimiter(options.responsesPerSecond, 2, options.exempt);
    this.udp = this.udpSocket();
    this.tcp = createServer((socket) => this.onTcp(socket));
  }

  private udpSocket(): UdpSocket {
    const udp = createSocket(this.options.host.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      const out = this.safely(msg, true);
      if (!out) return;
      const verdict = this.limiter.decide(rinfo.address);
      if (verdict !== 'drop') udp.send(verdict === 'send' ? out : truncated(out), rinfo.port, rinfo.address);
    });
    return udp;
  }

  /** A query that breaks the code gets SERVFAIL, never a crash. */
  private safely(msg: Buffer, udp: boolean): Buffer | undefined {
    try {
      if (this.cacheVersion !== this.source.version) {
        this.cache.clear();
        this.cacheVersion = this.source.version;
      }
      const key = `${udp ? 'u' : 't'}${msg.toString('latin1', 2)}`;
      const hit = this.cache.get(key);
      if (hit) {
        const out = Buffer.from(hit);
        msg.copy(out, 0, 0, 2);
        return out;
      }
      const out = respond(msg, this.source, udp);
      if (out && this.cache.size < CACHE_MAX) this.cache.set(key, out);
      return out;
    } catch (err) {
      this.log.error({ err }, 'DNS answer failed');
      return bareReply(msg, RCODE.SERVFAIL);
    }
  }

  /**
   * AXFR (RFC 5936) and IXFR (RFC 1995) over TCP: the whole zone in one message, SOA first and last, to an
   * allowed address and, when keys are configured, only with a valid TSIG (RFC 8945), the
   * answer signed with the same key.
   */
  private transfer(msg: Buffer, address: string): Buffer | undefined {
    let q: packet.Packet;
    try {
      q = packet.decode(msg);
    } catch {
      return bareReply(msg, RCODE.FORMERR);
    }
    const question = q.questions![0]!;
    const reply = (rcode: number, answers: packet.Answer[] = []) => packet.encode({ type: 'response', id: q.id, flags: rcode | (rcode === 0 ? packet.AUTHORITATIVE_ANSWER : 0), questions: q.questions, answers });
    const zone = this.source.zoneOf(question.name.toLowerCase().replace(/\.$/, ''));
    const t = this.options.transfer;
    if (!t || !t.from.includes(address.replace(/^::ffff:/, ''))) {
      this.log.info({ remote: address, zone: question.name }, 'zone transfer refused: address not allowed');
      return reply(RCODE.REFUSED);
    }
    if (zone !== question.name.toLowerCase().replace(/\.$/, '')) return reply(9 /* NOTAUTH */);
    let key: TsigKey | undefined;
    let mac: Buffer | undefined;
    if (t.keys.length) {
      const check = verifyTsig(msg, t.keys);
      if (!check.ok) {
        this.log.info({ remote: address, zone, why: check.why }, 'zone transfer refused: TSIG');
        return reply(9 /* NOTAUTH */);
      }
      ({ key, mac } = check);
    }
    const records = this.source.records(zone);
    const soa = records.filter((r) => r.type === 'SOA');
    // IXFR (RFC 1995): a secondary that has our serial gets the SOA alone; one that is behind
    // gets the whole zone in AXFR form (§4), as we keep no history of differences.
    const theirs = question.type === 'IXFR' ? (q.authorities ?? []).find((r) => r.type === 'SOA') : undefined;
    const ours = (soa[0]?.data as { serial: number } | undefined)?.serial;
    const current = theirs !== undefined && ours !== undefined && (theirs.data as { serial: number }).serial === ours;
    const answer = reply(0, (current ? soa : [...soa, ...records.filter((r) => r.type !== 'SOA'), ...soa]) as packet.Answer[]);
    return key && mac ? signTsig(answer, key, mac) : answer;
  }

  /** RFC 1996: a NOTIFY for every zone to each secondary when the zones change (checked each second). */
  private startNotifying(): void {
    const targets = this.options.notify ?? [];
    if (targets.length === 0) return;
    let seen = this.source.version;
    this.notifyTimer = setInterval(() => {
      if (this.source.version === seen) return;
      seen = this.source.version;
      for (const zone of this.source.zones()) {
        const msg = packet.encode({ type: 'query', id: Math.floor(Math.random() * 65536), flags: (4 << 11) | packet.AUTHORITATIVE_ANSWER, questions: [{ type: 'SOA', name: zone }] });
        for (const t of targets) this.udp.send(msg, t.port, t.host);
      }
    }, 1000);
    this.notifyTimer.unref();
  }

  /** RFC 7766: two-byte length, then the message; several queries per connection. */
  private onTcp(socket: Socket): void {
    if (this.sockets.size >= this.options.maxTcpClients) return void socket.destroy();
    this.sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket)).on('error', () => undefined);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, d]) : d;
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) break;
        const msg = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        const out = isTransfer(msg) ? this.transfer(msg, socket.remoteAddress ?? '') : this.safely(msg, false);
        if (!out) continue;
        const head = Buffer.alloc(2);
        head.writeUInt16BE(out.length);
        socket.write(Buffer.concat([head, out]));
      }
    });
  }

  /**
   * TCP and UDP on the same port. With port 0, TCP takes a free port first and UDP the same
   * one; should another socket hold that port for UDP, another port is tried.
   */
  async listen(): Promise<{ udp: AddressInfo; tcp: AddressInfo }> {
    for (let attempt = 1; ; attempt++) {
      const tcp = await new Promise<AddressInfo>((resolve, reject) => {
        this.tcp.once('error', reject);
        this.tcp.listen(this.options.port, this.options.host, () => resolve(this.tcp.address() as AddressInfo));
      });
      try {
        const udp = await new Promise<AddressInfo>((resolve, reject) => {
          this.udp.once('error', reject);
          this.udp.bind(tcp.port, this.options.host, () => resolve(this.udp.address()));
        });
        this.udp.on('error', (err) => this.log.warn({ err }, 'DNS UDP socket error'));
        this.startNotifying();
        return { udp, tcp };
      } catch (err) {
        await new Promise((r) => this.tcp.close(r));
        if (this.options.port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        this.udp.close();
        this.udp = this.udpSocket();
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.notifyTimer);
    await new Promise<void>((r) => this.udp.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.tcp.close(r));
  }
}
