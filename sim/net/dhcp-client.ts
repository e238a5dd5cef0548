// The sim guest's DHCP client (RFC 2131 §4.4, as dhclient and udhcpc behave): INIT →
// SELECTING → REQUESTING → BOUND, T1 RENEWING (unicast), T2 REBINDING (broadcast), expiry
// back to INIT; a NAK restarts discovery. Part of guest.ts's GuestStack.

import { BROADCAST_MAC, type Ipv4, type Mac } from '../../model/address.js';
import type { Ns } from '../../model/time.js';
import { udpFrame } from '../../wire/compose.js';
import { DHCP, DHCP_CLIENT_PORT, DHCP_OPT, DHCP_SERVER_PORT, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import type { EthernetRepr } from '../../wire/ethernet.js';
import type { Ipv4Repr } from '../../wire/ipv4.js';
import type { UdpRepr } from '../../wire/udp.js';
import { ethernetClientId, LIMITED_BROADCAST, ZERO_IP } from './frames.js';
import type { GuestIo, GuestTimer } from './guest-io.js';

/** RFC 2131 §4.4.5: renewal/rebinding retransmissions at half the remaining time, down to 60 s */
const MIN_RENEW_RETRY_NS = 60e9;
/** DHCPREQUEST in REQUESTING: sent at 0, ~4, ~12, ~28 s; no answer by ~60 s → back to INIT (as dhclient's 60 s timeout) */
const REQUEST_TRIES = 4;
/** RFC 2131 §4.1: 4 s doubling to 64 s, ±1 s */
const BACKOFF_FIRST_NS = 4e9;
const BACKOFF_MAX_NS = 64e9;
const BACKOFF_JITTER_NS = 1e9;
const PARAMETER_REQUEST_LIST: number[] = [
  DHCP_OPT.SUBNET_MASK, DHCP_OPT.ROUTERS, DHCP_OPT.DOMAIN_NAME_SERVERS, DHCP_OPT.DOMAIN_NAME,
  DHCP_OPT.LEASE_TIME, DHCP_OPT.SERVER_ID, DHCP_OPT.RENEWAL_TIME, DHCP_OPT.REBINDING_TIME,
];
const INFINITE_LEASE = 0xffffffff;

type DhcpState = 'idle' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding';

export interface Lease {
  ip: Ipv4;
  serverIp: Ipv4;
  serverMac: Mac;
  t1: Ns;
  t2: Ns;
  expires: Ns;
}

export class DhcpClient {
  private readonly clientId: Uint8Array;
  private state: DhcpState = 'idle';
  private xid = 0;
  private attempt = 0;
  private dhcpTimer: GuestTimer | null = null;
  private offer: { ip: Ipv4; serverId: Ipv4 } | null = null;
  private current: Lease | null = null;

  /** `bound`: each DHCPACK that binds an address, after the lease and its T1 timer are set. */
  constructor(
    private readonly io: GuestIo,
    private readonly bound: (ip: Ipv4, t: Ns) => void,
  ) {
    this.clientId = ethernetClientId(io.mac);
  }

  get lease(): Lease | null {
    return this.current;
  }

  /** Start the client (INIT → DISCOVER) unless it already runs. */
  boot(): void {
    if (this.state !== 'idle') return;
    this.startDiscover();
  }

  /** A RENEWING DHCPREQUEST now (nothing without a lease). */
  renewNow(): void {
    if (!this.current) return;
    this.enterRenewing();
  }

  private newXid(): void {
    this.xid = Math.floor(this.io.rng.next() * 0x100000000) >>> 0;
  }

  private backoff(attempt: number): Ns {
    const base = Math.min(BACKOFF_MAX_NS, BACKOFF_FIRST_NS * 2 ** attempt);
    return base + Math.round((this.io.rng.next() * 2 - 1) * BACKOFF_JITTER_NS);
  }

  private setDhcpTimer(delay: Ns, fn: () => void): void {
    this.io.cancel(this.dhcpTimer);
    this.dhcpTimer = this.io.after(delay, fn);
  }

  private message(type: number, f: { ciaddr?: Ipv4; requestedIp?: Ipv4; serverId?: Ipv4 }): Uint8Array {
    const o = emptyDhcpOptions();
    o.messageType = type;
    o.clientId = this.clientId;
    o.paramRequestList = PARAMETER_REQUEST_LIST;
    o.requestedIp = f.requestedIp ?? null;
    o.serverId = f.serverId ?? null;
    const m: DhcpRepr = {
      op: 1, htype: 1, hlen: 6, hops: 0, xid: this.xid, secs: 0, broadcast: false,
      ciaddr: f.ciaddr ?? ZERO_IP, yiaddr: ZERO_IP, siaddr: ZERO_IP, giaddr: ZERO_IP, chaddr: this.io.mac, sname: '', file: '', options: o,
    };
    return emitDhcp(m);
  }

  private broadcastDhcp(srcIp: Ipv4, payload: Uint8Array): void {
    this.io.send(udpFrame({ srcMac: this.io.mac, dstMac: BROADCAST_MAC, srcIp, dstIp: LIMITED_BROADCAST, srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload }));
  }

  private startDiscover(): void {
    this.state = 'selecting';
    this.offer = null;
    this.attempt = 0;
    this.newXid();
    this.sendDiscover();
  }

  private sendDiscover(): void {
    this.io.stats.discovers++;
    this.broadcastDhcp(ZERO_IP, this.message(DHCP.DISCOVER, {}));
    this.setDhcpTimer(this.backoff(this.attempt++), () => this.sendDiscover());
  }

  private sendSelectingRequest(): void {
    const offer = this.offer!;
    if (this.attempt >= REQUEST_TRIES) return this.startDiscover();
    this.io.stats.dhcpRequests++;
    this.broadcastDhcp(ZERO_IP, this.message(DHCP.REQUEST, { requestedIp: offer.ip, serverId: offer.serverId }));
    this.setDhcpTimer(this.backoff(this.attempt++), () => this.sendSelectingRequest());
  }

  /** T1 (or the host's request): unicast to the server, ciaddr = our address. */
  private enterRenewing(): void {
    this.state = 'renewing';
    this.newXid();
    this.renewStep();
  }

  private renewStep(): void {
    const lease = this.current!;
    this.io.stats.dhcpRequests++;
    this.io.stats.renewals++;
    this.io.send(udpFrame({
      srcMac: this.io.mac, dstMac: lease.serverMac, srcIp: lease.ip, dstIp: lease.serverIp,
      srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload: this.message(DHCP.REQUEST, { ciaddr: lease.ip }),
    }));
    this.retryUntil(lease.t2, () => this.renewStep(), () => this.enterRebinding());
  }

  /** T2: broadcast, ciaddr = our address. */
  private enterRebinding(): void {
    this.state = 'rebinding';
    this.newXid();
    this.rebindStep();
  }

  private rebindStep(): void {
    const lease = this.current!;
    this.io.stats.dhcpRequests++;
    this.io.stats.renewals++;
    this.broadcastDhcp(lease.ip, this.message(DHCP.REQUEST, { ciaddr: lease.ip }));
    this.retryUntil(lease.expires, () => this.rebindStep(), () => this.expire());
  }

  /** Retransmit after half the time left to `deadline`, at least 60 s; at the deadline, move on. */
  private retryUntil(deadline: Ns, again: () => void, atDeadline: () => void): void {
    const now = this.io.clock.now();
    if (!Number.isFinite(deadline)) return this.setDhcpTimer(MIN_RENEW_RETRY_NS, again); // an infinite lease renewed on request
    const next = now + Math.max((deadline - now) / 2, MIN_RENEW_RETRY_NS);
    if (next >= deadline) this.setDhcpTimer(deadline - now, atDeadline);
    else this.setDhcpTimer(next - now, again);
  }

  private expire(): void {
    this.current = null;
    this.startDiscover();
  }

  /** A datagram from the server port to the client port. */
  onDhcp(eth: EthernetRepr, ip: Ipv4Repr, udp: UdpRepr): void {
    const p = parseDhcp(udp.payload);
    if (!p.ok) return this.io.ignore();
    const m = p.value;
    if (m.op !== 2 || m.xid !== this.xid || m.chaddr !== this.io.mac) return this.io.ignore();
    const type = m.options.messageType;
    if (type === DHCP.OFFER && this.state === 'selecting' && m.yiaddr !== ZERO_IP && m.options.serverId !== null) {
      this.offer = { ip: m.yiaddr, serverId: m.options.serverId };
      this.state = 'requesting';
      this.attempt = 0;
      return this.sendSelectingRequest();
    }
    const waiting = this.state === 'requesting' || this.state === 'renewing' || this.state === 'rebinding';
    if (type === DHCP.ACK && waiting && m.yiaddr !== ZERO_IP && m.options.leaseTime !== null) return this.bind(eth, ip, m);
    if (type === DHCP.NAK && waiting) {
      this.io.stats.naks++;
      this.current = null;
      return this.startDiscover();
    }
    this.io.ignore();
  }

  private bind(eth: EthernetRepr, ip: Ipv4Repr, m: DhcpRepr): void {
    const now = this.io.clock.now();
    const leaseSec = m.options.leaseTime!;
    this.io.stats.acks++;
    this.state = 'bound';
    this.offer = null;
    this.io.cancel(this.dhcpTimer);
    this.dhcpTimer = null;
    const serverIp = m.options.serverId ?? ip.src;
    if (leaseSec === INFINITE_LEASE) {
      this.current = { ip: m.yiaddr, serverIp, serverMac: eth.src, t1: Infinity, t2: Infinity, expires: Infinity };
    } else {
      // times count from the ACK's arrival, as dhclient and udhcpc do; T1 ≤ T2 ≤ lease
      const expires = leaseSec;
      const t2 = Math.min(m.options.rebindingTime ?? (leaseSec * 7) / 8, expires);
      const t1 = Math.min(m.options.renewalTime ?? leaseSec / 2, t2);
      this.current = { ip: m.yiaddr, serverIp, serverMac: eth.src, t1: now + Math.round(t1 * 1e9), t2: now + Math.round(t2 * 1e9), expires: now + Math.round(expires * 1e9) };
      this.setDhcpTimer(this.current.t1 - now, () => this.enterRenewing());
    }
    this.bound(m.yiaddr, now);
  }
}
