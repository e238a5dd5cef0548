// The switch's control-plane guards (docs/protocols.md 3.5): EVB only from the port's station
// and within EVB_MAXIMA; host-port frames only from associated VSIs, in their VLAN; a MAC
// another port holds moves only for a VSI type that authorises it.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../sim/kernel.js';
import { kernelClock } from '../sim/clock.js';
import { Random } from '../model/random.js';
import { EdgeSwitch, type PortRole } from './edge-switch.js';
import { VsiTypeDb } from './vsi-db.js';
import { BRIDGE_EVB, EVB_MAXIMA, clampEvb } from './lldp-agent.js';
import { VdpStation, type VsiSpec } from './vdp-station.js';
import { keepAliveTimeoutNs, type VdpPortTimers } from './vdp-bridge.js';
import { NEAREST_CUSTOMER_BRIDGE } from './ecp-endpoint.js';
import { emitEthernet, ETHERTYPE, parseEthernet } from '../wire/ethernet.js';
import { EVB_MODE, emitLldp } from '../wire/lldp.js';
import { udpFrame } from '../wire/compose.js';
import { managerIdFromText } from '../wire/vdp.js';

const SWITCH_MAC = '02:5e:00:00:00:fe';
const HOST1 = '02:00:00:00:aa:01';
const HOST2 = '02:00:00:00:aa:02';
const VM_A = '02:00:00:00:01:01'; // tenant A, type 100/1, VLAN 10
const VM_B = '02:00:00:00:02:01'; // tenant B, type 200/1, VLAN 20
const GUEST = '02:00:00:00:09:09';
const LINK_NS = 20_000;

function harness() {
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const types = new VsiTypeDb();
  types.define(100, 1, { vlan: 10, macs: [VM_A] });
  types.define(200, 1, { vlan: 20, macs: [VM_B] });
  const sw = new EdgeSwitch({
    mac: SWITCH_MAC, ip: '10.77.0.254', vdp: 'extended', dhcpRebind: 'none', igmpRebind: 'none',
    ipSourceGuard: false, igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1,
  }, clock, new Random(1), types);
  const port = (name: string, role: PortRole, pvid: number, onFrame?: (f: Uint8Array) => void) => {
    const w = { id: -1, out: [] as Uint8Array[], send: (f: Uint8Array) => kernel.schedule(LINK_NS, () => sw.receive(w.id, f)) };
    w.id = sw.addPort(name, role, (f) => kernel.schedule(LINK_NS, () => { w.out.push(f); onFrame?.(f); }), pvid);
    return w;
  };
  const station = (name: string, hostMac: string) => {
    let st: VdpStation;
    const errors: number[] = [];
    const w = port(name, 'host', 1, (f) => st.receive(f));
    st = new VdpStation(clock, { mac: hostMac, managerId: managerIdFromText('migsim'), hints: true, rka: 20, ecp: { maxRetries: 3, rte: 8 } }, (f) => w.send(f), {
      response: (_m, _mode, e) => errors.push(e),
    });
    return { st, w, errors };
  };
  const vdpTimers = (p: number): VdpPortTimers | undefined => (sw.vdp as unknown as { timers: Map<number, VdpPortTimers> }).timers.get(p);
  return { kernel, sw, port, station, vdpTimers, run: (ns: number) => kernel.run(kernel.now + ns) };
}

function lldpdu(src: string, evb: { retries?: number; rte?: number; rwd?: number; rka?: number }): Uint8Array {
  const chassis = new Uint8Array(6);
  return emitEthernet({
    dst: NEAREST_CUSTOMER_BRIDGE, src, vlan: null, ethertype: ETHERTYPE.LLDP,
    payload: emitLldp({
      chassisId: { subtype: 4, value: chassis }, portId: { subtype: 3, value: chassis }, ttl: 120, other: [],
      evb: {
        bridge: { bgid: false, rrcap: false, rrctr: false }, station: { sgid: false, rrreq: false, rrstat: 0 },
        retries: evb.retries ?? 3, rte: evb.rte ?? 8, mode: EVB_MODE.STATION, rolRwd: false, rwd: evb.rwd ?? 20, rolRka: false, rka: evb.rka ?? 20,
      },
    }),
  });
}

const spec = (mac: string, typeId: number): VsiSpec => ({ mac, vid: 0, typeId, typeVersion: 1 });
function frame(src: string, vid: number | null): Uint8Array {
  const f = udpFrame({ srcMac: src, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '10.77.0.9', dstIp: '10.77.0.255', srcPort: 5555, dstPort: 9, payload: new Uint8Array(8) });
  if (vid === null) return f;
  const e = parseEthernet(f);
  if (!e.ok) throw new Error('bad frame');
  return emitEthernet({ ...e.value, vlan: { pcp: 0, dei: false, vid } });
}

describe('EVB guard', () => {
  it('an LLDPDU with a huge RKA from a guest MAC after the station’s does not change the negotiated timers', () => {
    const h = harness();
    const { st, w } = h.station('h1', HOST1);
    st.announce();
    h.run(1e6);
    const before = h.vdpTimers(w.id);
    expect(before).toEqual({ retries: 3, rte: 10, rka: 20 });
    w.send(lldpdu(GUEST, { rka: 31, rte: 31, retries: 7 }));
    h.run(1e6);
    expect(h.vdpTimers(w.id)).toEqual(before);
    expect(h.sw.port(w.id)!.ecp!.timers).toEqual({ maxRetries: 3, rte: 10 });
    expect(h.sw.counters.evbForeignRefused).toBe(1);
    expect(h.sw.log.of('refused')).toMatchObject([{ what: 'evb', reason: 'foreign-station', mac: GUEST, port: 'h1' }]);
  });

  it('a configured station: even the first LLDPDU from a guest is refused', () => {
    const h = harness();
    const { w } = h.station('h1', HOST1);
    h.sw.expectStation(w.id, HOST1);
    w.send(lldpdu(GUEST, { rka: 31 }));
    h.run(1e6);
    expect(h.vdpTimers(w.id)).toBeUndefined();
    expect(w.out).toHaveLength(0); // no EVB answer to a guest
    expect(h.sw.counters.evbForeignRefused).toBe(1);
  });

  it('the station’s own EVB TLV beyond the maxima is clamped, counted and logged', () => {
    const h = harness();
    const { w } = h.station('h1', HOST1);
    w.send(lldpdu(HOST1, { retries: 7, rte: 31, rwd: 31, rka: 31 }));
    h.run(1e6);
    const t = h.vdpTimers(w.id)!;
    expect(t).toEqual({ retries: 7, rte: EVB_MAXIMA.rte, rka: EVB_MAXIMA.rka });
    expect(keepAliveTimeoutNs(t.retries, t.rte, t.rka)).toBeLessThan(5 * 60e9);
    expect(h.sw.port(w.id)!.ecp!.timers.rte).toBe(EVB_MAXIMA.rte);
    expect(h.sw.counters.evbClamped).toBe(1);
    expect(h.sw.log.of('refused')[0]).toMatchObject({ what: 'evb', reason: 'evb-clamped', mac: HOST1 });
    expect(h.sw.log.of('refused')[0]!.detail).toContain('rka 31>24');
  });

  it('values within the maxima pass unchanged; the bridge’s own are within them', () => {
    expect(clampEvb(BRIDGE_EVB)).toEqual({ params: BRIDGE_EVB, clamped: [] });
    expect(clampEvb({ retries: 3, rte: 14, rwd: 20, rka: 20 }).clamped).toEqual([]);
  });
});

describe('host-port VLAN guard', () => {
  function withVm() {
    const h = harness();
    const a = h.station('h1', HOST1);
    const v10 = h.port('v10', 'access', 10);
    const v20 = h.port('v20', 'access', 20);
    a.st.announce();
    a.st.associate(spec(VM_A, 100), false);
    h.run(5e6);
    expect(a.errors).toEqual([0]);
    return { h, a, v10, v20 };
  }

  it('drops a tagged frame from an unassociated MAC whatever its VLAN', () => {
    const { h, a, v10, v20 } = withVm();
    for (const vid of [1, 10, 20, 4094]) a.w.send(frame(GUEST, vid));
    a.w.send(frame(GUEST, null));
    h.run(1e6);
    expect(v10.out).toHaveLength(0);
    expect(v20.out).toHaveLength(0);
    expect(h.sw.counters.unassociatedDrops).toBe(5);
    expect(h.sw.log.of('refused').filter((e) => e.reason === 'unassociated')).toHaveLength(5);
  });

  it('drops an associated MAC’s frame tagged with another VLAN; forwards it tagged with its own, or untagged', () => {
    const { h, a, v10, v20 } = withVm();
    a.w.send(frame(VM_A, 20));
    h.run(1e6);
    expect(v20.out).toHaveLength(0);
    expect(v10.out).toHaveLength(0);
    expect(h.sw.counters.vlanMismatchDrops).toBe(1);
    expect(h.sw.log.of('refused')).toMatchObject([{ what: 'frame', reason: 'vlan-mismatch', mac: VM_A, detail: 'tagged VLAN 20' }]);
    a.w.send(frame(VM_A, 10));
    a.w.send(frame(VM_A, null));
    h.run(1e6);
    expect(v10.out).toHaveLength(2);
    expect(v20.out).toHaveLength(0);
  });
});

describe('VDP takeover guard', () => {
  it('a spoofed M-bit associate from another host for another tenant’s MAC: error 5 with Keep, nothing moves, counted', () => {
    const h = harness();
    const a = h.station('h1', HOST1);
    const b = h.station('h2', HOST2);
    a.st.associate(spec(VM_A, 100), false);
    b.st.associate(spec(VM_B, 200), false);
    h.run(5e6);
    // h2 claims tenant A's MAC under its own tenant's type, as a migration
    b.st.associate({ mac: VM_A, vid: 0, typeId: 200, typeVersion: 1 }, true);
    h.run(5e6);
    expect(b.errors).toEqual([0, 5]);
    expect(h.sw.log.of('vdp-response').at(-1)).toMatchObject({ port: 'h2', error: 5 });
    expect(h.sw.fdb.lookup(10, VM_A, h.kernel.now)).toBe(a.w.id);
    expect(h.sw.fdb.lookup(20, VM_A, h.kernel.now)).toBeNull();
    expect(h.sw.vdp.findByMac(VM_A)!.port).toBe(a.w.id);
    expect(h.sw.vdp.vsisOn(b.w.id).map((v) => v.macs)).toEqual([[VM_B]]);
    expect(h.sw.log.of('migration-detected')).toHaveLength(0);
    expect(h.sw.log.of('fdb-move').filter((e) => e.mac === VM_A && e.to === 'h2')).toHaveLength(0);
    expect(h.sw.counters.vdpTakeoverRefused).toBe(1);
    expect(h.sw.log.of('refused')).toMatchObject([{ port: 'h2', what: 'vdp', reason: 'takeover-not-authorised', mac: VM_A }]);
    // the victim's traffic still goes where it is
    a.w.send(frame(VM_A, null));
    h.run(1e6);
    expect(h.sw.counters.unassociatedDrops).toBe(0);
  });

  it('the same associate under the VM’s own type (a real migration) moves it', () => {
    const h = harness();
    const a = h.station('h1', HOST1);
    const b = h.station('h2', HOST2);
    a.st.associate(spec(VM_A, 100), false);
    h.run(5e6);
    b.st.associate(spec(VM_A, 100), true);
    h.run(5e6);
    expect(b.errors).toEqual([0]);
    expect(h.sw.fdb.lookup(10, VM_A, h.kernel.now)).toBe(b.w.id);
    expect(h.sw.counters.vdpTakeoverRefused).toBe(0);
  });

  it('a MAC nobody holds associates under any type that knows its VLAN (no takeover, no check)', () => {
    const h = harness();
    const b = h.station('h2', HOST2);
    b.st.associate({ mac: GUEST, vid: 0, typeId: 200, typeVersion: 1 }, false);
    h.run(5e6);
    expect(b.errors).toEqual([0]);
    expect(h.sw.counters.vdpTakeoverRefused).toBe(0);
  });
});
