// The edge switch, one class for both engines. Ports are plug-ins (a FrameSink out, and
// `receive` in); time is a Clock. The per-frame steps: docs/architecture.md "The switch, in
// both engines".

import { DhcpSnooping } from './dhcp-snooping.js';
import { EcpEndpoint, ECP_DEFAULTS } from './ecp-endpoint.js';
import { EventLog } from '../model/result/event-log.js';
import { FDB_SWEEP_NS, ForwardingTable } from './fdb.js';
import { IgmpSnooping } from './igmp-snooping.js';
import { LeasequeryClient, type LeasequeryConfig } from './leasequery-client.js';
import { BRIDGE_EVB, LldpAgent, type EvbParams } from './lldp-agent.js';
import { MigrationHandler, type RebindPolicy } from './migration-handler.js';
import type { FrameSink } from './platform.js';
import type { RandomSource } from '../model/random.js';
import type { Clock, Ns, Timer } from '../model/time.js';
import { VdpBridge, type Vsi } from './vdp-bridge.js';
import type { VsiTypeDb } from './vsi-db.js';
import { VsiMembership } from './vsi-membership.js';
import { type BindingStore, restoreFrom, writeThrough } from './binding-store.js';
import { ARP_OP, parseArp } from '../wire/arp.js';
import { arpFrame, igmpFrame, multicastMac } from '../wire/compose.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseDhcp } from '../wire/dhcp.js';
import { ECP_SUBTYPE, parseEcp } from '../wire/ecp.js';
import { ETHERTYPE, parseEthernet, type EthernetRepr } from '../wire/ethernet.js';
import { BROADCAST_MAC, isMulticastMac } from '../model/address.js';
import { IGMP_ALL_HOSTS, IGMP_RECORD, parseIgmp, type IgmpRepr } from '../wire/igmp.js';
import { IP_PROTO, parseIpv4, type Ipv4Repr } from '../wire/ipv4.js';
import { parseLldp } from '../wire/lldp.js';
import { parseUdp } from '../wire/udp.js';
import { emitVdp, parseVdp, type VdpRepr } from '../wire/vdp.js';

/** host: a hypervisor's uplink (VDP, untrusted, source guard); dhcp-server: trusted; mrouter: multicast router side; access: anything else. */
export type PortRole = 'host' | 'dhcp-server' | 'mrouter' | 'access';

export interface SwitchConfig extends RebindPolicy {
  mac: string;
  /** the switch's own address on the server's subnet: leasequery goes from here (giaddr) */
  ip: string | null;
  ipSourceGuard: boolean;
  igmpQueryIntervalNs: Ns;
  /** Max Resp Time of the rebind query, in tenths of a second */
  rebindQueryMaxRespDs: number;
  leasequery?: LeasequeryConfig;
  evb?: EvbParams;
  /** the snooping database kept outside the switch (`bindingDatabase: persistent`); none: bindings die with it */
  bindingStore?: BindingStore;
}

/** The periodic general query's Max Resp Code: 10 s (RFC 3376 default Query Response Interval). */
const GENERAL_QUERY_MAX_RESP_DS = 100;
/** RFC 3376 §8.7: the Startup Query Count defaults to the Robustness Variable (2). */
const STARTUP_QUERY_COUNT = 2;

export interface SwitchPort {
  id: number;
  name: string;
  role: PortRole;
  pvid: number;
  sink: FrameSink;
  ecp: EcpEndpoint | null;
  rx: number;
  tx: number;
}

export interface SwitchCounters {
  forwarded: number;
  flooded: number;
  sourceGuardDrops: number;
  snoopingDrops: number;
  unassociatedDrops: number;
  malformed: number;
  /** guards (docs/protocols.md 3.5): EVB TLVs from a MAC other than the port's station */
  evbForeignRefused: number;
  /** station EVB TLVs with a timer exponent beyond EVB_MAXIMA (clamped) */
  evbClamped: number;
  /** host-port frames from an associated VSI tagged with a VLAN other than the VSI's */
  vlanMismatchDrops: number;
  /** associates refused for taking a MAC another port holds that their type does not authorise */
  vdpTakeoverRefused: number;
}

function isIpMulticast(ip: string): boolean {
  const first = Number(ip.slice(0, ip.indexOf('.')));
  return first >= 224 && first <= 239;
}

function isLinkLocalMulticast(ip: string): boolean {
  return ip.startsWith('224.0.0.');
}

export class EdgeSwitch {
  readonly fdb = new ForwardingTable();
  readonly snooping: DhcpSnooping;
  readonly igmp: IgmpSnooping;
  readonly vdp: VdpBridge;
  readonly counters: SwitchCounters = {
    forwarded: 0, flooded: 0, sourceGuardDrops: 0, snoopingDrops: 0, unassociatedDrops: 0, malformed: 0,
    evbForeignRefused: 0, evbClamped: 0, vlanMismatchDrops: 0, vdpTakeoverRefused: 0,
  };
  /** refused data frames logged so far (then only counted, like malformed frames) */
  private refusedFramesLogged = 0;
  private readonly ports: SwitchPort[] = [];
  private readonly lldp: LldpAgent;
  private readonly leasequery: LeasequeryClient | null;
  private readonly handler: MigrationHandler;
  private readonly members = new VsiMembership();
  private querier: Timer | null = null;
  /** the periodic sweep of aged FDB entries and silent DHCP clients (start → stop) */
  private sweeper: Timer | null = null;

  constructor(
    readonly config: SwitchConfig,
    private readonly clock: Clock,
    rng: RandomSource,
    types: VsiTypeDb,
    /** the log to write to: a restarted switch's engine passes the one its predecessor wrote */
    readonly log: EventLog = new EventLog(),
  ) {
    if (config.dhcpRebind === 'leasequery' && config.ip === null) {
      throw new Error('leasequery rebind needs the switch to have an IP address on the DHCP server’s subnet');
    }
    const name = (p: number) => this.ports[p]?.name ?? `port${p}`;
    this.snooping = new DhcpSnooping(clock, this.log, name);
    if (config.bindingStore) writeThrough(this.snooping, config.bindingStore, name);
    this.igmp = new IgmpSnooping(clock, this.log, name);
    const evb = config.evb ?? BRIDGE_EVB;
    this.vdp = new VdpBridge(clock, types, this.log, name, (p, v) => this.sendVdp(p, v), {
      associated: (v) => this.associated(v),
      deassociated: (v) => this.deassociated(v),
      holder: (mac) => this.members.of(mac)?.port ?? this.snooping.binding(mac)?.port ?? null,
      refused: (p, mac, from, vsi) => {
        this.counters.vdpTakeoverRefused++;
        this.refuse(p, 'vdp', 'takeover-not-authorised', mac, `VSI ${vsi} would take ${mac} from ${name(from)}`);
      },
    }, { retries: evb.retries, rte: evb.rte, rka: evb.rka });
    this.lldp = new LldpAgent(clock, config.mac, name, (p, f) => this.transmit(p, f), (p, params) => {
      const port = this.ports[p];
      if (port?.ecp) port.ecp.timers = { maxRetries: params.retries, rte: params.rte };
      this.vdp.setTimers(p, { retries: params.retries, rte: params.rte, rka: params.rka });
    }, evb);
    this.lldp.onRefused = (p, r) => {
      if (r.reason === 'foreign-station') this.counters.evbForeignRefused++;
      else this.counters.evbClamped++;
      this.refuse(p, 'evb', r.reason, r.mac, r.reason === 'foreign-station' ? `the port's station is ${r.station}` : r.fields);
    };
    this.leasequery = config.ip === null ? null : new LeasequeryClient(
      clock, rng, this.log, { ip: config.ip, mac: config.mac },
      () => this.snooping.server, (p, f) => this.transmit(p, f), config.leasequery,
    );
    this.handler = new MigrationHandler(config, {
      clock, log: this.log, snooping: this.snooping, igmp: this.igmp, leasequery: this.leasequery, portName: name,
      currentPort: (mac) => this.members.of(mac)?.port ?? null,
      sendVdp: (p, v) => this.sendVdp(p, v),
      sendQuery: (p, mac, group) => this.sendQuery(p, mac, group, config.rebindQueryMaxRespDs),
    });
  }

  addPort(name: string, role: PortRole, sink: FrameSink, pvid = 1): number {
    const id = this.ports.length;
    const ecp = role === 'host'
      ? new EcpEndpoint(this.clock, this.config.mac, (f) => this.transmit(id, f), (payload, subtype) => this.fromEcp(id, payload, subtype), ECP_DEFAULTS)
      : null;
    this.ports.push({ id, name, role, pvid, sink, ecp, rx: 0, tx: 0 });
    if (role === 'mrouter') this.igmp.routerPorts.add(id);
    return id;
  }

  port(id: number): SwitchPort | undefined {
    return this.ports[id];
  }

  portByName(name: string): SwitchPort | undefined {
    return this.ports.find((p) => p.name === name);
  }

  /**
   * Start the periodic IGMP general query (the switch is the querier): the first at
   * `firstAt` on the switch's clock (at once if that has passed), then every interval.
   * Default: one interval from now. An engine whose switch starts before the run's time 0
   * passes time 0 + the interval, so the queries keep the same phase to the scenario's
   * timeline on every engine. Starting again restarts the querier with the new phase.
   */
  start(firstAt: Ns = this.clock.now() + this.config.igmpQueryIntervalNs): void {
    this.querier?.cancel();
    const interval = this.config.igmpQueryIntervalNs;
    // after a restart: Startup Query Count (= robustness, 2) queries a Startup Query Interval (¼ interval) apart, at once (RFC 3376 §8.6–8.7)
    let startup = firstAt <= this.clock.now() ? STARTUP_QUERY_COUNT : 0;
    const tick = () => {
      this.igmp.sweep();
      for (const p of this.ports) if (p.role !== 'mrouter') this.sendQuery(p.id, null, null, GENERAL_QUERY_MAX_RESP_DS);
      this.querier = this.clock.schedule(--startup > 0 ? interval / 4 : interval, tick);
    };
    this.querier = this.clock.schedule(Math.max(0, firstAt - this.clock.now()), tick);
    this.sweeper?.cancel();
    const sweep = () => {
      this.fdb.sweep(this.clock.now());
      this.snooping.prune();
      this.sweeper = this.clock.schedule(FDB_SWEEP_NS, sweep);
    };
    this.sweeper = this.clock.schedule(FDB_SWEEP_NS, sweep);
  }

  /** After a restart, once the ports are added: the persistent database's bindings placed again; returns how many. */
  restoreBindings(): number {
    const store = this.config.bindingStore;
    return store ? restoreFrom(store, this.snooping, this.clock.now(), (name) => this.portByName(name)?.id ?? null) : 0;
  }

  stop(): void {
    this.querier?.cancel();
    this.querier = null;
    this.sweeper?.cancel();
    this.sweeper = null;
  }

  receive(portId: number, frame: Uint8Array): void {
    const port = this.ports[portId];
    if (!port) return;
    port.rx++;
    const parsed = parseEthernet(frame);
    if (!parsed.ok) return this.malformed(port, parsed.layer, parsed.reason);
    const eth = parsed.value;

    if (eth.ethertype === ETHERTYPE.LLDP) {
      const l = parseLldp(eth.payload);
      if (!l.ok) return this.malformed(port, l.layer, l.reason);
      this.lldp.receive(port.id, l.value, eth.dst, eth.src);
      return;
    }
    if (eth.ethertype === ETHERTYPE.ECP) {
      if (!port.ecp) return;
      const e = parseEcp(eth.payload);
      if (!e.ok) return this.malformed(port, e.layer, e.reason);
      port.ecp.receive(e.value);
      return;
    }
    if (eth.dst.startsWith('01:80:c2:00:00:0')) return; // reserved link-local group: never forwarded (802.1Q 8.6.3)

    const vlan = this.classify(port, eth);
    if (typeof vlan !== 'number') {
      if (vlan === 'unassociated') this.counters.unassociatedDrops++;
      else this.counters.vlanMismatchDrops++;
      if (this.refusedFramesLogged++ < EventLog.MAX_MALFORMED_LOGGED) {
        this.refuse(port.id, 'frame', vlan, eth.src, eth.vlan ? `tagged VLAN ${eth.vlan.vid}` : 'untagged');
      }
      return;
    }

    if (eth.ethertype === ETHERTYPE.ARP) this.answerArp(port, eth);
    if (eth.dst === this.config.mac) return this.toSelf(port, eth);

    const learned = this.fdb.learn(vlan, eth.src, port.id, this.clock.now());
    if (learned.moved) {
      this.log.add({ t: this.clock.now(), kind: 'fdb-move', mac: eth.src, vlan, from: this.portName(learned.from), to: port.name, cause: 'learned' });
    }

    if (eth.ethertype === ETHERTYPE.IPV4) {
      const ip = parseIpv4(eth.payload);
      if (!ip.ok) return this.malformed(port, ip.layer, ip.reason);
      this.ipv4(port, vlan, eth, ip.value, frame);
      return;
    }
    this.forward(port, vlan, eth.dst, frame);
  }

  private ipv4(port: SwitchPort, vlan: number, eth: EthernetRepr, ip: Ipv4Repr, frame: Uint8Array): void {
    if (ip.protocol === IP_PROTO.UDP && ip.fragmentOffset === 0) {
      // forwarding, not terminating: an L4 checksum is the endpoints' business
      const udp = parseUdp(ip.payload, ip.src, ip.dst, { verifyChecksum: false });
      if (!udp.ok) return this.malformed(port, udp.layer, udp.reason);
      const { srcPort, dstPort } = udp.value;
      const dhcpPorts = (srcPort === DHCP_CLIENT_PORT || srcPort === DHCP_SERVER_PORT) && (dstPort === DHCP_SERVER_PORT || dstPort === DHCP_CLIENT_PORT);
      if (dhcpPorts) {
        const m = parseDhcp(udp.value.payload);
        if (!m.ok) return this.malformed(port, m.layer, m.reason);
        const verdict = port.role === 'dhcp-server'
          ? this.snooping.fromServer(port.id, vlan, eth.src, ip.src, m.value)
          : m.value.op === 2
            ? { forward: false as const, reason: 'a server message from an untrusted port' }
            : this.snooping.fromClient(port.id, vlan, eth.src, m.value);
        if (!verdict.forward) {
          this.counters.snoopingDrops++;
          return;
        }
        this.forward(port, vlan, eth.dst, frame);
        return;
      }
    }
    if (ip.protocol === IP_PROTO.IGMP) {
      const g = parseIgmp(ip.payload);
      if (!g.ok) return this.malformed(port, g.layer, g.reason);
      this.snoopIgmp(port, vlan, eth, ip, g.value, frame);
      return;
    }
    if (this.config.ipSourceGuard && port.role === 'host' && !this.snooping.permits(vlan, eth.src, ip.src, port.id)) {
      this.counters.sourceGuardDrops++;
      this.log.sourceGuardDrop(eth.src, this.clock.now());
      return;
    }
    if (isIpMulticast(ip.dst) && !isLinkLocalMulticast(ip.dst)) {
      for (const p of this.igmp.outPorts(vlan, ip.dst, port.id)) if (this.isMember(p, vlan)) this.transmit(p, frame);
      this.counters.forwarded++;
      return;
    }
    this.forward(port, vlan, eth.dst, frame);
  }

  private snoopIgmp(port: SwitchPort, vlan: number, eth: EthernetRepr, ip: Ipv4Repr, g: IgmpRepr, frame: Uint8Array): void {
    switch (g.kind) {
      case 'query':
        if (port.role !== 'host') this.igmp.routerPorts.add(port.id);
        this.flood(port, vlan, frame);
        return;
      case 'report':
        this.igmp.report(port.id, vlan, g.group, eth.src, ip.src);
        break;
      case 'leave':
        this.igmp.leave(port.id, vlan, g.group, eth.src);
        break;
      case 'v3report':
        for (const r of g.records) {
          const leaving = (r.type === IGMP_RECORD.IS_IN || r.type === IGMP_RECORD.TO_IN) && r.sources.length === 0;
          if (leaving) this.igmp.leave(port.id, vlan, r.group, eth.src);
          else if (r.type !== IGMP_RECORD.BLOCK) this.igmp.report(port.id, vlan, r.group, eth.src, ip.src);
        }
        break;
    }
    // reports and leaves go to the routers only, so other hosts do not suppress theirs
    for (const p of this.igmp.routerPorts) if (p !== port.id && this.isMember(p, vlan)) this.transmit(p, frame);
  }

  /** A host port's frame is its source VSI's, tagged (if at all) with that VSI's VLAN; elsewhere the tag, else the PVID. */
  private classify(port: SwitchPort, eth: EthernetRepr): number | 'unassociated' | 'vlan-mismatch' {
    if (port.role !== 'host') return eth.vlan ? eth.vlan.vid : port.pvid;
    const vsi = this.members.of(eth.src);
    if (!vsi || vsi.port !== port.id) return 'unassociated';
    return eth.vlan && eth.vlan.vid !== vsi.vlan ? 'vlan-mismatch' : vsi.vlan;
  }

  /** Fix the station (LLDP/EVB peer) expected on a host port; else the first EVB TLV's source is taken. */
  expectStation(portId: number, mac: string): void {
    this.lldp.expectStation(portId, mac);
  }

  private refuse(port: number, what: 'evb' | 'frame' | 'vdp', reason: string, mac: string, detail: string): void {
    this.log.add({ t: this.clock.now(), kind: 'refused', port: this.portName(port) ?? `port${port}`, what, reason, mac, detail });
  }

  private isMember(portId: number, vlan: number): boolean {
    const p = this.ports[portId];
    if (!p) return false;
    if (p.role === 'host') return this.members.carries(portId, vlan);
    return p.pvid === vlan;
  }

  private forward(from: SwitchPort, vlan: number, dst: string, frame: Uint8Array): void {
    if (dst === BROADCAST_MAC || isMulticastMac(dst)) return this.flood(from, vlan, frame);
    const out = this.fdb.lookup(vlan, dst, this.clock.now());
    if (out === null) return this.flood(from, vlan, frame);
    if (out !== from.id && this.isMember(out, vlan)) {
      this.counters.forwarded++;
      this.transmit(out, frame);
    }
  }

  private flood(from: SwitchPort, vlan: number, frame: Uint8Array): void {
    this.counters.flooded++;
    for (const p of this.ports) if (p.id !== from.id && this.isMember(p.id, vlan)) this.transmit(p.id, frame);
  }

  private answerArp(port: SwitchPort, eth: EthernetRepr): void {
    if (this.config.ip === null) return;
    const a = parseArp(eth.payload);
    if (!a.ok || a.value.op !== ARP_OP.REQUEST || a.value.targetIp !== this.config.ip) return;
    this.transmit(port.id, arpFrame(a.value.senderMac, {
      op: ARP_OP.REPLY, senderMac: this.config.mac, senderIp: this.config.ip, targetMac: a.value.senderMac, targetIp: a.value.senderIp,
    }));
  }

  /** Frames addressed to the switch: leasequery replies come to giaddr:67. */
  private toSelf(port: SwitchPort, eth: EthernetRepr): void {
    if (eth.ethertype !== ETHERTYPE.IPV4 || !this.leasequery) return;
    const ip = parseIpv4(eth.payload);
    if (!ip.ok || ip.value.protocol !== IP_PROTO.UDP || ip.value.dst !== this.config.ip) return;
    const udp = parseUdp(ip.value.payload, ip.value.src, ip.value.dst);
    if (!udp.ok) return this.malformed(port, udp.layer, udp.reason);
    if (udp.value.dstPort !== DHCP_SERVER_PORT) return;
    const m = parseDhcp(udp.value.payload);
    if (!m.ok) return this.malformed(port, m.layer, m.reason);
    this.leasequery.reply(m.value);
  }

  private fromEcp(port: number, payload: Uint8Array, subtype: number): void {
    if (subtype !== ECP_SUBTYPE.VDP) return;
    const v = parseVdp(payload);
    const p = this.ports[port]!;
    if (!v.ok) return this.malformed(p, v.layer, v.reason);
    this.vdp.handle(port, v.value);
  }

  private sendVdp(port: number, vdp: VdpRepr): void {
    this.ports[port]?.ecp?.send(ECP_SUBTYPE.VDP, emitVdp(vdp));
  }

  private associated(vsi: Vsi): void {
    const now = this.clock.now();
    for (const mac of vsi.macs) {
      this.members.associate(mac, vsi.port, vsi.vlan);
      const from = this.fdb.pin(vsi.vlan, mac, vsi.port, now);
      this.log.add({ t: now, kind: 'fdb-move', mac, vlan: vsi.vlan, from: this.portName(from), to: this.ports[vsi.port]!.name, cause: 'vdp' });
    }
    this.handler.onAssociate(vsi);
  }

  private deassociated(vsi: Vsi): void {
    for (const mac of vsi.macs) {
      this.members.deassociate(mac, vsi.port);
      this.fdb.unpin(vsi.vlan, mac, vsi.port);
    }
  }

  /** An IGMPv3 query: general (group null) to all hosts, or for a VM (mac) to its own MAC. */
  private sendQuery(port: number, mac: string | null, group: string | null, maxRespDs: number): void {
    const dstIp = group ?? IGMP_ALL_HOSTS;
    const dstMac = mac ?? multicastMac(IGMP_ALL_HOSTS);
    this.transmit(port, igmpFrame({
      srcMac: this.config.mac, dstMac, srcIp: this.config.ip ?? '0.0.0.0', dstIp,
      igmp: { kind: 'query', version: 3, group: group ?? '0.0.0.0', maxRespDs, suppress: false, qrv: 2, qqicSeconds: Math.round(this.config.igmpQueryIntervalNs / 1e9), sources: [] },
    }));
    if (mac !== null) {
      this.log.add({ t: this.clock.now(), kind: 'igmp-query-sent', port: this.ports[port]!.name, group: group ?? IGMP_ALL_HOSTS, to: mac, maxRespMs: maxRespDs * 100 });
    }
  }

  private transmit(port: number, frame: Uint8Array): void {
    const p = this.ports[port];
    if (!p) return;
    p.tx++;
    p.sink(frame);
  }

  private portName(id: number | null): string | null {
    return id === null ? null : (this.ports[id]?.name ?? null);
  }

  private malformed(port: SwitchPort, layer: string, reason: string): void {
    this.counters.malformed++;
    this.log.add({ t: this.clock.now(), kind: 'malformed', port: port.name, layer, reason });
  }
}
