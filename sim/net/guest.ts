// The network side of one VM, a Linux guest: a DHCP client (RFC 2131 §4.4, as dhclient and
// udhcpc behave), an IGMPv3 host with v2 compatibility (Linux net/ipv4/igmp.c, protocols.md
// §5.3), ARP for its own address, a UDP echo service on port 7 and a receiver for the sim's
// multicast streams (port 5001, 32-bit sequence number first).
//
// Pausing models a stopped vCPU: nothing is sent and no timer runs; timers that came due
// while paused run at resume, in order, then the resume announcement (gratuitous ARP, IGMP
// re-reports: what virtio-net's guest announce makes Linux do, netdev_notify_peers).

import { BROADCAST_MAC, type Ipv4, ipWord, isIpv4Multicast, type Mac } from '../../model/address.js';
import type { FrameSink } from '../../switch/platform.js';
import type { RandomSource } from '../../model/random.js';
import type { Clock, Ns, Timer } from '../../model/time.js';
import { ARP_OP, type ArpRepr } from '../../wire/arp.js';
import { arpFrame, igmpFrame, multicastMac, udpFrame } from '../../wire/compose.js';
import { DHCP, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import type { EthernetRepr } from '../../wire/ethernet.js';
import { IGMP_RECORD, type IgmpGroupRecord, type IgmpRepr } from '../../wire/igmp.js';
import type { Ipv4Repr } from '../../wire/ipv4.js';
import type { UdpRepr } from '../../wire/udp.js';
import { be32, ethernetClientId, LIMITED_BROADCAST, normalMac, readInbound, ZERO_IP, ZERO_MAC } from './frames.js';

export interface GuestConfig {
  name: string;
  mac: string;
  groups: string[];
  announceOnResume: 'none' | 'garp' | 'garp+igmp';
}

export interface GuestObservers {
  /** each multicast datagram received: group, sequence number, time */
  multicast?(group: string, seq: number, t: number): void;
  /** each DHCPACK that binds an address: the first one and every renewal/rebinding */
  leased?(ip: string, t: number): void;
}

export interface GuestStats {
  discovers: number;
  /** DHCPREQUESTs sent, every state, retransmissions included */
  dhcpRequests: number;
  /** the DHCPREQUESTs of those sent RENEWING or REBINDING (T1, T2, renewNow) */
  renewals: number;
  acks: number;
  naks: number;
  igmpReports: number;
  garps: number;
  echoReplies: number;
  ignored: number;
}

export const ECHO_PORT = 7;
export const MULTICAST_DATA_PORT = 5001;
const ALL_HOSTS: Ipv4 = '224.0.0.1';
const IGMPV3_ROUTERS: Ipv4 = '224.0.0.22';
const ALL_HOSTS_MAC = multicastMac(ALL_HOSTS);
/** IGMP_V2_ROUTER_PRESENT_TIMEOUT (v1's is the same 400 s) */
const OLDER_QUERIER_PRESENT_NS = 400e9;
/** IGMP_V3/V2_UNSOLICITED_REPORT_INTERVAL */
const UNSOLICITED_V3_NS = 1e9;
const UNSOLICITED_V2_NS = 10e9;
/** RFC 2131 §4.4.5: renewal/rebinding retransmissions at half the remaining time, down to 60 s */
const MIN_RENEW_RETRY_NS = 60e9;
/** DHCPREQUEST in REQUESTING: sent at 0, ~4, ~12, ~28 s; no answer by ~60 s → back to INIT (as dhclient's 60 s timeout) */
const REQUEST_TRIES = 4;
/** RFC 2131 §4.1: 4 s doubling to 64 s, ±1 s */
const BACKOFF_FIRST_NS = 4e9;
const BACKOFF_MAX_NS = 64e9;
const BACKOFF_JITTER_NS = 1e9;
const PARAMETER_REQUEST_LIST = [1, 3, 6, 15, 51, 54, 58, 59];
const INFINITE_LEASE = 0xffffffff;

type DhcpState = 'idle' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding';

interface GuestTimer {
  due: Ns;
  fn: () => void;
  handle: Timer | null;
  done: boolean;
}

interface Lease {
  ip: Ipv4;
  serverIp: Ipv4;
  serverMac: Mac;
  t1: Ns;
  t2: Ns;
  expires: Ns;
}


export class GuestStack {
  readonly stats: GuestStats = { discovers: 0, dhcpRequests: 0, renewals: 0, acks: 0, naks: 0, igmpReports: 0, garps: 0, echoReplies: 0, ignored: 0 };
  readonly name: string;

  private readonly mac: Mac;
  private readonly clientId: Uint8Array;
  private readonly groups: Ipv4[];
  private sink: FrameSink | null = null;
  private paused = false;
  private overdue: GuestTimer[] = [];

  private state: DhcpState = 'idle';
  private xid = 0;
  private attempt = 0;
  private dhcpTimer: GuestTimer | null = null;
  private offer: { ip: Ipv4; serverId: Ipv4 } | null = null;
  private lease: Lease | null = null;

  private readonly joined = new Set<Ipv4>();
  private readonly joinedMacs = new Set<Mac>();
  private generalTimer: GuestTimer | null = null;
  private readonly groupTimers = new Map<Ipv4, GuestTimer>();
  private olderQuerierUntil = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly rng: RandomSource,
    private readonly config: GuestConfig,
    private readonly observers: GuestObservers = {},
  ) {
    this.name = config.name;
    this.mac = normalMac(config.mac);
    this.clientId = ethernetClientId(this.mac);
    for (const g of config.groups) if (!isIpv4Multicast(g)) throw new RangeError(`${config.name}: ${g} is not an IPv4 multicast group`);
    this.groups = [...new Set(config.groups)];
  }

  get ip(): string | null {
    return this.lease?.ip ?? null;
  }

  get serverIp(): string | null {
    return this.lease?.serverIp ?? null;
  }

  /** The groups joined so far (all of the configured ones once the first lease is bound). */
  get joinedGroups(): string[] {
    return [...this.joined];
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The host the VM currently runs on; frames go out through it. */
  attach(sink: FrameSink): void {
    this.sink = sink;
  }

  /** Start the DHCP client (INIT → DISCOVER); the groups are joined once leased. */
  boot(): void {
    if (this.state !== 'idle') return;
    this.startDiscover();
  }

  pause(): void {
    this.paused = true;
  }

  /** `announce: false` for a VM that continues where it was (a migration given up): QEMU announces only on the destination. */
  resume(announce = true): void {
    if (!this.paused) return;
    this.paused = false;
    const due = this.overdue;
    this.overdue = [];
    due.sort((a, b) => a.due - b.due);
    for (const t of due) this.fire(t);
    if (!announce || this.config.announceOnResume === 'none') return;
    this.gratuitousArp();
    if (this.config.announceOnResume === 'garp+igmp') this.rejoinGroups();
  }

  /** The host asked the VM to re-request: a RENEWING DHCPREQUEST now (deferred to resume while paused; nothing without a lease). */
  renewNow(): void {
    if (this.paused) {
      this.after(0, () => this.renewNow());
      return;
    }
    if (!this.lease) return;
    this.enterRenewing();
  }

  /** Linux NETDEV_RESEND_IGMP (ip_mc_rejoin_groups): one report per joined group, now (deferred to resume while paused). */
  rejoinGroups(): void {
    if (this.paused) {
      this.after(0, () => this.rejoinGroups());
      return;
    }
    for (const g of this.joined) if (this.reportable(g)) this.reportCurrent(g);
  }

  receive(frame: Uint8Array): void {
    const f = readInbound(frame);
    if (!f || !this.accepts(f.eth.dst)) return this.ignore();
    if (f.kind === 'arp') return this.onArp(f.arp);
    if (f.kind === 'igmp') return this.onIgmp(f.igmp);
    return this.onUdp(f.eth, f.ip, f.udp);
  }

  // --- time and output ----------------------------------------------------------------------

  /** A timer that does not run while the VM is paused (it runs at resume if it came due). */
  private after(delayNs: Ns, fn: () => void): GuestTimer {
    const delay = Math.max(0, Math.round(delayNs));
    const t: GuestTimer = { due: this.clock.now() + delay, fn, handle: null, done: false };
    t.handle = this.clock.schedule(delay, () => {
      if (t.done) return;
      if (this.paused) this.overdue.push(t);
      else this.fire(t);
    });
    return t;
  }

  private fire(t: GuestTimer): void {
    if (t.done) return;
    t.done = true;
    t.fn();
  }

  private cancel(t: GuestTimer | null): void {
    if (!t) return;
    t.done = true;
    t.handle?.cancel();
  }

  private pending(t: GuestTimer | null | undefined): t is GuestTimer {
    return t !== null && t !== undefined && !t.done;
  }

  private send(frame: Uint8Array): boolean {
    if (this.paused || !this.sink) return false;
    this.sink(frame);
    return true;
  }

  private ignore(): void {
    this.stats.ignored++;
  }

  /** The NIC's receive filter: our MAC, broadcast, all-hosts and the joined groups' MACs. */
  private accepts(dst: Mac): boolean {
    return dst === this.mac || dst === BROADCAST_MAC || dst === ALL_HOSTS_MAC || this.joinedMacs.has(dst);
  }

  // --- DHCP client ----------------------------------------------------------------------

  private newXid(): void {
    this.xid = Math.floor(this.rng.next() * 0x100000000) >>> 0;
  }

  private backoff(attempt: number): Ns {
    const base = Math.min(BACKOFF_MAX_NS, BACKOFF_FIRST_NS * 2 ** attempt);
    return base + Math.round((this.rng.next() * 2 - 1) * BACKOFF_JITTER_NS);
  }

  private setDhcpTimer(delay: Ns, fn: () => void): void {
    this.cancel(this.dhcpTimer);
    this.dhcpTimer = this.after(delay, fn);
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
      ciaddr: f.ciaddr ?? ZERO_IP, yiaddr: ZERO_IP, siaddr: ZERO_IP, giaddr: ZERO_IP, chaddr: this.mac, sname: '', file: '', options: o,
    };
    return emitDhcp(m);
  }

  private broadcastDhcp(srcIp: Ipv4, payload: Uint8Array): void {
    this.send(udpFrame({ srcMac: this.mac, dstMac: BROADCAST_MAC, srcIp, dstIp: LIMITED_BROADCAST, srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload }));
  }

  private startDiscover(): void {
    this.state = 'selecting';
    this.offer = null;
    this.attempt = 0;
    this.newXid();
    this.sendDiscover();
  }

  private sendDiscover(): void {
    this.stats.discovers++;
    this.broadcastDhcp(ZERO_IP, this.message(DHCP.DISCOVER, {}));
    this.setDhcpTimer(this.backoff(this.attempt++), () => this.sendDiscover());
  }

  private sendSelectingRequest(): void {
    const offer = this.offer!;
    if (this.attempt >= REQUEST_TRIES) return this.startDiscover();
    this.stats.dhcpRequests++;
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
    const lease = this.lease!;
    this.stats.dhcpRequests++;
    this.stats.renewals++;
    this.send(udpFrame({
      srcMac: this.mac, dstMac: lease.serverMac, srcIp: lease.ip, dstIp: lease.serverIp,
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
    const lease = this.lease!;
    this.stats.dhcpRequests++;
    this.stats.renewals++;
    this.broadcastDhcp(lease.ip, this.message(DHCP.REQUEST, { ciaddr: lease.ip }));
    this.retryUntil(lease.expires, () => this.rebindStep(), () => this.expire());
  }

  /** Retransmit after half the time left to `deadline`, at least 60 s; at the deadline, move on. */
  private retryUntil(deadline: Ns, again: () => void, atDeadline: () => void): void {
    const now = this.clock.now();
    if (!Number.isFinite(deadline)) return this.setDhcpTimer(MIN_RENEW_RETRY_NS, again); // an infinite lease renewed on request
    const next = now + Math.max((deadline - now) / 2, MIN_RENEW_RETRY_NS);
    if (next >= deadline) this.setDhcpTimer(deadline - now, atDeadline);
    else this.setDhcpTimer(next - now, again);
  }

  private expire(): void {
    this.lease = null;
    this.startDiscover();
  }

  private onDhcp(eth: EthernetRepr, ip: Ipv4Repr, udp: UdpRepr): void {
    const p = parseDhcp(udp.payload);
    if (!p.ok) return this.ignore();
    const m = p.value;
    if (m.op !== 2 || m.xid !== this.xid || m.chaddr !== this.mac) return this.ignore();
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
      this.stats.naks++;
      this.lease = null;
      return this.startDiscover();
    }
    this.ignore();
  }

  private bind(eth: EthernetRepr, ip: Ipv4Repr, m: DhcpRepr): void {
    const now = this.clock.now();
    const leaseSec = m.options.leaseTime!;
    this.stats.acks++;
    this.state = 'bound';
    this.offer = null;
    this.cancel(this.dhcpTimer);
    this.dhcpTimer = null;
    const serverIp = m.options.serverId ?? ip.src;
    if (leaseSec === INFINITE_LEASE) {
      this.lease = { ip: m.yiaddr, serverIp, serverMac: eth.src, t1: Infinity, t2: Infinity, expires: Infinity };
    } else {
      // times count from the ACK's arrival, as dhclient and udhcpc do; T1 ≤ T2 ≤ lease
      const expires = leaseSec;
      const t2 = Math.min(m.options.rebindingTime ?? (leaseSec * 7) / 8, expires);
      const t1 = Math.min(m.options.renewalTime ?? leaseSec / 2, t2);
      this.lease = { ip: m.yiaddr, serverIp, serverMac: eth.src, t1: now + Math.round(t1 * 1e9), t2: now + Math.round(t2 * 1e9), expires: now + Math.round(expires * 1e9) };
      this.setDhcpTimer(this.lease.t1 - now, () => this.enterRenewing());
    }
    this.observers.leased?.(m.yiaddr, now);
    this.joinGroups(); // the first time; later ACKs find them joined (memberships outlive a lost lease, as on Linux)
  }

  // --- ARP ------------------------------------------------------------------------------

  private onArp(a: ArpRepr): void {
    const ip = this.lease?.ip;
    if (a.op !== ARP_OP.REQUEST || ip === undefined || a.targetIp !== ip || a.senderIp === ip) return this.ignore();
    this.send(arpFrame(a.senderMac, { op: ARP_OP.REPLY, senderMac: this.mac, senderIp: ip, targetMac: a.senderMac, targetIp: a.senderIp }));
  }

  /** A broadcast ARP request for our own address (Linux arp_notify / NETDEV_NOTIFY_PEERS). */
  private gratuitousArp(): void {
    const ip = this.lease?.ip;
    if (ip === undefined) return;
    if (this.send(arpFrame(BROADCAST_MAC, { op: ARP_OP.REQUEST, senderMac: this.mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip }))) {
      this.stats.garps++;
    }
  }

  // --- UDP: echo and multicast data -----------------------------------------------------

  private onUdp(eth: EthernetRepr, ip: Ipv4Repr, udp: UdpRepr): void {
    if (udp.dstPort === DHCP_CLIENT_PORT && udp.srcPort === DHCP_SERVER_PORT) return this.onDhcp(eth, ip, udp);
    const own = this.lease?.ip;
    if (udp.dstPort === ECHO_PORT && own !== undefined && ip.dst === own && eth.dst === this.mac) {
      const src = ipWord(ip.src);
      if (src === 0 || src >>> 28 >= 0xe) return this.ignore(); // no echo to 0.0.0.0, multicast, class E / broadcast
      if (this.send(udpFrame({
        srcMac: this.mac, dstMac: eth.src, srcIp: own, dstIp: ip.src, srcPort: udp.dstPort, dstPort: udp.srcPort, payload: udp.payload,
      }))) this.stats.echoReplies++;
      return;
    }
    if (udp.dstPort === MULTICAST_DATA_PORT && this.joined.has(ip.dst) && eth.dst === multicastMac(ip.dst) && udp.payload.length >= 4) {
      this.observers.multicast?.(ip.dst, be32(udp.payload, 0), this.clock.now());
      return;
    }
    this.ignore();
  }

  // --- IGMP host --------------------------------------------------------------------------

  /** 224.0.0.x is never reported (Linux without igmp_link_local_mcast_reports). */
  private reportable(g: Ipv4): boolean {
    return !g.startsWith('224.0.0.');
  }

  private olderQuerier(): boolean {
    return this.clock.now() < this.olderQuerierUntil;
  }

  private joinGroups(): void {
    for (const g of this.groups) {
      if (this.joined.has(g)) continue;
      this.joined.add(g);
      this.joinedMacs.add(multicastMac(g));
      if (!this.reportable(g)) continue;
      // state-change report now and once more (robustness 2) within the unsolicited report interval
      const v2 = this.olderQuerier();
      this.stateChange(g);
      this.after(Math.floor(this.rng.next() * (v2 ? UNSOLICITED_V2_NS : UNSOLICITED_V3_NS)), () => this.stateChange(g));
    }
  }

  private stateChange(g: Ipv4): void {
    if (!this.joined.has(g)) return;
    if (this.olderQuerier()) this.sendV2Report(g);
    else this.sendV3Report([{ type: IGMP_RECORD.TO_EX, group: g, sources: [], auxData: new Uint8Array(0) }]);
  }

  /** Current-state report for one group: v2 while an older querier is present, else v3 IS_EX. */
  private reportCurrent(g: Ipv4): void {
    if (this.olderQuerier()) this.sendV2Report(g);
    else this.sendV3Report([{ type: IGMP_RECORD.IS_EX, group: g, sources: [], auxData: new Uint8Array(0) }]);
  }

  private sendV3Report(records: IgmpGroupRecord[]): void {
    const frame = igmpFrame({
      srcMac: this.mac, dstMac: multicastMac(IGMPV3_ROUTERS), srcIp: this.lease?.ip ?? ZERO_IP, dstIp: IGMPV3_ROUTERS,
      igmp: { kind: 'v3report', records },
    });
    if (this.send(frame)) this.stats.igmpReports++;
  }

  private sendV2Report(g: Ipv4): void {
    const frame = igmpFrame({ srcMac: this.mac, dstMac: multicastMac(g), srcIp: this.lease?.ip ?? ZERO_IP, dstIp: g, igmp: { kind: 'report', version: 2, group: g } });
    if (this.send(frame)) this.stats.igmpReports++;
  }

  private onIgmp(igmp: IgmpRepr): void {
    if (igmp.kind === 'report' && this.joined.has(igmp.group)) {
      // igmp_heard_report: another member's v1/v2 report for the group suppresses ours
      this.cancel(this.groupTimers.get(igmp.group) ?? null);
      this.groupTimers.delete(igmp.group);
      return;
    }
    if (igmp.kind !== 'query') return this.ignore();
    const maxNs = igmp.maxRespDs * 1e8;
    const general = igmp.group === ZERO_IP;
    if (igmp.version !== 3) this.olderQuerierUntil = this.clock.now() + OLDER_QUERIER_PRESENT_NS;
    if (igmp.version === 3 && general && !this.olderQuerier()) {
      // igmp_gq_start_timer: one interface timer, a pending one that fires sooner is kept
      const delay = this.randomBelow(maxNs);
      const due = this.clock.now() + delay;
      if (this.pending(this.generalTimer) && this.generalTimer.due <= due) return;
      this.cancel(this.generalTimer);
      this.generalTimer = this.after(delay, () => this.sendGeneralReport());
      return;
    }
    // v1/v2 queries, v3 queries while an older querier is present, and group-specific queries: per-group timers
    for (const g of general ? this.joined : this.joined.has(igmp.group) ? [igmp.group] : []) {
      if (!this.reportable(g)) continue;
      const delay = this.randomBelow(maxNs);
      const due = this.clock.now() + delay;
      const t = this.groupTimers.get(g);
      if (this.pending(t) && t.due <= due) continue;
      this.cancel(t ?? null);
      this.groupTimers.set(g, this.after(delay, () => {
        this.groupTimers.delete(g);
        if (this.joined.has(g)) this.reportCurrent(g);
      }));
    }
  }

  /** Uniform integer ns in [0, max) (0 when max is 0). */
  private randomBelow(maxNs: Ns): Ns {
    return Math.floor(this.rng.next() * maxNs);
  }

  /** The answer to a v3 general query: one report, every group IS_EX. */
  private sendGeneralReport(): void {
    this.generalTimer = null;
    const records: IgmpGroupRecord[] = [];
    for (const g of this.joined) if (this.reportable(g)) records.push({ type: IGMP_RECORD.IS_EX, group: g, sources: [], auxData: new Uint8Array(0) });
    if (records.length > 0) this.sendV3Report(records);
  }
}
