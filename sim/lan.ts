// The scenario's data network in the sim: the edge switch, one access link per port, the
// hypervisor hosts (VDP station + the vNICs of the VMs they run), the DHCP server, the
// multicast sources and the probe. The migration process tells it when a VM starts
// moving, pauses and resumes; it does what libvirt and the hypervisor do then. Faults
// (sim/faults.ts) crash a host, stop the DHCP server, restart the switch or spoof a station.

import { VdpStation, type VsiSpec } from '../switch/vdp-station.js';
import { EdgeSwitch } from '../switch/edge-switch.js';
import { REBIND_QUERY_MAX_RESP_DS, type Scenario, type VmSpec } from '../model/scenario/types.js';
import { VsiTypeDb } from '../switch/vsi-db.js';
import { MemoryBindingStore } from '../switch/binding-store.js';
import type { EventLog } from '../model/result/event-log.js';
import { ECP_COUNTERS } from '../model/result/format.js';
import { ETHERTYPE } from '../wire/ethernet.js';
import { macAt } from '../wire/fields.js';
import { isMulticastMac } from '../model/address.js';
import { addressing, effectiveSwitch, SWITCH_MAC, type Addressing } from '../model/scenario/addressing.js';
import { managerIdFromText } from '../wire/vdp.js';
import { LinkDirection } from './access-link.js';
import { kernelClock } from './clock.js';
import type { Kernel } from './kernel.js';
import { DhcpServerModel } from './net/dhcp-server.js';
import { GuestStack } from './net/guest.js';
import { MulticastSource } from './net/multicast-source.js';
import { Probe } from './net/probe.js';
import type { Random } from '../model/random.js';
import type { Clock, Ns } from '../model/time.js';

/** Addresses the sim gives its infrastructure: locally administered MACs, the subnet's edges for IPs. */
function mac(prefix: number, index: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:${hex(prefix)}:00:00:${hex((index >> 8) & 0xff)}:${hex(index & 0xff)}`;
}

class SimHost {
  readonly station: VdpStation;
  private readonly guests = new Map<string, GuestStack>();
  private readonly running = new Set<string>();
  readonly uplink: LinkDirection;
  /** crashed: it sends and hears nothing, for good */
  dead = false;

  constructor(readonly name: string, readonly mac: string, toSwitch: LinkDirection, station: (sink: (f: Uint8Array) => void) => VdpStation) {
    this.uplink = toSwitch;
    this.station = station((f) => this.send(f));
  }

  private send(frame: Uint8Array): void {
    if (!this.dead) this.uplink.send(frame);
  }

  /** A frame from the switch: control frames to the station, the rest to the VMs' vNICs. */
  receive(frame: Uint8Array): void {
    if (this.dead) return;
    const type = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0;
    if (type === ETHERTYPE.ECP || type === ETHERTYPE.LLDP) return this.station.receive(frame);
    const dst = macAt(frame, 0);
    if (isMulticastMac(dst)) {
      for (const [m, g] of this.guests) if (this.running.has(m)) g.receive(frame);
      return;
    }
    const g = this.guests.get(dst);
    // a paused VM's vNIC is not being read: what arrives is lost with the old tap
    if (g && this.running.has(dst)) g.receive(frame);
  }

  attach(guest: GuestStack, guestMac: string, running: boolean): void {
    this.guests.set(guestMac, guest);
    if (running) this.running.add(guestMac);
    guest.attach((f) => this.send(f));
  }

  detach(guestMac: string): void {
    this.guests.delete(guestMac);
    this.running.delete(guestMac);
  }

  setRunning(guestMac: string, running: boolean): void {
    if (running) this.running.add(guestMac);
    else this.running.delete(guestMac);
  }
}

export interface LanVm {
  spec: VmSpec;
  guest: GuestStack;
  host: string;
  vsi: VsiSpec;
  /** multicast datagrams received: group, seq, time */
  multicast: { group: string; seq: number; t: Ns }[];
  leasedAt: Ns | null;
}

/** A switch port as the LAN wired it: re-added in the same order to a restarted switch. */
interface PortWiring {
  name: string;
  role: Parameters<EdgeSwitch['addPort']>[1];
  toNode: LinkDirection;
  vlan: number;
}

export class SimLan {
  /** the switch now; a new one after a `switch-restart` */
  sw: EdgeSwitch;
  /** false while a restarting switch is gone: frames to it are lost */
  switchUp = true;
  /** counters of switches that were restarted, summed (the run's counters are these plus sw's) */
  private readonly pastCounters = new Map<string, number>();
  private readonly wiring: PortWiring[] = [];
  private readonly makeSwitch: () => EdgeSwitch;
  private haltSwitch: () => void = () => undefined;
  /** the DHCP server answers nothing until then (dhcp-down) */
  private dhcpDownUntil: Ns = -1;
  readonly hosts = new Map<string, SimHost>();
  readonly vms = new Map<string, LanVm>();
  readonly probe: Probe | null;
  readonly sources: MulticastSource[] = [];
  readonly server: DhcpServerModel | null;
  readonly addr: Addressing | null;

  constructor(private readonly kernel: Kernel, s: Scenario, rng: Random) {
    const clock = kernelClock(kernel);
    const sw = effectiveSwitch(s);
    const vlan = s.vms[0]!.vlan;
    const types = new VsiTypeDb();
    for (const vm of s.vms) {
      const t = types.get(vm.vsiType.id, vm.vsiType.version);
      types.define(vm.vsiType.id, vm.vsiType.version, { vlan: vm.vlan, macs: [...(t?.macs ?? []), vm.mac.toLowerCase()] });
    }
    this.addr = s.dhcp ? addressing(s.dhcp.subnet, s.multicastSources.length) : null;
    const store = sw.bindingDatabase === 'persistent' ? new MemoryBindingStore() : undefined;
    const switchRng = rng.fork('switch');
    let log: EventLog | undefined;
    this.makeSwitch = () => {
      // the instance's own clock: once it is halted (restarted) none of its timers fire
      let halted = false;
      this.haltSwitch = () => {
        halted = true;
      };
      const own: Clock = { now: () => clock.now(), schedule: (d, fn) => clock.schedule(d, () => halted || fn()) };
      const made = new EdgeSwitch({
        mac: SWITCH_MAC, ip: this.addr?.switchIp ?? null,
        vdp: sw.vdp, dhcpRebind: sw.dhcpRebind, igmpRebind: sw.igmpRebind, dhcpRebindFallback: sw.dhcpRebindFallback,
        ipSourceGuard: sw.ipSourceGuard, igmpQueryIntervalNs: sw.igmpQueryIntervalNs,
        rebindQueryMaxRespDs: REBIND_QUERY_MAX_RESP_DS, ...(store ? { bindingStore: store } : {}),
      }, own, switchRng, types, log);
      log = made.log;
      return made;
    };
    this.sw = this.makeSwitch();

    // one access link per port: node → switch and switch → node
    const connect = (name: string, role: Parameters<EdgeSwitch['addPort']>[1], toNode: (f: Uint8Array) => void): LinkDirection => {
      const down = new LinkDirection(kernel, s.network.accessLink, toNode);
      const port = this.sw.addPort(name, role, this.portSink(down), vlan);
      this.wiring.push({ name, role, toNode: down, vlan });
      return new LinkDirection(kernel, s.network.accessLink, (f) => {
        if (this.switchUp) this.sw.receive(port, f);
      });
    };

    s.hosts.forEach((h, i) => {
      let host!: SimHost;
      const up = connect(h.name, 'host', (f) => host.receive(f));
      host = new SimHost(h.name, mac(0x48, i + 1), up, (sink) => new VdpStation(clock, {
        mac: mac(0x48, i + 1), managerId: managerIdFromText('migsim'), hints: sw.vdp === 'extended', rka: 20, ecp: { maxRetries: 3, rte: 8 },
      }, sink, {
        assist: (a) => {
          const vm = [...this.vms.values()].find((v) => v.spec.mac === a.mac && v.host === h.name);
          vm?.guest.renewNow();
        },
      }));
      this.hosts.set(h.name, host);
    });

    if (s.dhcp && this.addr) {
      let server!: DhcpServerModel;
      const up = connect('dhcp', 'dhcp-server', (f) => {
        if (kernel.now >= this.dhcpDownUntil) server.receive(f);
      });
      server = new DhcpServerModel(clock, (f) => {
        if (kernel.now >= this.dhcpDownUntil) up.send(f);
      }, {
        mac: mac(0xd0, 1), ip: this.addr.serverIp, subnet: s.dhcp.subnet, leaseSeconds: s.dhcp.leaseTimeNs / 1e9,
        poolFirst: this.addr.poolFirst, poolLast: this.addr.poolLast, processingNs: 50_000,
      });
      this.server = server;
    } else {
      this.server = null;
    }

    s.multicastSources.forEach((m, i) => {
      const up = connect(`msource${i}`, 'mrouter', () => undefined);
      this.sources.push(new MulticastSource(clock, (f) => up.send(f), {
        mac: mac(0x4d, i + 1), ip: this.addr?.sourceIp(i) ?? '0.0.0.0', group: m.group, ratePerSecond: m.rate, sizeBytes: m.sizeBytes,
      }));
    });

    if (s.probe && this.addr) {
      let probe!: Probe;
      const up = connect('probe', 'access', (f) => probe.receive(f));
      probe = new Probe(clock, (f) => up.send(f), { mac: mac(0x50, 1), ip: this.addr.probeIp, ratePerSecond: s.probe.rate });
      this.probe = probe;
    } else {
      this.probe = null;
    }

    for (const spec of s.vms) {
      const record: LanVm = {
        spec, host: spec.host, multicast: [], leasedAt: null,
        vsi: { mac: spec.mac, vid: 0, typeId: spec.vsiType.id, typeVersion: spec.vsiType.version },
        guest: undefined as unknown as GuestStack,
      };
      record.guest = new GuestStack(clock, rng.fork(`guest:${spec.name}`), {
        name: spec.name, mac: spec.mac, groups: spec.multicast, announceOnResume: spec.announceOnResume,
      }, {
        multicast: (group, seq, t) => record.multicast.push({ group, seq, t }),
        leased: (ip) => {
          if (record.leasedAt === null) {
            record.leasedAt = kernel.now;
            this.probe?.addTarget(spec.name, spec.mac, ip);
          }
        },
      });
      this.vms.set(spec.name, record);
    }
  }

  /** t = 0: stations announce and associate their VMs (libvirt does before starting them), then the VMs boot. */
  start(): void {
    this.sw.start();
    for (const h of this.hosts.values()) h.station.announce();
    for (const vm of this.vms.values()) {
      const host = this.hosts.get(vm.host)!;
      host.attach(vm.guest, vm.spec.mac, true);
      host.station.associate(vm.vsi, false);
    }
    // boot once the associations are through (a few ECP round trips at most)
    this.kernel.schedule(10e6, () => {
      for (const vm of this.vms.values()) vm.guest.boot();
      for (const src of this.sources) src.start();
    });
  }

  // --- what the migration process tells the network ---

  migrationStarted(vmName: string, to: string): void {
    const vm = this.vms.get(vmName)!;
    this.hosts.get(to)!.station.preAssociate(vm.vsi);
  }

  paused(vmName: string): void {
    const vm = this.vms.get(vmName)!;
    vm.guest.pause();
    this.hosts.get(vm.host)!.setRunning(vm.spec.mac, false);
  }

  /** The VM runs on `to` now: its vNIC moves, the destination associates (M-bit if extended), the source de-associates. */
  resumed(vmName: string, to: string): void {
    const vm = this.vms.get(vmName)!;
    const from = vm.host;
    this.hosts.get(from)!.detach(vm.spec.mac);
    const dst = this.hosts.get(to)!;
    dst.attach(vm.guest, vm.spec.mac, true);
    vm.host = to;
    dst.station.associate(vm.vsi, true);
    vm.guest.resume();
    this.hosts.get(from)!.station.deassociate(vm.vsi, true);
  }

  /** A migration gave up before the switchover: the VM runs on where it was; the destination drops its reservation. */
  reverted(vmName: string, to: string, wasPaused: boolean): void {
    const vm = this.vms.get(vmName)!;
    if (wasPaused) {
      this.hosts.get(vm.host)!.setRunning(vm.spec.mac, true);
      vm.guest.resume(false); // QEMU announces only on the destination
    }
    const dst = this.hosts.get(to)!;
    if (!dst.dead) dst.station.deassociate(vm.vsi, false);
  }

  // --- faults ---

  /** The VM runs nowhere any more: its vNIC is gone with it. */
  lost(vmName: string): void {
    const vm = this.vms.get(vmName)!;
    vm.guest.pause();
    this.hosts.get(vm.host)!.detach(vm.spec.mac);
  }

  /** A host crashed: its station and every vNIC on it fall silent, for good. */
  crashHost(name: string): void {
    this.hosts.get(name)!.dead = true;
  }

  /** The DHCP server answers nothing (and hears nothing) for `forNs`. */
  dhcpDown(forNs: Ns): void {
    this.dhcpDownUntil = Math.max(this.dhcpDownUntil, this.kernel.now + forNs);
  }

  /**
   * The switch loses all its state and is gone for `downForNs`; then a new one comes up on the
   * same ports (bindings from the persistent database, if kept) and queries at once. Stations
   * re-associate when their keep-alive or response-wait timers fire.
   */
  restartSwitch(downForNs: Ns): void {
    const old = this.sw;
    old.stop();
    this.haltSwitch();
    for (const [k, v] of Object.entries(this.countersNow(old))) this.pastCounters.set(k, (this.pastCounters.get(k) ?? 0) + v);
    this.switchUp = false;
    const downAt = this.kernel.now;
    this.kernel.schedule(downForNs, () => {
      this.sw = this.makeSwitch();
      for (const w of this.wiring) this.sw.addPort(w.name, w.role, this.portSink(w.toNode), w.vlan);
      const restored = this.sw.restoreBindings();
      this.sw.log.add({ t: this.kernel.now, kind: 'switch-restarted', downMs: (this.kernel.now - downAt) / 1e6, bindingsRestored: restored });
      this.switchUp = true;
      this.sw.start(this.kernel.now);
    });
  }

  /** A station on `host` associates `vm`'s MAC with the M-bit, claiming it arrived there: a takeover the switch must refuse. */
  spoofAssociate(host: string, vmName: string, vsiType: { id: number; version: number }): void {
    const vm = this.vms.get(vmName)!;
    this.hosts.get(host)!.station.associate({ ...vm.vsi, typeId: vsiType.id, typeVersion: vsiType.version }, true);
  }

  /** What the switch sends out of a port: nothing while it is down. */
  private portSink(toNode: LinkDirection): (f: Uint8Array) => void {
    return (f) => {
      if (this.switchUp) toNode.send(f);
    };
  }

  /** The switch's counters over the run: the ones before each restart plus the current switch's. */
  counters(): Record<string, number> {
    const out = this.countersNow(this.sw);
    for (const [k, v] of this.pastCounters) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  private countersNow(sw: EdgeSwitch): Record<string, number> {
    const out: Record<string, number> = { ...sw.counters };
    for (const h of this.hosts.keys()) {
      const st = sw.portByName(h)?.ecp?.stats;
      if (st) for (const k of ECP_COUNTERS) out[`ecp.${k}`] = (out[`ecp.${k}`] ?? 0) + st[k];
    }
    return out;
  }

  stop(): void {
    this.sw.stop();
    for (const s of this.sources) s.stop();
  }
}
