// The switch's RFC 4388 client: it asks the DHCP server, as a relay with its own address
// in giaddr, who holds a lease — first by MAC, then by the IP of the old binding — and
// retries when no answer comes. ISC dhcpd answers from :67 to giaddr:67 (protocols.md 4).

import { DHCP, DHCP_SERVER_PORT, emitDhcp, emptyDhcpOptions, type DhcpRepr } from '../wire/dhcp.js';
import { udpFrame } from '../wire/compose.js';
import type { EventLog } from '../model/result/event-log.js';
import type { RandomSource } from '../model/random.js';
import type { Clock, Timer } from '../model/time.js';

export interface LeaseActive {
  mac: string;
  ip: string;
  leaseSeconds: number;
}

export interface LeasequeryConfig {
  timeoutNs: number;
  /** tries per key (by MAC, by IP) */
  tries: number;
}

export const LEASEQUERY_DEFAULTS: LeasequeryConfig = { timeoutNs: 500e6, tries: 3 };

/** What the switch asks for: lease time, client-id, relay info, CLTT, associated IPs, T1, T2. */
const PARAMETERS = [51, 61, 82, 91, 92, 58, 59];

interface Query {
  mac: string;
  ip: string | null;
  by: 'mac' | 'ip';
  attempt: number;
  xid: number;
  timer: Timer;
  done: (r: LeaseActive | null) => void;
}

/** A DHCPLEASEQUERY by MAC or by IP, as a relay at `giaddr` sends it (protocols.md 4.3). */
export function leasequeryMessage(by: { mac: string } | { ip: string }, xid: number, giaddr: string): DhcpRepr {
  const byMac = 'mac' in by;
  const options = emptyDhcpOptions();
  options.messageType = DHCP.LEASEQUERY;
  options.paramRequestList = PARAMETERS;
  return {
    op: 1, htype: 1, hlen: byMac ? 6 : 0, hops: 0, xid, secs: 0, broadcast: false,
    ciaddr: byMac ? '0.0.0.0' : by.ip, yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr,
    chaddr: byMac ? by.mac : null, sname: '', file: '', options,
  };
}

export class LeasequeryClient {
  private readonly open = new Map<number, Query>();

  constructor(
    private readonly clock: Clock,
    private readonly rng: RandomSource,
    private readonly log: EventLog,
    /** the switch's own address and MAC, and where the server is (null: not seen yet) */
    private readonly self: { ip: string; mac: string },
    private readonly server: () => { ip: string; mac: string; port: number } | null,
    private readonly send: (port: number, frame: Uint8Array) => void,
    private readonly config: LeasequeryConfig = LEASEQUERY_DEFAULTS,
  ) {}

  /** Ask who holds `mac`'s lease; `knownIp` is tried if the server does not know the MAC. */
  query(mac: string, knownIp: string | null, done: (r: LeaseActive | null) => void): void {
    this.transmit({ mac, ip: knownIp, by: 'mac', attempt: 1, xid: 0, timer: { cancel() {} }, done });
  }

  /** A reply addressed to the switch; true if it answered one of our queries. */
  reply(m: DhcpRepr): boolean {
    const q = this.open.get(m.xid);
    const type = m.options.messageType;
    if (!q || m.op !== 2 || type === null || type < DHCP.LEASEUNASSIGNED || type > DHCP.LEASEACTIVE) return false;
    q.timer.cancel();
    this.open.delete(m.xid);
    const names: Record<number, string> = { 11: 'DHCPLEASEUNASSIGNED', 12: 'DHCPLEASEUNKNOWN', 13: 'DHCPLEASEACTIVE' };
    this.log.add({ t: this.clock.now(), kind: 'leasequery-reply', mac: q.mac, reply: names[type]!, ip: m.ciaddr === '0.0.0.0' ? null : m.ciaddr });
    if (type === DHCP.LEASEACTIVE && m.chaddr === q.mac && m.ciaddr !== '0.0.0.0') {
      q.done({ mac: q.mac, ip: m.ciaddr, leaseSeconds: m.options.leaseTime ?? 0 });
    } else if (q.by === 'mac' && q.ip !== null) {
      this.transmit({ ...q, by: 'ip', attempt: 1 });
    } else {
      q.done(null);
    }
    return true;
  }

  private transmit(q: Query): void {
    const server = this.server();
    if (!server) {
      this.log.add({ t: this.clock.now(), kind: 'leasequery-gave-up', mac: q.mac });
      q.done(null);
      return;
    }
    q.xid = Math.floor(this.rng.next() * 0xffffffff) >>> 0;
    const byMac = q.by === 'mac';
    const msg = leasequeryMessage(byMac ? { mac: q.mac } : { ip: q.ip! }, q.xid, this.self.ip);
    const frame = udpFrame({
      srcMac: this.self.mac, dstMac: server.mac, srcIp: this.self.ip, dstIp: server.ip,
      srcPort: DHCP_SERVER_PORT, dstPort: DHCP_SERVER_PORT, payload: emitDhcp(msg),
    });
    this.log.add({ t: this.clock.now(), kind: 'leasequery-sent', mac: q.mac, by: q.by, ip: byMac ? null : q.ip, attempt: q.attempt });
    q.timer = this.clock.schedule(this.config.timeoutNs, () => {
      this.open.delete(q.xid);
      if (q.attempt < this.config.tries) this.transmit({ ...q, attempt: q.attempt + 1 });
      else if (q.by === 'mac' && q.ip !== null) this.transmit({ ...q, by: 'ip', attempt: 1 });
      else {
        this.log.add({ t: this.clock.now(), kind: 'leasequery-gave-up', mac: q.mac });
        q.done(null);
      }
    });
    this.open.set(q.xid, q);
    this.send(server.port, frame);
  }
}
