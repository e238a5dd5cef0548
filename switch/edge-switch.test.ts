import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseWaitNs, VdpStation, type VsiSpec } from './vdp-station.js';
import { Kernel } from '../sim/kernel.js';
import { kernelClock } from '../sim/clock.js';
import { Random } from '../model/random.js';
import { ackTimeoutNs } from './ecp-endpoint.js';
import { EdgeSwitch, type PortRole, type SwitchConfig } from './edge-switch.js';
import { VsiTypeDb } from './vsi-db.js';
import { BRIDGE_EVB } from './lldp-agent.js';
import { keepAliveTimeoutNs } from './vdp-bridge.js';
import { DHCP, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, emitDhcp, emptyDhcpOptions, parseDhcp, type DhcpRepr } from '../wire/dhcp.js';
import { igmpFrame, udpFrame } from '../wire/compose.js';
import { ETHERTYPE, parseEthernet } from '../wire/ethernet.js';
import { IGMP_RECORD, parseIgmp } from '../wire/igmp.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseUdp } from '../wire/udp.js';
import { managerIdFromText, parseVdp } from '../wire/vdp.js';
import { parseEcp } from '../wire/ecp.js';

const SWITCH_MAC = '02:5e:00:00:00:fe';
const SWITCH_IP = '10.77.0.254';
const SERVER = { mac: '02:d0:00:00:00:01', ip: '10.77.0.1' };
const VM = { mac: '02:00:00:00:01:01', ip: '10.77.0.100' };
const LINK_NS = 20_000;

interface Wire {
  id: number;
  /** frames the switch sent out of this port, with arrival times */
  out: { t: number; frame: Uint8Array }[];
  send(frame: Uint8Array): void;
}

function harness(policy: Partial<SwitchConfig> = {}) {
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const types = new VsiTypeDb();
  types.define(100, 1, { vlan: 10, macs: [VM.mac] });
  const sw = new EdgeSwitch({
    mac: SWITCH_MAC, ip: SWITCH_IP, vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query',
    ipSourceGuard: true, igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1, ...policy,
  }, clock, new Random(1), types);
  const wires: Record<string, Wire> = {};
  const port = (name: string, role: PortRole, pvid = 10, onFrame?: (f: Uint8Array) => void): Wire => {
    const w: Wire = {
      id: -1,
      out: [],
      send: (frame) => kernel.schedule(LINK_NS, () => sw.receive(w.id, frame)),
    };
    w.id = sw.addPort(name, role, (frame) => kernel.schedule(LINK_NS, () => {
      w.out.push({ t: kernel.now, frame });
      onFrame?.(frame);
    }), pvid);
    wires[name] = w;
    return w;
  };
  const station = (name: string, hostMac: string, hints = true) => {
    let st: VdpStation;
    const w = port(name, 'host', 1, (f) => st.receive(f));
    st = new VdpStation(clock, { mac: hostMac, managerId: managerIdFromText('migsim'), hints, rka: 20, ecp: { maxRetries: 3, rte: 8 } }, (f) => w.send(f));
    return { st, w };
  };
  return { kernel, sw, port, station, wires, run: (ns: number) => kernel.run(kernel.now + ns) };
}

const vsi: VsiSpec = { mac: VM.mac, vid: 0, typeId: 100, typeVersion: 1 };

function dhcpMsg(over: Partial<DhcpRepr> & { type: number; lease?: number }): Uint8Array {
  const options = emptyDhcpOptions();
  options.messageType = over.type;
  if (over.lease !== undefined) {
    options.leaseTime = over.lease;
    options.serverId = SERVER.ip;
  }
  return emitDhcp({
    op: over.type === DHCP.ACK || over.type === DHCP.OFFER || over.type === DHCP.NAK || over.type >= 11 ? 2 : 1,
    htype: 1, hlen: 6, hops: 0, xid: over.xid ?? 7, secs: 0, broadcast: false,
    ciaddr: over.ciaddr ?? '0.0.0.0', yiaddr: over.yiaddr ?? '0.0.0.0', siaddr: '0.0.0.0', giaddr: over.giaddr ?? '0.0.0.0',
    chaddr: over.chaddr === undefined ? VM.mac : over.chaddr, sname: '', file: '', options,
  });
}

/** DHCPREQUEST from the VM, ACK from the server: the binding the rest of the tests start from. */
function bindVm(h: ReturnType<typeof harness>, hostWire: Wire, serverWire: Wire) {
  hostWire.send(udpFrame({ srcMac: VM.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload: dhcpMsg({ type: DHCP.REQUEST }) }));
  h.run(1e6);
  serverWire.send(udpFrame({ srcMac: SERVER.mac, dstMac: VM.mac, srcIp: SERVER.ip, dstIp: VM.ip, srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: dhcpMsg({ type: DHCP.ACK, yiaddr: VM.ip, lease: 3600 }) }));
  h.run(1e6);
}

/** The VM associated on h1's station and bound by a snooped REQUEST/ACK through the trusted dhcp port. */
function boundVm() {
  const h = harness();
  const server = h.port('dhcp', 'dhcp-server');
  const { st, w } = h.station('h1', '02:00:00:00:aa:01');
  st.associate(vsi, false);
  h.run(5e6);
  bindVm(h, w, server);
  return { h, server, st, w };
}

const vmUdp = (dstIp = SERVER.ip, srcIp = VM.ip) =>
  udpFrame({ srcMac: VM.mac, dstMac: SERVER.mac, srcIp, dstIp, srcPort: 5555, dstPort: 9, payload: new Uint8Array(8) });

describe('VDP bridge over ECP', () => {
  it('answers a station LLDPDU with its EVB TLV and an associate with the echoed TLV, status 0x40, VID filled in', () => {
    const h = harness();
    const errors: number[] = [];
    const { st, w } = h.station('h1', '02:00:00:00:aa:01');
    (st as unknown as { events: { response: (m: string, mode: string, e: number) => void } }).events.response = (_m, _mode, e) => errors.push(e);
    st.announce();
    h.run(1e6);
    const lldpOut = w.out.map((o) => parseEthernet(o.frame)).filter((e) => e.ok && e.value.ethertype === ETHERTYPE.LLDP);
    expect(lldpOut.length).toBe(1);
    st.associate(vsi, false);
    h.run(10e6);
    expect(errors).toEqual([0]);
    const responses = w.out
      .map((o) => parseEthernet(o.frame))
      .flatMap((e) => (e.ok && e.value.ethertype === ETHERTYPE.ECP ? [parseEcp(e.value.payload)] : []))
      .flatMap((e) => (e.ok && e.value.op === 'request' ? [parseVdp(e.value.payload)] : []));
    const tlv = responses[0]!.ok ? responses[0]!.value.vsis[0]! : null;
    expect(tlv?.status.response).toBe(true);
    expect(tlv?.mode).toBe('assoc');
    expect(tlv?.filters[0]).toMatchObject({ mac: VM.mac, vid: 10 });
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBe(w.id);
    expect(h.sw.log.of('vdp-request')).toHaveLength(1);
  });

  it('refuses an unknown VSI type (error 4) and a VID the type does not allow (error 5)', () => {
    const h = harness();
    const errors: number[] = [];
    const { st } = h.station('h1', '02:00:00:00:aa:01');
    (st as unknown as { events: { response: (m: string, mode: string, e: number) => void } }).events.response = (_m, _mode, e) => errors.push(e);
    st.associate({ ...vsi, typeId: 999 }, false);
    h.run(10e6);
    st.associate({ ...vsi, mac: '02:00:00:00:01:02', vid: 11 }, false);
    h.run(10e6);
    expect(errors).toEqual([4, 5]);
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBeNull();
  });

  it('a lost ECP ACK makes the station retransmit; the switch re-ACKs the duplicate and processes it once', () => {
    const h = harness();
    let dropNext = true;
    let st!: VdpStation;
    const w = h.port('h1', 'host', 1, (f) => {
      const e = parseEthernet(f);
      if (dropNext && e.ok && e.value.ethertype === ETHERTYPE.ECP) {
        const ecp = parseEcp(e.value.payload);
        if (ecp.ok && ecp.value.op === 'ack') {
          dropNext = false;
          return; // the first ACK is lost on the wire
        }
      }
      st.receive(f);
    });
    st = new VdpStation(kernelClock(h.kernel), { mac: '02:00:00:00:aa:01', managerId: managerIdFromText('m'), hints: true, rka: 20, ecp: { maxRetries: 3, rte: 8 } }, (f) => w.send(f));
    st.associate(vsi, false);
    h.run(ackTimeoutNs(8) * 3);
    expect(st.ecp.stats.retransmits).toBe(1);
    expect(h.sw.log.of('vdp-request')).toHaveLength(1);
    expect(h.sw.port(w.id)!.ecp!.stats.duplicates).toBe(1);
  });

  it('an answer lost for good (ECP gave up) is recovered by the station’s response-wait re-send', () => {
    const h = harness();
    let deaf = true;
    let st!: VdpStation;
    const answers: number[] = [];
    const w = h.port('h1', 'host', 1, (f) => { if (!deaf) st.receive(f); });
    st = new VdpStation(kernelClock(h.kernel), { mac: '02:00:00:00:aa:01', managerId: managerIdFromText('m'), hints: true, rka: 20, ecp: { maxRetries: 3, rte: 8 } },
      (f) => w.send(f), { response: (_m, _mode, e) => answers.push(e) });
    st.associate(vsi, true);
    h.run(1e9); // every frame from the bridge is lost: its ECP gives up on the response
    expect(h.sw.port(w.id)!.ecp!.stats.givenUp).toBe(1);
    deaf = false;
    h.run(responseWaitNs(3, 8));
    expect(answers).toEqual([0]);
    expect(h.sw.log.of('vdp-request').map((r) => r.migratedTo)).toEqual([true, true]);
  });

  it('a VSI whose keep-alives stop is de-associated by the bridge', () => {
    const h = harness();
    const gone: string[] = [];
    const { st, w } = h.station('h1', '02:00:00:00:aa:01');
    (st as unknown as { events: { deassociatedByBridge: (m: string) => void } }).events.deassociatedByBridge = (m) => gone.push(m);
    st.associate(vsi, false);
    h.run(1e6);
    // the station goes silent: cancel its keep-alive by de-registering it locally
    const held = (st as unknown as { held: Map<string, { keepAlive: { cancel(): void } | null; awaiting: unknown }> }).held.get(VM.mac)!;
    expect(held.awaiting).toBeNull(); // answered, so nothing will re-send
    held.keepAlive!.cancel();
    h.run(keepAliveTimeoutNs(BRIDGE_EVB.retries, BRIDGE_EVB.rte, BRIDGE_EVB.rka) + 1e9);
    expect(h.sw.log.of('vdp-timeout')).toHaveLength(1);
    expect(gone).toEqual([VM.mac]);
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBeNull();
    void w;
  });

  it('keep-alives keep a VSI associated past the timeout', () => {
    const h = harness();
    const { st } = h.station('h1', '02:00:00:00:aa:01');
    st.associate(vsi, false);
    h.run(3 * keepAliveTimeoutNs(BRIDGE_EVB.retries, BRIDGE_EVB.rte, BRIDGE_EVB.rka));
    expect(h.sw.log.of('vdp-timeout')).toHaveLength(0);
    expect(h.sw.log.of('vdp-request').length).toBeGreaterThan(3);
  });
});

describe('DHCP snooping and IP source guard', () => {
  it('binds from a snooped ACK; forwards bound traffic, drops spoofed and unbound', () => {
    const { h, server, w } = boundVm();
    expect(h.sw.snooping.binding(VM.mac)).toMatchObject({ ip: VM.ip, port: w.id, vlan: 10 });
    const before = server.out.length;
    w.send(vmUdp());
    w.send(vmUdp(SERVER.ip, '10.77.0.123'));
    h.run(1e6);
    expect(server.out.length - before).toBe(1);
    expect(h.sw.counters.sourceGuardDrops).toBe(1);
    expect(h.sw.log.sourceGuardDrops.get(VM.mac)).toHaveLength(1);
  });

  it('forwards UDP whose checksum is unfinished (TX offload on a veth): the switch is not the endpoint', () => {
    const { h, server, w } = boundVm();
    const frame = vmUdp();
    // UDP checksum field: Ethernet 14 + IPv4 20 + 6; a partial (pseudo-header-only) sum looks like any wrong value
    frame[40]! ^= 0x5a;
    const before = server.out.length;
    w.send(frame);
    h.run(1e6);
    expect(server.out.length - before).toBe(1);
    expect(h.sw.counters.malformed).toBe(0);
  });

  it('drops a server message from an untrusted port and a client message whose chaddr is not its source', () => {
    const h = harness();
    h.port('dhcp', 'dhcp-server');
    const { st, w } = h.station('h1', '02:00:00:00:aa:01');
    st.associate(vsi, false);
    h.run(5e6);
    w.send(udpFrame({ srcMac: VM.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: VM.ip, dstIp: '255.255.255.255', srcPort: 67, dstPort: 68, payload: dhcpMsg({ type: DHCP.OFFER, yiaddr: '10.77.0.5', lease: 60 }) }));
    w.send(udpFrame({ srcMac: VM.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: dhcpMsg({ type: DHCP.REQUEST, chaddr: '02:00:00:00:09:09' }) }));
    h.run(1e6);
    expect(h.sw.counters.snoopingDrops).toBe(2);
  });

  it('a binding ends with its lease', () => {
    const { h, server, w } = boundVm();
    h.run(3601e9);
    expect(h.sw.snooping.binding(VM.mac)).toBeNull();
    expect(h.sw.log.of('binding-removed')[0]).toMatchObject({ cause: 'expired' });
  });
});

describe('IGMP snooping', () => {
  it('learns a member from a v3 report, sends the group only there and to the router port, reports only to routers', () => {
    const h = harness();
    const router = h.port('msource', 'mrouter');
    const a = h.station('h1', '02:00:00:00:aa:01');
    const b = h.station('h2', '02:00:00:00:aa:02');
    a.st.associate(vsi, false);
    b.st.associate({ ...vsi, mac: '02:00:00:00:01:02' }, false);
    h.run(5e6);
    const nB = b.w.out.length;
    a.w.send(igmpFrame({ srcMac: VM.mac, dstMac: '01:00:5e:00:00:16', srcIp: VM.ip, dstIp: '224.0.0.22', igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }));
    h.run(1e6);
    expect(router.out.length).toBe(1);
    expect(b.w.out.length).toBe(nB);
    const nA = a.w.out.length;
    router.send(udpFrame({ srcMac: '02:00:00:00:0c:01', dstMac: '01:00:5e:01:01:01', srcIp: '10.77.0.2', dstIp: '239.1.1.1', srcPort: 5000, dstPort: 5001, payload: new Uint8Array(4) }));
    router.send(udpFrame({ srcMac: '02:00:00:00:0c:01', dstMac: '01:00:5e:01:01:02', srcIp: '10.77.0.2', dstIp: '239.1.1.2', srcPort: 5000, dstPort: 5001, payload: new Uint8Array(4) }));
    h.run(1e6);
    expect(a.w.out.length - nA).toBe(1);
    expect(b.w.out.length).toBe(nB);
  });
});

describe('IGMP querier', () => {
  /** when general queries left the switch for port h1 (the wire's arrival time less the link's) */
  const generalQueryTimes = (h: ReturnType<typeof harness>): number[] =>
    h.wires.h1!.out.flatMap(({ t, frame }) => {
      const e = parseEthernet(frame);
      if (!e.ok || e.value.ethertype !== ETHERTYPE.IPV4 || e.value.dst !== '01:00:5e:00:00:01') return [];
      const ip = parseIpv4(e.value.payload);
      const q = ip.ok ? parseIgmp(ip.value.payload) : null;
      return q?.ok && q.value.kind === 'query' && q.value.group === '0.0.0.0' ? [t - LINK_NS] : [];
    });

  it('queries every interval from one interval after start, or from the time it is given', () => {
    const h = harness({ igmpQueryIntervalNs: 20e9 });
    h.port('h1', 'access');
    h.run(3e9);
    h.sw.start();
    h.run(61e9);
    expect(generalQueryTimes(h)).toEqual([23e9, 43e9, 63e9]);
    // started again with a phase of its own (the testbed: time 0 + interval): the old one is gone
    h.sw.start(70e9);
    h.run(40e9);
    expect(generalQueryTimes(h)).toEqual([23e9, 43e9, 63e9, 70e9, 90e9]);
    // a first query already due goes out at once
    h.sw.start(h.kernel.now - 5e9);
    h.run(1e6);
    expect(generalQueryTimes(h).at(-1)).toBe(104e9);
    h.sw.stop();
    h.run(100e9);
    expect(generalQueryTimes(h)).toHaveLength(6);
  });
});

describe('migration handler', () => {
  function migrated(policy: Partial<SwitchConfig>, hints = true) {
    const h = harness(policy);
    const server = h.port('dhcp', 'dhcp-server');
    const src = h.station('h1', '02:00:00:00:aa:01');
    const dst = h.station('h2', '02:00:00:00:aa:02', hints);
    src.st.associate(vsi, false);
    h.run(5e6);
    bindVm(h, src.w, server);
    src.w.send(igmpFrame({ srcMac: VM.mac, dstMac: '01:00:5e:00:00:16', srcIp: VM.ip, dstIp: '224.0.0.22', igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }));
    h.run(1e6);
    const n = { server: server.out.length, dst: dst.w.out.length };
    dst.st.associate(vsi, true);
    h.run(5e6);
    return { h, server, src, dst, n };
  }

  it('extended + leasequery: asks the server by MAC, giaddr = the switch, and moves the binding on DHCPLEASEACTIVE', () => {
    const { h, server, dst, n } = migrated({});
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBe(dst.w.id);
    const sent = server.out.slice(n.server).map((o) => o.frame).map(parseEthernet).flatMap((e) => {
      if (!e.ok) return [];
      const ip = parseIpv4(e.value.payload);
      if (!ip.ok) return [];
      const udp = parseUdp(ip.value.payload, ip.value.src, ip.value.dst);
      if (!udp.ok || udp.value.dstPort !== 67) return [];
      const d = parseDhcp(udp.value.payload);
      return d.ok && d.value.options.messageType === DHCP.LEASEQUERY ? [{ ip: ip.value, d: d.value }] : [];
    });
    expect(sent).toHaveLength(1);
    const q = sent[0]!;
    expect(q.d).toMatchObject({ op: 1, hlen: 6, chaddr: VM.mac, ciaddr: '0.0.0.0', giaddr: SWITCH_IP });
    expect(q.ip).toMatchObject({ src: SWITCH_IP, dst: SERVER.ip });
    // the binding has not moved on the VDP message alone
    expect(h.sw.snooping.binding(VM.mac)!.port).not.toBe(dst.w.id);
    // the server answers DHCPLEASEACTIVE to giaddr:67
    const reply = dhcpMsg({ type: DHCP.LEASEACTIVE, xid: q.d.xid, ciaddr: VM.ip, lease: 3000 });
    server.send(udpFrame({ srcMac: SERVER.mac, dstMac: SWITCH_MAC, srcIp: SERVER.ip, dstIp: SWITCH_IP, srcPort: 67, dstPort: 67, payload: reply }));
    h.run(1e6);
    expect(h.sw.snooping.binding(VM.mac)).toMatchObject({ port: dst.w.id, ip: VM.ip, leaseSeconds: 3000 });
    expect(h.sw.log.of('binding-moved')[0]).toMatchObject({ evidence: 'leaseactive', from: 'h1', to: 'h2' });
  });

  it('leasequery retries when the server is silent, then falls back to a query by IP', () => {
    const { h, server, n } = migrated({ leasequery: { timeoutNs: 100e6, tries: 2 } });
    h.run(1e9);
    const queries = h.sw.log.of('leasequery-sent');
    expect(queries.map((q) => [q.by, q.attempt])).toEqual([['mac', 1], ['mac', 2], ['ip', 1], ['ip', 2]]);
    expect(queries[2]!.ip).toBe(VM.ip);
    expect(h.sw.log.of('leasequery-gave-up')).toHaveLength(1);
    expect(server.out.length - n.server).toBeGreaterThanOrEqual(4);
  });

  it('extended + assist: sends the station an assistance request naming the VM and its old IP', () => {
    const { h, dst } = migrated({ dhcpRebind: 'assist', igmpRebind: 'none' });
    const assists = dst.w.out.map((o) => parseEthernet(o.frame)).flatMap((e) => {
      if (!e.ok || e.value.ethertype !== ETHERTYPE.ECP) return [];
      const ecp = parseEcp(e.value.payload);
      if (!ecp.ok || ecp.value.op !== 'request') return [];
      const v = parseVdp(ecp.value.payload);
      return v.ok ? v.value.assists : [];
    });
    expect(assists).toEqual([expect.objectContaining({ mac: VM.mac, ip: VM.ip, dhcp: true })]);
    expect(h.sw.log.of('leasequery-sent')).toHaveLength(0);
  });

  it('igmpRebind query: a group-specific v3 query to the VM’s own MAC on the new port, max response 100 ms', () => {
    const { dst, n } = migrated({ dhcpRebind: 'none' });
    const queries = dst.w.out.slice(n.dst).map((o) => parseEthernet(o.frame)).flatMap((e) => {
      if (!e.ok || e.value.ethertype !== ETHERTYPE.IPV4) return [];
      const ip = parseIpv4(e.value.payload);
      if (!ip.ok) return [];
      const g = parseIgmp(ip.value.payload);
      return g.ok ? [{ dst: e.value.dst, ipDst: ip.value.dst, ttl: ip.value.ttl, g: g.value }] : [];
    });
    expect(queries).toEqual([{ dst: VM.mac, ipDst: '239.1.1.1', ttl: 1, g: expect.objectContaining({ kind: 'query', version: 3, group: '239.1.1.1', maxRespDs: 1 }) }]);
  });

  it('extended switch, associate without the M-bit: a VM it cannot tell from a new one — no rebind', () => {
    const { h, dst, n, server } = migrated({}, false);
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBe(dst.w.id);
    expect(server.out.length).toBe(n.server);
    expect(h.sw.log.of('migration-detected')).toHaveLength(0);
    expect(h.sw.log.of('vdp-request').at(-1)).toMatchObject({ migratedTo: false, port: 'h2' });
  });

  it('standard VDP (the prior art): the FDB moves, nothing else happens', () => {
    const { h, dst, n, server } = migrated({ vdp: 'standard' });
    expect(h.sw.fdb.lookup(10, VM.mac, h.kernel.now)).toBe(dst.w.id);
    expect(server.out.length).toBe(n.server);
    expect(h.sw.log.of('migration-detected')).toHaveLength(0);
    // the VM's traffic on its new port is dropped by source guard
    dst.w.send(vmUdp());
    h.run(1e6);
    expect(h.sw.counters.sourceGuardDrops).toBe(1);
  });
});

describe('robustness', () => {
  it('random and mutated frames on every kind of port never throw and never corrupt the tables', () => {
    const { h, server, w } = boundVm();
    const router = h.port('msource', 'mrouter');
    const valid = vmUdp();
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, v]) => { const b = valid.slice(); b[i] = v; return b; }),
        fc.nat(valid.length).map((n) => valid.slice(0, n)),
      ),
      fc.constantFrom(w.id, server.id, router.id),
      (frame, port) => {
        h.sw.receive(port, frame);
      },
    ), { numRuns: 2000 });
    h.run(1e6);
    expect(h.sw.snooping.binding(VM.mac)).toMatchObject({ ip: VM.ip, port: w.id });
  });
});
