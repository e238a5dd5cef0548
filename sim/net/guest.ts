// The network side of one sim VM, a Linux guest: DHCP client, IGMPv3 host, ARP, UDP echo,
// multicast receiver, and what pausing the vCPU does to them. Behaviour: docs/sim-network.md
// ("The guest").

import { BROADCAST_MAC, type Ipv4, ipWord, isIpv4Multicast, type Mac } from '../../model/address.js';
import type { FrameSink } from '../../switch/platform.js';
import type { RandomSource } from '../../model/random.js';
import type { Clock, Ns } from '../../model/time.js';
import { ARP_OP, type ArpRepr } from '../../wire/arp.js';
import { arpFrame, multicastMac, udpFrame } from '../../wire/compose.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from '../../wire/dhcp.js';
import type { EthernetRepr } from '../../wire/ethernet.js';
import type { Ipv4Repr } from '../../wire/ipv4.js';
import type { UdpRepr } from '../../wire/udp.js';
import { DhcpClient } from './dhcp-client.js';
import { be32, normalMac, readInbound, ZERO_MAC } from './frames.js';
import type { GuestIo, GuestStats, GuestTimer } from './guest-io.js';
import { IgmpHost } from './igmp-host.js';


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

export const ECHO_PORT = 7;
export const MULTICAST_DATA_PORT = 5001;

export class GuestStack {
  readonly stats: GuestStats = { discovers: 0, dhcpRequests: 0, renewals: 0, acks: 0, naks: 0, igmpReports: 0, garps: 0, echoReplies: 0, ignored: 0 };
  readonly name: string;

  private readonly mac: Mac;
  private sink: FrameSink | null = null;
  private paused = false;
  private overdue: GuestTimer[] = [];
  private readonly dhcp: DhcpClient;
  private readonly igmp: IgmpHost;

  constructor(
    private readonly clock: Clock,
    rng: RandomSource,
    private readonly config: GuestConfig,
    private readonly observers: GuestObservers = {},
  ) {
    this.name = config.name;
    this.mac = normalMac(config.mac);
    for (const g of config.groups) if (!isIpv4Multicast(g)) throw new RangeError(`${config.name}: ${g} is not an IPv4 multicast group`);
    const io: GuestIo = {
      clock, rng, mac: this.mac, stats: this.stats,
      after: (delayNs, fn) => this.after(delayNs, fn),
      cancel: (t) => this.cancel(t),
      send: (frame) => this.send(frame),
      ignore: () => this.ignore(),
    };
    this.igmp = new IgmpHost(io, [...new Set(config.groups)], () => this.dhcp.lease?.ip);
    this.dhcp = new DhcpClient(io, (ip, t) => {
      this.observers.leased?.(ip, t);
      this.igmp.joinGroups(); // the first time; later ACKs find them joined (memberships outlive a lost lease, as on Linux)
    });
  }

  get ip(): string | null {
    return this.dhcp.lease?.ip ?? null;
  }

  get serverIp(): string | null {
    return this.dhcp.lease?.serverIp ?? null;
  }

  /** The groups joined so far (all of the configured ones once the first lease is bound). */
  get joinedGroups(): string[] {
    return this.igmp.joinedGroups;
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
    this.dhcp.boot();
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
    this.dhcp.renewNow();
  }

  /** Linux NETDEV_RESEND_IGMP (ip_mc_rejoin_groups): one report per joined group, now (deferred to resume while paused). */
  rejoinGroups(): void {
    if (this.paused) {
      this.after(0, () => this.rejoinGroups());
      return;
    }
    this.igmp.rejoin();
  }

  receive(frame: Uint8Array): void {
    const f = readInbound(frame);
    if (!f || !this.accepts(f.eth.dst)) return this.ignore();
    if (f.kind === 'arp') return this.onArp(f.arp);
    if (f.kind === 'igmp') return this.igmp.onIgmp(f.igmp);
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
    return dst === this.mac || dst === BROADCAST_MAC || this.igmp.listens(dst);
  }

  // --- ARP ------------------------------------------------------------------------------

  private onArp(a: ArpRepr): void {
    const ip = this.dhcp.lease?.ip;
    if (a.op !== ARP_OP.REQUEST || ip === undefined || a.targetIp !== ip || a.senderIp === ip) return this.ignore();
    this.send(arpFrame(a.senderMac, { op: ARP_OP.REPLY, senderMac: this.mac, senderIp: ip, targetMac: a.senderMac, targetIp: a.senderIp }));
  }

  /** A broadcast ARP request for our own address (Linux arp_notify / NETDEV_NOTIFY_PEERS). */
  private gratuitousArp(): void {
    const ip = this.dhcp.lease?.ip;
    if (ip === undefined) return;
    if (this.send(arpFrame(BROADCAST_MAC, { op: ARP_OP.REQUEST, senderMac: this.mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip }))) {
      this.stats.garps++;
    }
  }

  // --- UDP: DHCP, echo and multicast data -------------------------------------------------

  private onUdp(eth: EthernetRepr, ip: Ipv4Repr, udp: UdpRepr): void {
    if (udp.dstPort === DHCP_CLIENT_PORT && udp.srcPort === DHCP_SERVER_PORT) return this.dhcp.onDhcp(eth, ip, udp);
    const own: Ipv4 | undefined = this.dhcp.lease?.ip;
    if (udp.dstPort === ECHO_PORT && own !== undefined && ip.dst === own && eth.dst === this.mac) {
      const src = ipWord(ip.src);
      if (src === 0 || src >>> 28 >= 0xe) return this.ignore(); // no echo to 0.0.0.0, multicast, class E / broadcast
      if (this.send(udpFrame({
        srcMac: this.mac, dstMac: eth.src, srcIp: own, dstIp: ip.src, srcPort: udp.dstPort, dstPort: udp.srcPort, payload: udp.payload,
      }))) this.stats.echoReplies++;
      return;
    }
    if (udp.dstPort === MULTICAST_DATA_PORT && this.igmp.has(ip.dst) && eth.dst === multicastMac(ip.dst) && udp.payload.length >= 4) {
      this.observers.multicast?.(ip.dst, be32(udp.payload, 0), this.clock.now());
      return;
    }
    this.ignore();
  }
}
