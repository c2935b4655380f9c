import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

/** Records a test DNS server answers; names in lower case, without the final dot. */
export interface TestZone {
  mx: Record<string, { exchange: string; priority: number }[]>;
  a: Record<string, string[]>;
  txt: Record<string, string[]>;
}

const NXDOMAIN = 3;

/**
 * An authoritative DNS server on 127.0.0.1 (UDP) for the relay's resolver: answers
 * MX, A and TXT from `zone` (which tests may change while it runs); a name with no
 * record of the asked type gets an empty answer (NODATA), an unknown name NXDOMAIN.
 */
export async function startDnsServer(zone: TestZone): Promise<{ port: number; zone: TestZone; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const known = name in zone.mx || name in zone.a || name in zone.txt;
    const answers: dnsPacket.Answer[] = [];
    if (q.type === 'MX') for (const r of zone.mx[name] ?? []) answers.push({ type: 'MX', name: q.name, ttl: 60, data: { preference: r.priority, exchange: r.exchange } });
    if (q.type === 'A') for (const ip of zone.a[name] ?? []) answers.push({ type: 'A', name: q.name, ttl: 60, data: ip });
    if (q.type === 'TXT') for (const t of zone.txt[name] ?? []) answers.push({ type: 'TXT', name: q.name, ttl: 60, data: t });
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : NXDOMAIN),
      questions: [q],
      answers,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    zone,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
