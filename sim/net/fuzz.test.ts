// Whatever arrives, no actor throws: random bytes, mutated captures of real exchanges (with
// checksums repaired so the mutations reach the upper layers), and well-formed DHCP / IGMP /
// ARP / UDP messages with adversarial field values. The timers they start are run too.

import { Random } from '../../model/random.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arpFrame, igmpFrame, multicastMac, udpFrame } from '../../wire/compose.js';
import { DHCP, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import { internetChecksum, put16 } from '../../wire/fields.js';
import { ipWord } from '../../model/address.js';
import type { IgmpRepr } from '../../wire/igmp.js';
import { DhcpServerModel } from './dhcp-server.js';
import { readInbound } from './frames.js';
import { GuestStack } from './guest.js';
import { MulticastSource } from './multicast-source.js';
import { Probe } from './probe.js';
import { Hub } from './testkit.js';
import { ManualClock } from '../clock.js';

const S = 1e9;
const VM_MAC = '52:54:00:77:00:01';
const SERVER = { mac: '02:d0:00:00:00:01', ip: '10.77.0.1' };
const G1 = '239.1.1.1';

function world(seed = 1) {
  const clock = new ManualClock();
  const hub = new Hub(clock, 50_000);
  let server!: DhcpServerModel;
  server = new DhcpServerModel(clock, hub.connect('server', (f) => server.receive(f)), {
    ...SERVER, subnet: '10.77.0.0/24', leaseSeconds: 120, poolFirst: '10.77.0.100', poolLast: '10.77.0.110', processingNs: 50_000,
  });
  const vm: GuestStack = new GuestStack(clock, new Random(seed), { name: 'vm', mac: VM_MAC, groups: [G1, '224.0.0.251'], announceOnResume: 'garp+igmp' }, {
    multicast: () => undefined, leased: () => undefined,
  });
  vm.attach(hub.connect('vm', (f) => vm.receive(f)));
  let probe!: Probe;
  probe = new Probe(clock, hub.connect('probe', (f) => probe.receive(f)), { mac: '02:50:00:00:00:01', ip: '10.77.0.2', ratePerSecond: 20 });
  let source!: MulticastSource;
  source = new MulticastSource(clock, hub.connect('source', (f) => source.receive(f)), { mac: '02:4d:00:00:00:01', ip: '10.77.0.3', group: G1, ratePerSecond: 5, sizeBytes: 16 });
  vm.boot();
  clock.advance(10e6);
  probe.addTarget('vm', VM_MAC, vm.ip ?? '10.77.0.100');
  source.start();
  clock.advance(S);
  const all = (f: Uint8Array) => {
    server.receive(f);
    vm.receive(f);
    probe.receive(f);
    source.receive(f);
  };
  /** the xid the guest is using now (so crafted replies reach its state machine) */
  const guestXid = () => {
    const mine = hub.sentBy('vm').filter((d) => d.kind === 'udp' && d.udp.dstPort === 67);
    const last = mine[mine.length - 1];
    const m = last?.kind === 'udp' ? parseDhcp(last.udp.payload) : null;
    return m?.ok ? m.value.xid : 0;
  };
  const settle = () => {
    // the steady streams have been exercised; stop them so the long run below only plays the DHCP/IGMP/ARP timers
    probe.stop();
    source.stop();
    vm.pause();
    clock.advance(3 * S);
    vm.resume();
    vm.renewNow();
    vm.rejoinGroups();
    clock.advance(400 * S);
    const leases = server.leases();
    expect(new Set(leases.map((l) => l.ip)).size).toBe(leases.length);
    for (const l of leases) expect(ipWord(l.ip)).toBeGreaterThanOrEqual(ipWord('10.77.0.100'));
    for (const l of leases) expect(ipWord(l.ip)).toBeLessThanOrEqual(ipWord('10.77.0.110'));
    probe.report('vm');
  };
  return { clock, hub, server, vm, probe, source, all, guestXid, settle };
}

/** Frames of a real run: DORA, renewals, ARP, IGMP, echoes, multicast, leasequeries. */
function corpus(): Uint8Array[] {
  const w = world();
  const o = emptyDhcpOptions();
  o.messageType = DHCP.LEASEQUERY;
  o.paramRequestList = [51, 61, 91];
  const lq: DhcpRepr = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 77, secs: 0, broadcast: false, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0',
    giaddr: '10.77.0.253', chaddr: VM_MAC, sname: '', file: '', options: o,
  };
  w.hub.send('relay', udpFrame({ srcMac: '02:5e:00:00:00:01', dstMac: SERVER.mac, srcIp: '10.77.0.253', dstIp: SERVER.ip, srcPort: 67, dstPort: 67, payload: emitDhcp(lq) }));
  w.hub.send('relay', igmpFrame({
    srcMac: '02:5e:00:00:00:01', dstMac: multicastMac('224.0.0.1'), srcIp: '10.77.0.253', dstIp: '224.0.0.1',
    igmp: { kind: 'query', version: 3, group: '0.0.0.0', maxRespDs: 10, suppress: false, qrv: 2, qqicSeconds: 125, sources: ['10.1.1.1'] },
  }));
  w.clock.advance(70 * S);
  return w.hub.log.map((s) => s.frame);
}

/** Recompute the IPv4 header checksum and the IGMP checksum, zero the UDP one (= none), where the bytes allow. */
function repair(f: Uint8Array): Uint8Array {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return f;
  const hl = (f[14]! & 0x0f) * 4;
  if (hl < 20 || 14 + hl > f.length) return f;
  f[24] = 0;
  f[25] = 0;
  put16(f, 24, internetChecksum(f, 14, 14 + hl));
  const total = Math.min(((f[16]! << 8) | f[17]!), f.length - 14);
  const l4 = 14 + hl;
  if (f[23] === 17 && l4 + 8 <= f.length) {
    f[l4 + 6] = 0;
    f[l4 + 7] = 0;
  } else if (f[23] === 2 && l4 + 4 <= 14 + total) {
    f[l4 + 2] = 0;
    f[l4 + 3] = 0;
    put16(f, l4 + 2, internetChecksum(f, l4, 14 + total));
  }
  return f;
}

const CORPUS = corpus();

const ips = fc.constantFrom('0.0.0.0', '10.77.0.1', '10.77.0.100', '10.77.0.101', '10.77.0.110', '10.77.0.111', '10.77.0.200', '10.77.0.253', '10.99.0.1', '255.255.255.255', '224.0.0.1', '239.1.1.1', '10.77.0.255');
const macs = fc.constantFrom(VM_MAC, SERVER.mac, '02:50:00:00:00:01', '52:54:00:99:99:99', 'ff:ff:ff:ff:ff:ff', '01:00:5e:01:01:01', '01:00:5e:00:00:01', '00:00:00:00:00:00');
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

const dhcpArb = fc.record({
  op: fc.constantFrom(1 as const, 2 as const, null),
  htype: fc.constantFrom(1, 1, 1, 0, 6, 255),
  chaddr: fc.oneof({ weight: 3, arbitrary: fc.constant(VM_MAC) }, { weight: 2, arbitrary: fc.option(macs, { nil: null }) }),
  hlenOther: fc.constantFrom(0, 1, 16),
  xid: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: null }),
  broadcast: fc.boolean(),
  ciaddr: ips, yiaddr: ips, giaddr: ips,
  type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 10) }, { weight: 1, arbitrary: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }) }),
  requestedIp: fc.option(ips, { nil: null }),
  serverId: fc.option(ips, { nil: null }),
  clientId: fc.option(bytes(2, 20), { nil: null }),
  leaseTime: fc.option(fc.constantFrom(0, 1, 2, 60, 120, 0xffffffff), { nil: null }),
  renewalTime: fc.option(fc.constantFrom(0, 1, 30, 500, 0xffffffff), { nil: null }),
  rebindingTime: fc.option(fc.constantFrom(0, 1, 100, 500, 0xffffffff), { nil: null }),
  circuitId: fc.option(bytes(0, 8), { nil: null }),
  // mostly addressed so that the server or the guest takes the message in, sometimes anything
  addr: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(
      { srcMac: VM_MAC, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', ports: [68, 67] },
      { srcMac: VM_MAC, dstMac: SERVER.mac, srcIp: '10.77.0.100', dstIp: SERVER.ip, ports: [68, 67] },
      { srcMac: '02:5e:00:00:00:01', dstMac: SERVER.mac, srcIp: '10.77.0.253', dstIp: SERVER.ip, ports: [67, 67] },
    ) },
    { weight: 2, arbitrary: fc.constantFrom(
      { srcMac: SERVER.mac, dstMac: VM_MAC, srcIp: SERVER.ip, dstIp: '10.77.0.100', ports: [67, 68] },
      { srcMac: SERVER.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: SERVER.ip, dstIp: '255.255.255.255', ports: [67, 68] },
    ) },
    { weight: 1, arbitrary: fc.record({ srcMac: macs, dstMac: macs, srcIp: ips, dstIp: ips, ports: fc.constantFrom([68, 67], [67, 68], [67, 67], [68, 68], [1, 67]) }) },
  ),
});

const igmpArb: fc.Arbitrary<IgmpRepr> = fc.oneof(
  fc.record({
    kind: fc.constant('query' as const), version: fc.constant(3 as const), group: fc.constantFrom('0.0.0.0', G1, '239.9.9.9', '224.0.0.251'),
    maxRespDs: fc.integer({ min: 0, max: 31744 }), suppress: fc.boolean(), qrv: fc.integer({ min: 0, max: 7 }), qqicSeconds: fc.integer({ min: 0, max: 300 }),
    sources: fc.array(fc.constantFrom('10.1.1.1', '10.2.2.2'), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('query' as const), version: fc.constant(2 as const), group: fc.constantFrom('0.0.0.0', G1, '239.9.9.9'), maxRespDs: fc.integer({ min: 1, max: 255 }), suppress: fc.constant(false), qrv: fc.constant(0), qqicSeconds: fc.constant(0), sources: fc.constant<string[]>([]) }),
  fc.record({ kind: fc.constant('query' as const), version: fc.constant(1 as const), group: fc.constantFrom('0.0.0.0', G1), maxRespDs: fc.constant(100), suppress: fc.constant(false), qrv: fc.constant(0), qqicSeconds: fc.constant(0), sources: fc.constant<string[]>([]) }),
  fc.record({ kind: fc.constant('report' as const), version: fc.constantFrom(1 as const, 2 as const), group: fc.constantFrom(G1, '239.9.9.9', '224.0.0.1') }),
  fc.record({ kind: fc.constant('leave' as const), group: fc.constantFrom(G1, '239.9.9.9') }),
  fc.record({ kind: fc.constant('v3report' as const), records: fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), group: fc.constantFrom(G1, '239.9.9.9'), sources: fc.constant<string[]>([]), auxData: fc.constant(new Uint8Array(0)) }), { maxLength: 3 }) }),
);

const udpArb = fc.record({
  srcMac: macs, dstMac: macs, srcIp: ips, dstIp: ips,
  srcPort: fc.constantFrom(7, 7007, 5000, 67, 68, 9999), dstPort: fc.constantFrom(7, 7007, 5001, 67, 68, 9999),
  payload: bytes(0, 40),
});

const arpArb = fc.record({ op: fc.constantFrom(1, 2, 3, 4), senderMac: macs, senderIp: ips, targetMac: macs, targetIp: ips, dst: macs });

describe('network actors never throw on what they receive', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(bytes(0, 400), { maxLength: 20 }), (seed, frames) => {
      const w = world(seed);
      for (const f of frames) w.all(f);
      w.settle();
    }), { numRuns: 150 });
  });

  it('mutated captures of real exchanges (checksums repaired)', () => {
    const mutation = fc.record({
      idx: fc.nat({ max: CORPUS.length - 1 }),
      edits: fc.array(fc.record({ pos: fc.nat({ max: 400 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat({ max: 400 }), { nil: null }),
      fix: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 12 }), (muts) => {
      const w = world();
      for (const m of muts) {
        let f: Uint8Array = CORPUS[m.idx]!.slice();
        for (const e of m.edits) if (e.pos < f.length) f[e.pos] = e.byte;
        if (m.cut !== null && m.cut < f.length) f = f.subarray(0, m.cut);
        if (m.fix) f = repair(f);
        w.all(f);
        w.clock.advance(100e6);
      }
      w.settle();
    }), { numRuns: 300 });
  });

  it('well-formed DHCP, IGMP, ARP and UDP with adversarial fields', () => {
    const msg = fc.oneof(
      { weight: 3, arbitrary: dhcpArb.map((d) => ({ k: 'dhcp' as const, d })) },
      { weight: 2, arbitrary: fc.record({ igmp: igmpArb, dst: macs, dstIp: ips }).map((d) => ({ k: 'igmp' as const, d })) },
      { weight: 1, arbitrary: udpArb.map((d) => ({ k: 'udp' as const, d })) },
      { weight: 1, arbitrary: arpArb.map((d) => ({ k: 'arp' as const, d })) },
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(fc.record({ msg, gapMs: fc.nat({ max: 3000 }), renew: fc.boolean() }), { minLength: 1, maxLength: 25 }), (seed, list) => {
      const w = world(seed);
      for (const { msg: x, gapMs, renew } of list) {
        if (renew) w.vm.renewNow(); // the guest waits for an answer: crafted ACKs/NAKs reach its state machine
        let frame: Uint8Array;
        if (x.k === 'dhcp') {
          const d = x.d;
          const o = emptyDhcpOptions();
          o.messageType = d.type;
          o.requestedIp = d.requestedIp;
          o.serverId = d.serverId;
          o.clientId = d.clientId;
          o.leaseTime = d.leaseTime;
          o.renewalTime = d.renewalTime;
          o.rebindingTime = d.rebindingTime;
          o.relayAgentInfo = d.circuitId === null ? null : { circuitId: d.circuitId, remoteId: null, other: [] };
          const m: DhcpRepr = {
            op: d.op ?? (d.addr.ports[1] === 67 ? 1 : 2), htype: d.htype, hlen: d.chaddr === null ? d.hlenOther : 6, hops: 0, xid: d.xid ?? w.guestXid(), secs: 0,
            broadcast: d.broadcast, ciaddr: d.ciaddr, yiaddr: d.yiaddr, siaddr: '0.0.0.0', giaddr: d.giaddr, chaddr: d.chaddr, sname: '', file: '', options: o,
          };
          const a = d.addr;
          frame = udpFrame({ srcMac: a.srcMac, dstMac: a.dstMac, srcIp: a.srcIp, dstIp: a.dstIp, srcPort: a.ports[0]!, dstPort: a.ports[1]!, payload: emitDhcp(m) });
        } else if (x.k === 'igmp') {
          frame = igmpFrame({ srcMac: '02:5e:00:00:00:01', dstMac: x.d.dst, srcIp: '10.77.0.253', dstIp: x.d.dstIp, igmp: x.d.igmp });
        } else if (x.k === 'udp') {
          frame = udpFrame(x.d);
        } else {
          frame = arpFrame(x.d.dst, { op: x.d.op, senderMac: x.d.senderMac, senderIp: x.d.senderIp, targetMac: x.d.targetMac, targetIp: x.d.targetIp });
        }
        w.all(frame);
        w.clock.advance(gapMs * 1e6);
      }
      w.settle();
    }), { numRuns: 300 });
  });

  it('readInbound itself never throws', () => {
    fc.assert(fc.property(bytes(0, 200), (b) => {
      readInbound(b);
      readInbound(repair(b.slice()));
    }));
  });
});
