import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
/**
 * A minimal DNS wire codec for the test mDNS browser (RFC 1035 4.1, RFC 6762 18):
 * independent of ciao on purpose, so the tests check what really goes on the wire.
 */

export const TYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, NSEC: 47, ANY: 255 } as const;

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** PTR target, SRV target, A address, TXT entries — whichever applies. */
  data: { target?: string; port?: number; address?: string; txt?: Record<string, string> };
}

export interface DnsPacket {
  id: number;
  isResponse: boolean;
  questions: { name: string; type: number }[];
  /** Answers, authorities and additionals in wire order, with their section. */
  records: (DnsRecord & { section: 'answer' | 'authority' | 'additional' })[];
}

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let offset = start;
  let next = -1;
  for (let hops = 0; hops < 64; hops += 1) {
    const len = buf.readUInt8(offset);
    if (len === 0) {
      if (next < 0) next = offset + 1;
      return { name: labels.join('.'), next };
    }
    if ((len & 0xc0) === 0xc0) {
      // RFC 1035 4.1.4 message compression: a pointer to an earlier name.
      if (next < 0) next = offset + 2;
      offset = buf.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('utf8', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  throw new Error('DNS name: too many compression hops');
}

function readTxt(buf: Buffer, start: number, end: number): Record<string, string> {
  const txt: Record<string, string> = {};
  let offset = start;
  while (offset < end) {
    const len = buf.readUInt8(offset);
    const entry = buf.toString('utf8', offset + 1, offset + 1 + len);
    offset += 1 + len;
    if (len === 0) continue;
    const eq = entry.indexOf('=');
    if (eq < 0) txt[entry] = '';
    else txt[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return txt;
}

export function decodePacket(buf: Buffer): DnsPacket {
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  let offset = 12;
  const questions: DnsPacket['questions'] = [];
  for (let i = 0; i < counts[0]; i += 1) {
    const { name, next } = readName(buf, offset);
    questions.push({ name, type: buf.readUInt16BE(next) });
    offset = next + 4;
  }
  const records: DnsPacket['records'] = [];
  const sections = ['answer', 'authority', 'additional'] as const;
  sections.forEach((section, s) => {
    for (let i = 0; i < (counts[s + 1] ?? 0); i += 1) {
      const { name, next } = readName(buf, offset);
      const type = buf.readUInt16BE(next);
      const ttl = buf.readUInt32BE(next + 4);
      const rdlength = buf.readUInt16BE(next + 8);
      const rdata = next + 10;
      const data: DnsRecord['data'] = {};
      if (type === TYPE.PTR) data.target = readName(buf, rdata).name;
      if (type === TYPE.SRV) {
        data.port = buf.readUInt16BE(rdata + 4);
        data.target = readName(buf, rdata + 6).name;
      }
      if (type === TYPE.A) data.address = Array.from(buf.subarray(rdata, rdata + 4)).join('.');
      if (type === TYPE.TXT) data.txt = readTxt(buf, rdata, rdata + rdlength);
      records.push({ name, type, ttl, data, section });
      offset = rdata + rdlength;
    }
  });
  return { id, isResponse: (flags & 0x8000) !== 0, questions, records };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l.length > 0);
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A multicast query (QM, RFC 6762 5.4: no unicast-response bit) for the given questions. */
export function encodeQuery(questions: { name: string; type: number }[]): Buffer {
  const header = Buffer.concat([u16(0), u16(0), u16(questions.length), u16(0), u16(0), u16(0)]);
  return Buffer.concat([header, ...questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(1)]))]);
}

/** An authoritative response holding one TXT record (used to claim a name in a probe). */
export function encodeTxtResponse(name: string, entries: string[], ttl: number): Buffer {
  const header = Buffer.concat([u16(0), u16(0x8400), u16(0), u16(1), u16(0), u16(0)]);
  const rdata = Buffer.concat(entries.map((e) => Buffer.concat([Buffer.from([Buffer.byteLength(e)]), Buffer.from(e)])));
  const ttlBuf = Buffer.alloc(4);
  ttlBuf.writeUInt32BE(ttl);
  return Buffer.concat([header, encodeName(name), u16(TYPE.TXT), u16(0x8001), ttlBuf, u16(rdata.length), rdata]);
}

/** One `_qobuz-connect._tcp` instance as seen on the wire. */
export interface DiscoveredService {
  /** Instance label, e.g. `Kitchen` (the part before `._qobuz-connect._tcp.local`). */
  instance: string;
  fqdn: string;
  host: string | null;
  port: number | null;
  addresses: string[];
  txt: Record<string, string>;
  /** TTL of the latest PTR record seen (0 = goodbye). */
  ttl: number;
}

const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
const LOOPBACK = '127.0.0.1';

/**
 * Multicast on `lo` needs the MULTICAST flag, which Linux leaves off. We run as root;
 * when the command fails the tests fail with the command to run.
 */
export function ensureLoopbackMulticast(): void {
  const command = 'ip link set lo multicast on';
  try {
    execFileSync('ip', ['link', 'set', 'lo', 'multicast', 'on'], { stdio: 'pipe' });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`loopback is not multicast-capable; run as root: ${command} (${detail})`, { cause: err });
  }
}

/**
 * A raw mDNS browser bound to 5353 on the loopback interface only (node:dgram, no mDNS
 * library): sends PTR/SRV/TXT/A queries, caches every record it hears, and can answer
 * probes for a claimed name to provoke a conflict (RFC 6762 8.1).
 */
export class MdnsBrowser {
  /** Every response packet heard, in order (to check per-service announcements). */
  readonly packets: DnsPacket[] = [];
  private readonly ptr = new Map<string, Map<string, number>>();
  private readonly srv = new Map<string, { target: string; port: number }>();
  private readonly txt = new Map<string, Record<string, string>>();
  private readonly a = new Map<string, Set<string>>();
  private readonly claims = new Set<string>();
  /** Instance FQDNs (lower case) for which a PTR with TTL 0 was heard (RFC 6762 10.1). */
  private readonly goodbyes = new Set<string>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      // Loopback only: never act on traffic from a real interface.
      if (!rinfo.address.startsWith('127.')) return;
      try {
        this.handle(decodePacket(msg));
      } catch {
        // A packet we cannot decode is not ours to judge here.
      }
    });
  }

  static async open(): Promise<MdnsBrowser> {
    ensureLoopbackMulticast();
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(MDNS_PORT, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.addMembership(MDNS_GROUP, LOOPBACK);
    socket.setMulticastInterface(LOOPBACK);
    socket.setMulticastTTL(255);
    socket.setMulticastLoopback(true);
    return new MdnsBrowser(socket);
  }

  /** Asks for PTRs of a service type, e.g. `_qobuz-connect._tcp.local`. */
  browse(serviceType = '_qobuz-connect._tcp.local'): Promise<void> {
    return this.send(encodeQuery([{ name: serviceType, type: TYPE.PTR }]));
  }

  /** Asks for SRV and TXT of an instance and A of its host, when known. */
  resolve(fqdn: string): Promise<void> {
    const questions: { name: string; type: number }[] = [
      { name: fqdn, type: TYPE.SRV },
      { name: fqdn, type: TYPE.TXT },
    ];
    const host = this.srv.get(fqdn.toLowerCase())?.target;
    if (host) questions.push({ name: host, type: TYPE.A });
    return this.send(encodeQuery(questions));
  }

  /** Answers any query for `fqdn` with a TXT record of ours, so a prober sees a conflict. */
  claim(fqdn: string): void {
    this.claims.add(fqdn.toLowerCase());
  }

  /** All instances of the service type heard so far (goodbyes included, with ttl 0). */
  services(serviceType = '_qobuz-connect._tcp.local'): DiscoveredService[] {
    const instances = this.ptr.get(serviceType.toLowerCase()) ?? new Map<string, number>();
    return [...instances].map(([fqdn, ttl]) => {
      const srv = this.srv.get(fqdn.toLowerCase());
      const label = fqdn.slice(0, fqdn.length - serviceType.length - 1);
      return {
        instance: label,
        fqdn,
        host: srv?.target ?? null,
        port: srv?.port ?? null,
        addresses: srv ? [...(this.a.get(srv.target.toLowerCase()) ?? [])] : [],
        txt: this.txt.get(fqdn.toLowerCase()) ?? {},
        ttl,
      };
    });
  }

  /** Polls (re-querying every 500 ms) until `check` returns a value, or fails after `timeoutMs`. */
  async waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 8000, requery?: () => Promise<void>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastQuery = 0;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`mDNS browser: timed out waiting for ${what}`);
      if (requery && Date.now() - lastQuery >= 500) {
        lastQuery = Date.now();
        await requery();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Waits for a goodbye (PTR with TTL 0) for every instance label given. Remembered even
   * when a later packet re-announces the instance (a response delayed by RFC 6762 6).
   */
  waitForGoodbyes(instances: string[], timeoutMs = 5000, serviceType = '_qobuz-connect._tcp.local'): Promise<true> {
    const fqdns = instances.map((i) => `${i}.${serviceType}`.toLowerCase());
    return this.waitFor(`goodbyes for ${instances.join(', ')}`, () => fqdns.every((f) => this.goodbyes.has(f)), timeoutMs);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private send(message: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(message, MDNS_PORT, MDNS_GROUP, (err) => (err ? reject(err) : resolve()));
    });
  }

  private handle(packet: DnsPacket): void {
    if (!packet.isResponse) {
      const claimed = packet.questions.find((q) => this.claims.has(q.name.toLowerCase()));
      if (claimed) void this.send(encodeTxtResponse(claimed.name, ['owner=test-peer'], 120)).catch(() => undefined);
      return;
    }
    this.packets.push(packet);
    for (const r of packet.records) {
      const key = r.name.toLowerCase();
      if (r.type === TYPE.PTR && r.data.target) {
        const byType = this.ptr.get(key) ?? new Map<string, number>();
        byType.set(r.data.target, r.ttl);
        if (r.ttl === 0) this.goodbyes.add(r.data.target.toLowerCase());
        this.ptr.set(key, byType);
      } else if (r.type === TYPE.SRV && r.data.target && r.data.port !== undefined) {
        if (r.ttl > 0) this.srv.set(key, { target: r.data.target, port: r.data.port });
      } else if (r.type === TYPE.TXT && r.data.txt) {
        if (r.ttl > 0) this.txt.set(key, r.data.txt);
      } else if (r.type === TYPE.A && r.data.address) {
        const set = this.a.get(key) ?? new Set<string>();
        set.add(r.data.address);
        this.a.set(key, set);
      }
    }
  }
}
