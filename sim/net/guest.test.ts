
import { Random } from '../../model/random.js';
import { describe, expect, it } from 'vitest';
import { ARP_OP } from '../../wire/arp.js';
import { arpFrame, igmpFrame, multicastMac, udpFrame } from '../../wire/compose.js';
import { DHCP, parseDhcp } from '../../wire/dhcp.js';
import { IGMP_RECORD, type IgmpRepr } from '../../wire/igmp.js';
import { ROUTER_ALERT } from '../../wire/ipv4.js';
import { DhcpServerModel } from './dhcp-server.js';
import { type GuestConfig, GuestStack } from './guest.js';
import { Hub } from './testkit.js';
import { ManualClock } from '../clock.js';
const LAT = 100_000;
const S = 1e9;
const MS = 1e6;
const VM_MAC = '52:54:00:77:00:01';
const SW = { mac: '02:5e:00:00:00:01', ip: '10.77.0.253' };
const G1 = '239.1.1.1';
const G2 = '239.2.2.2';

function setup(opts: { seed?: number; announce?: GuestConfig['announceOnResume']; groups?: string[] } = {}) {
  const clock = new ManualClock();
  const hub = new Hub(clock, LAT);
  let server!: DhcpServerModel;
  server = new DhcpServerModel(clock, hub.connect('server', (f) => server.receive(f)), {
    mac: '02:d0:00:00:00:01', ip: '10.77.0.1', subnet: '10.77.0.0/24', leaseSeconds: 3600, poolFirst: '10.77.0.100', poolLast: '10.77.0.150', processingNs: 50_000,
  });
  const multicast: { group: string; seq: number; t: number }[] = [];
  const leased: { ip: string; t: number }[] = [];
  const vm: GuestStack = new GuestStack(
    clock, new Random(opts.seed ?? 1),
    { name: 'vm', mac: VM_MAC, groups: opts.groups ?? [G1, G2], announceOnResume: opts.announce ?? 'none' },
    { multicast: (group, seq, t) => multicast.push({ group, seq, t }), leased: (ip, t) => leased.push({ ip, t }) },
  );
  vm.attach(hub.connect('vm', (f) => vm.receive(f)));
  const sw = hub.connect('sw', () => undefined);
  vm.boot();
  clock.advance(10 * MS);
  expect(vm.ip).toBe('10.77.0.100');
  return { clock, hub, vm, sw, multicast, leased, server };
}

function igmpFrom(hub: Hub, since = 0) {
  return hub.sentBy('vm', since).flatMap((d) => (d.kind === 'igmp' ? [{ t: d.t, eth: d.eth, ip: d.ip, igmp: d.igmp }] : []));
}

function records(r: IgmpRepr): [number, string][] {
  return r.kind === 'v3report' ? r.records.map((x) => [x.type, x.group]) : [];
}

function query(q: { version: 1 | 2 | 3; group?: string; maxRespDs: number; dstMac?: string; dstIp?: string }): Uint8Array {
  const group = q.group ?? '0.0.0.0';
  const dstIp = q.dstIp ?? (group === '0.0.0.0' ? '224.0.0.1' : group);
  const igmp: IgmpRepr = q.version === 3
    ? { kind: 'query', version: 3, group, maxRespDs: q.maxRespDs, suppress: false, qrv: 2, qqicSeconds: 125, sources: [] }
    : { kind: 'query', version: q.version, group, maxRespDs: q.version === 1 ? 100 : q.maxRespDs, suppress: false, qrv: 0, qqicSeconds: 0, sources: [] };
  return igmpFrame({ srcMac: SW.mac, dstMac: q.dstMac ?? multicastMac(dstIp), srcIp: SW.ip, dstIp, igmp });
}

describe('guest IGMP host (Linux, docs/protocols.md 5.3)', () => {
  it('joins once leased: per group a TO_EX state-change report at once and again within 1 s', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { clock, hub, leased } = setup({ seed });
      clock.advance(1.5 * S);
      const tL = leased[0]!.t;
      const reports = igmpFrom(hub);
      expect(reports).toHaveLength(4);
      for (const g of [G1, G2]) {
        const mine = reports.filter((r) => records(r.igmp)[0]?.[1] === g);
        expect(mine.map((r) => records(r.igmp))).toEqual([[[IGMP_RECORD.TO_EX, g]], [[IGMP_RECORD.TO_EX, g]]]);
        expect(mine[0]!.t).toBe(tL);
        expect(mine[1]!.t).toBeGreaterThanOrEqual(tL);
        expect(mine[1]!.t).toBeLessThanOrEqual(tL + S);
      }
      for (const r of reports) {
        expect([r.eth.dst, r.eth.src, r.ip.src, r.ip.dst, r.ip.ttl, r.ip.dscp]).toEqual(['01:00:5e:00:00:16', VM_MAC, '10.77.0.100', '224.0.0.22', 1, 0x30]);
        expect([...r.ip.options]).toEqual([...ROUTER_ALERT]);
      }
    }
  });

  it('answers a v3 general query (max resp 1 s) with one report listing all groups, within [0, 1 s)', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const { clock, hub, sw } = setup({ seed });
      clock.advance(2 * S);
      const tQ = clock.now();
      sw(query({ version: 3, maxRespDs: 10 }));
      clock.advance(3 * S);
      const reports = igmpFrom(hub, tQ);
      expect(reports).toHaveLength(1);
      expect(records(reports[0]!.igmp)).toEqual([[IGMP_RECORD.IS_EX, G1], [IGMP_RECORD.IS_EX, G2]]);
      const delay = reports[0]!.t - (tQ + LAT);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(S);
      delays.push(delay);
    }
    expect(new Set(delays).size).toBeGreaterThan(10); // random, not fixed
  });

  it('keeps a pending general report that fires sooner; a sooner one replaces a later one', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const a = setup({ seed });
      a.clock.advance(2 * S);
      const t1 = a.clock.now();
      a.sw(query({ version: 3, maxRespDs: 10 }));
      a.clock.advance(MS);
      a.sw(query({ version: 3, maxRespDs: 255 }));
      a.clock.advance(60 * S);
      const ra = igmpFrom(a.hub, t1);
      expect(ra).toHaveLength(1);
      expect(ra[0]!.t).toBeLessThan(t1 + LAT + S);

      const b = setup({ seed });
      b.clock.advance(2 * S);
      b.sw(query({ version: 3, maxRespDs: 200 }));
      b.clock.advance(MS);
      const t2 = b.clock.now();
      b.sw(query({ version: 3, maxRespDs: 1 }));
      b.clock.advance(60 * S);
      const rb = igmpFrom(b.hub, t2 - MS);
      expect(rb).toHaveLength(1);
      expect(rb[0]!.t).toBeLessThan(t2 + LAT + 100 * MS);
    }
  });

  it('answers a group-specific query for that group only, and none for a group it has not joined', () => {
    const { clock, hub, sw } = setup({ seed: 4 });
    clock.advance(2 * S);
    const t0 = clock.now();
    sw(query({ version: 3, group: G2, maxRespDs: 10 }));
    sw(query({ version: 3, group: '239.9.9.9', maxRespDs: 10 }));
    sw(query({ version: 3, group: '239.9.9.9', maxRespDs: 10, dstMac: VM_MAC }));
    clock.advance(3 * S);
    const reports = igmpFrom(hub, t0);
    expect(reports.map((r) => records(r.igmp))).toEqual([[[IGMP_RECORD.IS_EX, G2]]]);
    expect(reports[0]!.t - (t0 + LAT)).toBeLessThan(S);
  });

  it('answers v1/v2 queries with v2 reports per group, and keeps to v2 while an older querier is present (400 s)', () => {
    const { clock, hub, sw } = setup({ seed: 5 });
    clock.advance(2 * S);
    const t0 = clock.now();
    sw(query({ version: 2, maxRespDs: 100 }));
    clock.advance(11 * S);
    const v2 = igmpFrom(hub, t0);
    expect(v2.map((r) => [r.igmp, r.ip.dst, r.eth.dst]).sort()).toEqual([
      [{ kind: 'report', version: 2, group: G1 }, G1, multicastMac(G1)],
      [{ kind: 'report', version: 2, group: G2 }, G2, multicastMac(G2)],
    ]);
    for (const r of v2) expect(r.t - (t0 + LAT)).toBeLessThan(10 * S);

    // a v3 general query now is answered the v2 way
    const t1 = clock.now();
    sw(query({ version: 3, maxRespDs: 10 }));
    clock.advance(2 * S);
    expect(igmpFrom(hub, t1).map((r) => r.igmp.kind)).toEqual(['report', 'report']);

    // 400 s after the v2 query: v3 again
    clock.runUntil(t0 + LAT + 400 * S + 1);
    const t2 = clock.now();
    sw(query({ version: 3, maxRespDs: 10 }));
    clock.advance(2 * S);
    expect(igmpFrom(hub, t2).map((r) => records(r.igmp))).toEqual([[[IGMP_RECORD.IS_EX, G1], [IGMP_RECORD.IS_EX, G2]]]);

    // v1 query: v2 reports within 10 s
    const t3 = clock.now();
    sw(query({ version: 1, maxRespDs: 100 }));
    clock.advance(11 * S);
    const v1 = igmpFrom(hub, t3);
    expect(v1.map((r) => r.igmp.kind)).toEqual(['report', 'report']);
  });

  it('takes a query sent to its own MAC (the switch’s rebind query) like a multicast one', () => {
    const { clock, hub, sw } = setup({ seed: 6 });
    clock.advance(2 * S);
    const t0 = clock.now();
    sw(query({ version: 3, maxRespDs: 1, dstMac: VM_MAC }));
    clock.advance(S);
    const r = igmpFrom(hub, t0);
    expect(r).toHaveLength(1);
    expect(r[0]!.t - (t0 + LAT)).toBeLessThan(100 * MS);
  });

  it('does not answer while paused; the overdue report goes out at resume', () => {
    const { clock, hub, vm, sw } = setup({ seed: 7 });
    clock.advance(2 * S);
    const t0 = clock.now();
    sw(query({ version: 3, maxRespDs: 10 }));
    clock.advance(LAT); // received, timer running
    vm.pause();
    clock.advance(5 * S);
    expect(igmpFrom(hub, t0)).toEqual([]);
    const tR = clock.now();
    vm.resume();
    const r = igmpFrom(hub, t0);
    expect(r.map((x) => [x.t, records(x.igmp)])).toEqual([[tR, [[IGMP_RECORD.IS_EX, G1], [IGMP_RECORD.IS_EX, G2]]]]);
    expect(hub.sentBy('vm', tR).filter((d) => d.kind === 'arp')).toEqual([]); // announce 'none'
  });
});

describe('guest resume announcement, renewNow and rejoinGroups', () => {
  it('garp: a gratuitous ARP (broadcast request, sender = target = own IP)', () => {
    const { clock, hub, vm } = setup({ announce: 'garp' });
    clock.advance(2 * S);
    vm.pause();
    clock.advance(S);
    const tR = clock.now();
    vm.resume();
    const out = hub.sentBy('vm', tR);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: 'arp', eth: { dst: 'ff:ff:ff:ff:ff:ff', src: VM_MAC },
      arp: { op: ARP_OP.REQUEST, senderMac: VM_MAC, senderIp: '10.77.0.100', targetMac: '00:00:00:00:00:00', targetIp: '10.77.0.100' },
    });
    expect(vm.stats.garps).toBe(1);
  });

  it('garp+igmp: also one IS_EX report per joined group, at once', () => {
    const { clock, hub, vm } = setup({ announce: 'garp+igmp' });
    clock.advance(2 * S);
    vm.pause();
    clock.advance(S);
    const tR = clock.now();
    vm.resume();
    const out = hub.sentBy('vm', tR);
    expect(out.map((d) => [d.t, d.kind])).toEqual([[tR, 'arp'], [tR, 'igmp'], [tR, 'igmp']]);
    expect(igmpFrom(hub, tR).map((r) => records(r.igmp))).toEqual([[[IGMP_RECORD.IS_EX, G1]], [[IGMP_RECORD.IS_EX, G2]]]);
    // resume(false): a migration given up, the VM continues where it was: no announcement
    vm.pause();
    clock.advance(S);
    vm.resume(false);
    expect(hub.sentBy('vm', tR + 1)).toEqual([]);
  });

  it('renewNow sends a RENEWING request at once (deferred to resume while paused); rejoinGroups re-reports', () => {
    const { clock, hub, vm, server } = setup();
    clock.advance(2 * S);
    const t0 = clock.now();
    vm.renewNow();
    clock.advance(10 * MS);
    const req = hub.sentBy('vm', t0).filter((d) => d.kind === 'udp');
    expect(req).toHaveLength(1);
    const m = req[0]!.kind === 'udp' ? parseDhcp(req[0]!.udp.payload) : null;
    expect(m?.ok && [m.value.options.messageType, m.value.ciaddr, req[0]!.eth.dst]).toEqual([DHCP.REQUEST, '10.77.0.100', '02:d0:00:00:00:01']);
    expect(server.stats.acks).toBe(2);
    expect(vm.stats.renewals).toBe(1);

    vm.pause();
    vm.renewNow();
    vm.rejoinGroups();
    clock.advance(S);
    const t1 = clock.now();
    expect(hub.sentBy('vm', t0 + 10 * MS)).toEqual([]);
    vm.resume();
    expect(hub.sentBy('vm', t1).map((d) => d.kind)).toEqual(['udp', 'igmp', 'igmp']);
  });
});

describe('guest ARP, echo and multicast data', () => {
  it('answers ARP for its own address only', () => {
    const { clock, hub, sw } = setup();
    const t0 = clock.now();
    sw(arpFrame('ff:ff:ff:ff:ff:ff', { op: ARP_OP.REQUEST, senderMac: SW.mac, senderIp: SW.ip, targetMac: '00:00:00:00:00:00', targetIp: '10.77.0.100' }));
    sw(arpFrame('ff:ff:ff:ff:ff:ff', { op: ARP_OP.REQUEST, senderMac: SW.mac, senderIp: SW.ip, targetMac: '00:00:00:00:00:00', targetIp: '10.77.0.101' }));
    clock.advance(MS);
    const out = hub.sentBy('vm', t0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'arp', eth: { dst: SW.mac }, arp: { op: ARP_OP.REPLY, senderMac: VM_MAC, senderIp: '10.77.0.100', targetMac: SW.mac, targetIp: SW.ip } });
  });

  it('echoes UDP port 7 back to the sender with MACs, IPs and ports swapped', () => {
    const { clock, hub, vm, sw } = setup();
    const t0 = clock.now();
    const payload = new TextEncoder().encode('hello, migsim');
    sw(udpFrame({ srcMac: SW.mac, dstMac: VM_MAC, srcIp: SW.ip, dstIp: '10.77.0.100', srcPort: 40000, dstPort: 7, payload }));
    sw(udpFrame({ srcMac: SW.mac, dstMac: VM_MAC, srcIp: SW.ip, dstIp: '10.77.0.101', srcPort: 40000, dstPort: 7, payload })); // not our IP
    clock.advance(MS);
    const out = hub.sentBy('vm', t0);
    expect(out).toHaveLength(1);
    const e = out[0]!;
    expect(e.kind === 'udp' && [e.t, e.eth.src, e.eth.dst, e.ip.src, e.ip.dst, e.udp.srcPort, e.udp.dstPort, [...e.udp.payload]]).toEqual([
      t0 + LAT, VM_MAC, SW.mac, '10.77.0.100', SW.ip, 7, 40000, [...payload],
    ]);
    expect(vm.stats.echoReplies).toBe(1);
  });

  it('reports multicast datagrams of its groups on port 5001 to the observer, and nothing else', () => {
    const { clock, vm, sw, multicast } = setup();
    const ignored = vm.stats.ignored;
    const data = (group: string, seq: number, port = 5001, len = 64) => {
      const p = new Uint8Array(len);
      if (len >= 4) new DataView(p.buffer).setUint32(0, seq);
      return udpFrame({ srcMac: '02:4d:00:00:00:01', dstMac: multicastMac(group), srcIp: '10.77.0.3', dstIp: group, srcPort: 5000, dstPort: port, payload: p, ttl: 16 });
    };
    const t0 = clock.now();
    sw(data(G1, 42));
    sw(data(G2, 0xfffffffe));
    sw(data('239.9.9.9', 1));
    sw(data(G1, 43, 5002));
    sw(data(G1, 44, 5001, 3));
    clock.advance(MS);
    expect(multicast).toEqual([{ group: G1, seq: 42, t: t0 + LAT }, { group: G2, seq: 0xfffffffe, t: t0 + LAT }]);
    expect(vm.stats.ignored).toBe(ignored + 3);
  });
});
