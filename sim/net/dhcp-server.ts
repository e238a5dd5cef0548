// The sim's DHCP server, a model of ISC dhcpd 4.4 talking real frames: DORA, renewals,
// RELEASE/DECLINE and RFC 4388 leasequery. This file handles the messages; the leases are
// dhcp-leases.ts, the ARP next hops arp-next-hop.ts. What it models: docs/sim-network.md,
// docs/protocols.md 4.2.

import { BROADCAST_MAC, type Ipv4, ipWord, type Mac, u32ToIp } from '../../model/address.js';
import type { FrameSink } from '../../switch/platform.js';
import type { Clock } from '../../model/time.js';
import type { ArpRepr } from '../../wire/arp.js';
import { udpFrame } from '../../wire/compose.js';
import { DHCP, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpOptions, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import { NextHops } from './arp-next-hop.js';
import { type Client, type DhcpLease, type LeaseRecord, LeaseStore, sec } from './dhcp-leases.js';
import { bytesEqual, inSubnet, LIMITED_BROADCAST, normalMac, parseCidr, readInbound, type Subnet, wordOf, ZERO_IP } from './frames.js';

export interface DhcpServerConfig {
  mac: string;
  ip: string;
  /** CIDR */
  subnet: string;
  /** whole seconds (a fraction is rounded; at least 1) */
  leaseSeconds: number;
  poolFirst: string;
  poolLast: string;
  /** processing time per message */
  processingNs: number;
}

export interface DhcpServerStats {
  discovers: number;
  offers: number;
  requests: number;
  acks: number;
  /** of the ACKs, those that gave an unaltered young lease (dhcp-cache-threshold) */
  reused: number;
  naks: number;
  releases: number;
  declines: number;
  leasequeries: number;
  leaseActive: number;
  leaseUnknown: number;
  leaseUnassigned: number;
  /** ARP requests sent to resolve a next hop */
  arpRequests: number;
  /** replies dropped because their next hop never answered ARP */
  unresolved: number;
  ignored: number;
}

/** An OFFER reserves its address for the client this long (then anyone may take it). */
export const OFFER_HOLD_NS = 120e9;

export class DhcpServerModel {
  readonly stats: DhcpServerStats = {
    discovers: 0, offers: 0, requests: 0, acks: 0, reused: 0, naks: 0, releases: 0, declines: 0,
    leasequeries: 0, leaseActive: 0, leaseUnknown: 0, leaseUnassigned: 0, arpRequests: 0, unresolved: 0, ignored: 0,
  };

  private readonly mac: Mac;
  private readonly ip: Ipv4;
  private readonly ipWord: number;
  private readonly subnet: Subnet;
  private readonly mask: Ipv4;
  private readonly leaseSec: number;
  private readonly store: LeaseStore;
  private readonly hops: NextHops;

  constructor(
    private readonly clock: Clock,
    private readonly sink: FrameSink,
    private readonly config: DhcpServerConfig,
  ) {
    this.mac = normalMac(config.mac);
    this.ip = config.ip;
    this.ipWord = wordOf(config.ip);
    this.subnet = parseCidr(config.subnet);
    this.mask = u32ToIp(this.subnet.mask);
    const poolFirst = wordOf(config.poolFirst);
    const poolLast = wordOf(config.poolLast);
    if (!inSubnet(this.subnet, this.ipWord)) throw new RangeError(`server address ${config.ip} is not in ${config.subnet}`);
    if (poolFirst > poolLast || !inSubnet(this.subnet, poolFirst) || !inSubnet(this.subnet, poolLast)) {
      throw new RangeError(`pool ${config.poolFirst}–${config.poolLast} is not a range inside ${config.subnet}`);
    }
    if (!Number.isFinite(config.leaseSeconds) || config.leaseSeconds <= 0) throw new RangeError(`lease time ${config.leaseSeconds} s is not positive`);
    this.leaseSec = Math.min(0xffffffff, Math.max(1, Math.round(config.leaseSeconds)));
    if (!(config.processingNs >= 0)) throw new RangeError(`processing time ${config.processingNs} ns is negative`);
    this.store = new LeaseStore(this.ipWord, this.subnet, poolFirst, poolLast);
    this.hops = new NextHops(clock, sink, this.mac, this.ip, this.subnet.broadcast, this.stats);
  }

  /** The active (bound, unexpired) leases, by address. */
  leases(): DhcpLease[] {
    return this.store.active(this.clock.now());
  }

  receive(frame: Uint8Array): void {
    const f = readInbound(frame);
    if (!f) return this.ignore();
    if (f.kind === 'arp') return this.onArp(f.arp);
    if (f.kind !== 'udp') return this.ignore();
    const { eth, ip, udp } = f;
    if (udp.dstPort !== DHCP_SERVER_PORT) return this.ignore();
    if (eth.dst !== this.mac && eth.dst !== BROADCAST_MAC) return this.ignore();
    const dstWord = ipWord(ip.dst);
    if (dstWord !== this.ipWord && ip.dst !== LIMITED_BROADCAST && dstWord !== this.subnet.broadcast) return this.ignore();
    // a private copy: the message is handled later, and leases keep views of it (client-id)
    const m = parseDhcp(udp.payload.slice());
    if (!m.ok || m.value.op !== 1 || m.value.options.messageType === null) return this.ignore();
    const msg = m.value;
    this.clock.schedule(this.config.processingNs, () => this.handle(msg));
  }

  // --- DHCP -----------------------------------------------------------------------------

  private handle(m: DhcpRepr): void {
    switch (m.options.messageType) {
      case DHCP.DISCOVER:
        this.stats.discovers++;
        return this.discover(m);
      case DHCP.REQUEST:
        this.stats.requests++;
        return this.request(m);
      case DHCP.DECLINE:
        this.stats.declines++;
        return this.decline(m);
      case DHCP.RELEASE:
        this.stats.releases++;
        return this.release(m);
      case DHCP.LEASEQUERY:
        this.stats.leasequeries++;
        return this.leasequery(m);
      default:
        return this.ignore(); // INFORM, BOOTP, server messages
    }
  }

  private clientOf(m: DhcpRepr): Client | null {
    if (m.chaddr === null) return null;
    return { mac: m.chaddr, htype: m.htype, clientId: m.options.clientId };
  }

  private discover(m: DhcpRepr): void {
    const client = this.clientOf(m);
    if (!client) return this.ignore();
    const now = this.clock.now();
    let rec = this.store.clientRecord(client, now);
    if (!rec && m.options.requestedIp !== null) {
      const w = ipWord(m.options.requestedIp);
      if (this.store.inPool(w)) {
        const r = this.store.get(w);
        if (!r || this.store.tier(r, now) === 0 || this.store.tier(r, now) === 1) rec = this.store.record(w);
      }
    }
    rec ??= this.store.allocate(now);
    if (!rec) return this.ignore(); // no free leases
    if (!this.store.isActive(rec, now)) {
      this.store.setClient(rec, client);
      rec.offerUntil = now + OFFER_HOLD_NS;
    }
    this.stats.offers++;
    const leaseSec = this.store.reusable(rec, client, now) ? this.store.remainingSec(rec, now) : this.leaseSec;
    this.replyToClient(m, this.leaseReply(m, DHCP.OFFER, rec.ip, leaseSec), false);
  }

  private request(m: DhcpRepr): void {
    const client = this.clientOf(m);
    if (!client) return this.ignore();
    const now = this.clock.now();
    const sid = m.options.serverId;
    if (sid !== null && sid !== this.ip) {
      // SELECTING another server's offer: ours is withdrawn (RFC 2131 §4.3.2)
      const rec = this.store.clientRecord(client, now);
      if (rec && !this.store.isActive(rec, now)) rec.offerUntil = -1;
      return;
    }
    let asked: Ipv4 | null;
    if (sid !== null) asked = m.options.requestedIp ?? (m.ciaddr !== ZERO_IP ? m.ciaddr : null); // SELECTING
    else if (m.ciaddr === ZERO_IP) asked = m.options.requestedIp; // INIT-REBOOT
    else asked = m.ciaddr; // RENEWING (unicast) or REBINDING (broadcast)
    if (asked === null) return this.ignore();
    const w = ipWord(asked);
    if (!this.store.inSubnet(w)) return this.nak(m); // "wrong network"
    if (!this.store.inPool(w)) return this.ignore(); // "unknown lease": ISC stays silent
    const existing = this.store.get(w);
    if (existing && !this.store.availableTo(existing, client, now)) return this.nak(m); // "lease unavailable"
    const rec = existing ?? this.store.record(w);
    // reuse_lease: answered with the lease as it is. (ISC also refuses reuse to the REQUEST
    // after an OFFER that could not reuse, because that OFFER restarted the lease in memory;
    // ours does not touch the lease, so the age test alone gives the same answer.)
    if (this.store.reusable(rec, client, now)) {
      this.stats.acks++;
      this.stats.reused++;
      this.replyToClient(m, this.leaseReply(m, DHCP.ACK, rec.ip, this.store.remainingSec(rec, now)), false);
      return;
    }
    this.store.setClient(rec, client);
    rec.binding = 'active';
    rec.start = now;
    rec.end = now + this.leaseSec * 1e9;
    rec.cltt = now;
    rec.offerUntil = -1;
    // ISC stores option 82 with the lease and keeps it for renewals that come without it
    if (m.options.relayAgentInfo !== null) rec.agentInfo = m.options.relayAgentInfo;
    this.stats.acks++;
    this.replyToClient(m, this.leaseReply(m, DHCP.ACK, rec.ip, this.leaseSec), false);
  }

  private nak(m: DhcpRepr): void {
    const o = emptyDhcpOptions();
    o.messageType = DHCP.NAK;
    o.serverId = this.ip;
    o.relayAgentInfo = m.options.relayAgentInfo;
    this.stats.naks++;
    this.replyToClient(m, this.bootReply(m, { ciaddr: ZERO_IP, yiaddr: ZERO_IP, options: o }), true);
  }

  private release(m: DhcpRepr): void {
    const client = this.clientOf(m);
    const rec = this.store.get(ipWord(m.ciaddr));
    const now = this.clock.now();
    if (!client || !rec || !this.store.sameClient(rec, client) || !this.store.isActive(rec, now)) return this.ignore();
    rec.binding = 'released';
    rec.end = now;
  }

  private decline(m: DhcpRepr): void {
    const client = this.clientOf(m);
    const rec = m.options.requestedIp === null ? undefined : this.store.get(ipWord(m.options.requestedIp));
    if (!client || !rec || !this.store.sameClient(rec, client)) return this.ignore();
    rec.binding = 'abandoned';
    rec.mac = null;
    rec.clientId = null;
    rec.offerUntil = -1;
    rec.end = this.clock.now();
  }

  /** OFFER/ACK: yiaddr and options 53, 54, 51, 58 = lease/2, 59 = lease·7/8, 1 (and 82 echoed, RFC 3046). */
  private leaseReply(m: DhcpRepr, type: number, ip: Ipv4, leaseSec: number): DhcpRepr {
    const o = emptyDhcpOptions();
    o.messageType = type;
    o.serverId = this.ip;
    o.leaseTime = leaseSec;
    o.renewalTime = Math.floor(leaseSec / 2);
    o.rebindingTime = Math.floor((leaseSec * 7) / 8);
    o.subnetMask = this.mask;
    o.relayAgentInfo = m.options.relayAgentInfo;
    return this.bootReply(m, { ciaddr: m.ciaddr, yiaddr: ip, options: o });
  }

  private bootReply(m: DhcpRepr, r: { ciaddr: Ipv4; yiaddr: Ipv4; options: DhcpOptions }): DhcpRepr {
    return {
      op: 2, htype: m.htype, hlen: m.hlen, hops: 0, xid: m.xid, secs: 0, broadcast: m.broadcast,
      ciaddr: r.ciaddr, yiaddr: r.yiaddr, siaddr: ZERO_IP, giaddr: m.giaddr, chaddr: m.chaddr, sname: '', file: '', options: r.options,
    };
  }

  /** RFC 2131 §4.1 (and §4.3.2 for DHCPNAK). */
  private replyToClient(req: DhcpRepr, reply: DhcpRepr, nak: boolean): void {
    const payload = (r: DhcpRepr) => emitDhcp(r);
    if (req.giaddr !== ZERO_IP) {
      const body = payload(nak ? { ...reply, broadcast: true } : reply);
      return this.sendIp(req.giaddr, DHCP_SERVER_PORT, body);
    }
    const body = payload(reply);
    if (nak) return this.sendTo(BROADCAST_MAC, LIMITED_BROADCAST, DHCP_CLIENT_PORT, body);
    if (req.ciaddr !== ZERO_IP) return this.sendIp(req.ciaddr, DHCP_CLIENT_PORT, body);
    if (req.broadcast || req.chaddr === null) return this.sendTo(BROADCAST_MAC, LIMITED_BROADCAST, DHCP_CLIENT_PORT, body);
    this.sendTo(req.chaddr, reply.yiaddr, DHCP_CLIENT_PORT, body);
  }

  // --- RFC 4388 leasequery ----------------------------------------------------------------

  private leasequery(m: DhcpRepr): void {
    if (m.giaddr === ZERO_IP) return this.ignore(); // "missing giaddr, … no reply sent"
    const now = this.clock.now();
    let rec: LeaseRecord | null = null;
    let associated: Ipv4[] = [];
    let ciaddr = m.ciaddr;
    if (m.ciaddr !== ZERO_IP) {
      const w = ipWord(m.ciaddr);
      // every pool address has a lease object in ISC (free ones answer UNASSIGNED)
      if (this.store.inPool(w)) rec = this.store.get(w) ?? this.store.phantom(w);
    } else {
      const cid = m.options.clientId;
      const mine =
        cid !== null
          ? this.store.all().filter((r) => r.clientId !== null && bytesEqual(r.clientId, cid))
          : m.chaddr === null
            ? []
            : this.store.all().filter((r) => r.mac === m.chaddr && r.htype === m.htype);
      rec = this.store.newest(mine, now);
      if (rec) {
        ciaddr = rec.ip;
        associated = mine.filter((r) => r !== rec && this.store.isActive(r, now)).map((r) => r.ip);
      }
    }

    const o = emptyDhcpOptions();
    o.serverId = this.ip;
    let reply: DhcpRepr = { ...m, op: 2, ciaddr, options: o };
    if (!rec) {
      o.messageType = DHCP.LEASEUNKNOWN;
      this.stats.leaseUnknown++;
    } else if (!this.store.isActive(rec, now)) {
      o.messageType = DHCP.LEASEUNASSIGNED;
      this.stats.leaseUnassigned++;
    } else {
      o.messageType = DHCP.LEASEACTIVE;
      this.stats.leaseActive++;
      reply = { ...reply, htype: rec.htype, hlen: rec.hlen, chaddr: rec.mac };
      // dhcpleasequery.c: T1/T2/expiry from the lease's starts/ends, in whole seconds, each only while in the future
      const cur = sec(now);
      const starts = sec(rec.start);
      const duration = this.leaseSec;
      const ends = starts + duration;
      const renewal = starts + Math.floor(duration / 2);
      const rebinding = starts + Math.floor(duration / 2) + Math.floor(duration / 4) + Math.floor(duration / 8);
      if (renewal > cur) o.renewalTime = renewal - cur;
      if (rebinding > cur) o.rebindingTime = rebinding - cur;
      if (ends > cur) o.leaseTime = ends - cur;
      o.clientLastTransactionTime = Math.max(0, cur - sec(rec.cltt));
      o.clientId = rec.clientId;
      o.relayAgentInfo = rec.agentInfo;
      o.associatedIps = associated;
    }
    this.sendIp(m.giaddr, DHCP_SERVER_PORT, emitDhcp(reply));
  }

  // --- IP next hops and ARP ---------------------------------------------------------------

  private sendTo(dstMac: Mac, dstIp: Ipv4, dstPort: number, payload: Uint8Array): void {
    this.sink(udpFrame({ srcMac: this.mac, dstMac, srcIp: this.ip, dstIp, srcPort: DHCP_SERVER_PORT, dstPort, payload }));
  }

  /** To an IP next hop, through the ARP cache (arp-next-hop.ts). */
  private sendIp(dstIp: Ipv4, dstPort: number, payload: Uint8Array): void {
    this.hops.send(dstIp, (mac: Mac) => udpFrame({ srcMac: this.mac, dstMac: mac, srcIp: this.ip, dstIp, srcPort: DHCP_SERVER_PORT, dstPort, payload }));
  }

  private onArp(a: ArpRepr): void {
    if (!this.hops.onArp(a)) this.ignore();
  }

  private ignore(): void {
    this.stats.ignored++;
  }
}
