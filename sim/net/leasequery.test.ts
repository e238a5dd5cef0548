// RFC 4388 leasequery against the server model, byte level: the queries are built with the
// dhcp codec and sent as frames from a "relay" (the switch's role) with giaddr set; the
// answers are compared with ISC dhcpd 4.4's (protocols.md §4.3).

import { Random } from '../../model/random.js';
import { describe, expect, it } from 'vitest';
import { ARP_OP } from '../../wire/arp.js';
import { arpFrame, udpFrame } from '../../wire/compose.js';
import { DHCP, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import { fromHex } from '../../wire/fields.js';
import { type DhcpServerConfig, DhcpServerModel } from './dhcp-server.js';
import { readInbound } from './frames.js';
import { GuestStack } from './guest.js';
import { dhcpOptionCodes, Hub } from './testkit.js';
import { ManualClock } from '../clock.js';

const SERVER: DhcpServerConfig = {
  mac: '02:d0:00:00:00:01', ip: '10.77.0.1', subnet: '10.77.0.0/24', leaseSeconds: 600,
  poolFirst: '10.77.0.100', poolLast: '10.77.0.150', processingNs: 50_000,
};
const RELAY = { mac: '02:5e:00:00:00:01', ip: '10.77.0.253' };
const VM_MAC = '52:54:00:77:00:01';
const LAT = 100_000;
const PROC = 50_000;
const S = 1e9;

interface Received {
  t: number;
  frame: Uint8Array;
}

function setup(opts: { answerArp: boolean } = { answerArp: true }) {
  const clock = new ManualClock();
  const hub = new Hub(clock, LAT);
  let server!: DhcpServerModel;
  server = new DhcpServerModel(clock, hub.connect('server', (f) => server.receive(f)), SERVER);
  const vm: GuestStack = new GuestStack(clock, new Random(3), { name: 'vm', mac: VM_MAC, groups: [], announceOnResume: 'none' });
  vm.attach(hub.connect('vm', (f) => vm.receive(f)));
  const got: Received[] = [];
  const relay = hub.connect('relay', (frame) => {
    got.push({ t: clock.now(), frame });
    const d = readInbound(frame);
    if (opts.answerArp && d?.kind === 'arp' && d.arp.op === ARP_OP.REQUEST && d.arp.targetIp === RELAY.ip) {
      relay(arpFrame(d.arp.senderMac, { op: ARP_OP.REPLY, senderMac: RELAY.mac, senderIp: RELAY.ip, targetMac: d.arp.senderMac, targetIp: d.arp.senderIp }));
    }
  });
  vm.boot();
  clock.advance(10e6);
  expect(vm.ip).toBe('10.77.0.100');
  // DORA over a 100 µs hub with 50 µs processing: the ACK left at 400 µs, so ISC's starts = cltt = second 0
  expect(server.leases()[0]!.start).toBe(400_000);
  return { clock, hub, server, vm, relay, got };
}

/** A DHCPLEASEQUERY as docs/protocols.md §4.3 shows them: op 1, 1/6 for a MAC query else 0/0, giaddr = the querier, PRL. */
function query(k: { xid: number; ip?: string; mac?: string; cid?: Uint8Array; giaddr?: string }): Uint8Array {
  const o = emptyDhcpOptions();
  o.messageType = DHCP.LEASEQUERY;
  o.paramRequestList = [51, 61, 82, 91, 92, 58, 59];
  o.clientId = k.cid ?? null;
  const byMac = k.mac !== undefined;
  const m: DhcpRepr = {
    op: 1, htype: byMac ? 1 : 0, hlen: byMac ? 6 : 0, hops: 0, xid: k.xid, secs: 0, broadcast: false,
    ciaddr: k.ip ?? '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: k.giaddr ?? RELAY.ip, chaddr: k.mac ?? null, sname: '', file: '', options: o,
  };
  return udpFrame({ srcMac: RELAY.mac, dstMac: SERVER.mac, srcIp: RELAY.ip, dstIp: SERVER.ip, srcPort: 67, dstPort: 67, payload: emitDhcp(m) });
}

/** DHCP replies addressed to the relay, by xid. */
function replies(got: Received[]) {
  const out = new Map<number, { t: number; m: DhcpRepr; codes: number[]; eth: { src: string; dst: string }; ip: { src: string; dst: string }; ports: [number, number] }>();
  for (const g of got) {
    const d = readInbound(g.frame);
    if (d?.kind !== 'udp' || d.eth.dst !== RELAY.mac) continue; // the relay also hears the guest's broadcasts
    const m = parseDhcp(d.udp.payload);
    if (!m.ok) continue;
    out.set(m.value.xid, {
      t: g.t, m: m.value, codes: dhcpOptionCodes(d.udp.payload), eth: { src: d.eth.src, dst: d.eth.dst }, ip: { src: d.ip.src, dst: d.ip.dst }, ports: [d.udp.srcPort, d.udp.dstPort],
    });
  }
  return out;
}

const CID = fromHex('01525400770001')!;

describe('DHCPLEASEQUERY (RFC 4388) as ISC dhcpd 4.4 answers it', () => {
  it('resolves giaddr by ARP, then answers from :67 to giaddr:67', () => {
    const { clock, hub, relay, got } = setup({ answerArp: false });
    clock.runUntil(5 * S);
    relay(query({ xid: 1, ip: '10.77.0.100' }));
    clock.runUntil(5 * S + LAT + PROC + LAT);

    const arp = hub.sentBy('server', 5 * S);
    expect(arp).toHaveLength(1);
    expect(arp[0]).toMatchObject({
      t: 5 * S + LAT + PROC, kind: 'arp', eth: { dst: 'ff:ff:ff:ff:ff:ff', src: SERVER.mac },
      arp: { op: ARP_OP.REQUEST, senderMac: SERVER.mac, senderIp: SERVER.ip, targetIp: RELAY.ip, targetMac: '00:00:00:00:00:00' },
    });
    expect(replies(got).size).toBe(0); // held until the next hop is known

    const tArp = clock.now();
    relay(arpFrame(SERVER.mac, { op: ARP_OP.REPLY, senderMac: RELAY.mac, senderIp: RELAY.ip, targetMac: SERVER.mac, targetIp: SERVER.ip }));
    clock.advance(1e6);
    const r = replies(got).get(1)!;
    expect(r.t).toBe(tArp + 2 * LAT); // released the moment the ARP reply arrives
    expect(r.eth).toEqual({ src: SERVER.mac, dst: RELAY.mac });
    expect(r.ip).toEqual({ src: SERVER.ip, dst: RELAY.ip });
    expect(r.ports).toEqual([67, 67]);
    expect(r.m.options.messageType).toBe(DHCP.LEASEACTIVE);

    // the next query finds the relay in the ARP cache
    relay(query({ xid: 2, ip: '10.77.0.100' }));
    const t2 = clock.now();
    clock.advance(1e6);
    expect(replies(got).get(2)!.t).toBe(t2 + LAT + PROC + LAT);
    expect(hub.sentBy('server', 5 * S).filter((d) => d.kind === 'arp')).toHaveLength(1);
  });

  it('answers the six cases of docs/protocols.md 4.3 (lease 600 s, 5 s after the ACK)', () => {
    const { clock, server, relay, got } = setup();
    clock.runUntil(5 * S);
    relay(query({ xid: 1, ip: '10.77.0.100' }));
    relay(query({ xid: 2, mac: VM_MAC }));
    relay(query({ xid: 3, cid: CID }));
    relay(query({ xid: 4, ip: '10.77.0.120' }));
    relay(query({ xid: 5, ip: '10.77.0.200' }));
    relay(query({ xid: 6, mac: '52:54:00:99:99:99' }));
    clock.advance(10e6);
    const r = replies(got);
    expect([...r.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);

    const active = r.get(1)!;
    expect(active.m.options.messageType).toBe(DHCP.LEASEACTIVE);
    expect([active.m.op, active.m.htype, active.m.hlen, active.m.chaddr, active.m.ciaddr, active.m.giaddr]).toEqual([2, 1, 6, VM_MAC, '10.77.0.100', RELAY.ip]);
    const o = active.m.options;
    expect([o.serverId, o.leaseTime, o.renewalTime, o.rebindingTime, o.clientLastTransactionTime]).toEqual([SERVER.ip, 595, 295, 520, 5]);
    expect(o.clientId).toEqual(CID);
    expect([...active.codes].sort((a, b) => a - b)).toEqual([51, 53, 54, 58, 59, 61, 91]);
    // by MAC and by client-id: the identical ACTIVE
    for (const xid of [2, 3]) {
      expect({ ...r.get(xid)!.m, xid: 1 }).toEqual(active.m);
      expect(r.get(xid)!.codes).toEqual(active.codes);
    }

    const unassigned = r.get(4)!;
    expect([unassigned.m.options.messageType, unassigned.m.ciaddr, unassigned.codes]).toEqual([DHCP.LEASEUNASSIGNED, '10.77.0.120', [53, 54]]);
    const unknownIp = r.get(5)!;
    expect([unknownIp.m.options.messageType, unknownIp.m.ciaddr, unknownIp.codes]).toEqual([DHCP.LEASEUNKNOWN, '10.77.0.200', [53, 54]]);
    const unknownMac = r.get(6)!;
    expect([unknownMac.m.options.messageType, unknownMac.m.ciaddr, unknownMac.m.chaddr, unknownMac.codes]).toEqual([DHCP.LEASEUNKNOWN, '0.0.0.0', '52:54:00:99:99:99', [53, 54]]);
    for (const x of r.values()) expect([x.eth.dst, x.ip.dst, x.ports]).toEqual([RELAY.mac, RELAY.ip, [67, 67]]);
    expect(server.stats).toMatchObject({ leasequeries: 6, leaseActive: 3, leaseUnassigned: 1, leaseUnknown: 2 });
  });

  it('drops a query without giaddr (ISC: "missing giaddr … no reply sent")', () => {
    const { clock, hub, server, relay, got } = setup();
    clock.runUntil(5 * S);
    const ignored = server.stats.ignored;
    relay(query({ xid: 9, ip: '10.77.0.100', giaddr: '0.0.0.0' }));
    clock.advance(5 * S);
    expect(replies(got).size).toBe(0);
    expect(hub.sentBy('server', 5 * S)).toEqual([]);
    expect(server.stats.leasequeries).toBe(1);
    expect(server.stats.ignored).toBe(ignored + 1);
  });

  it('gives up on a next hop that never answers ARP: three requests a second apart, then the reply is dropped', () => {
    const { clock, hub, server, relay, got } = setup();
    clock.runUntil(5 * S);
    relay(query({ xid: 1, ip: '10.77.0.100', giaddr: '10.77.0.252' }));
    clock.advance(10 * S);
    const arps = hub.sentBy('server', 5 * S);
    expect(arps.map((d) => [d.t, d.kind === 'arp' ? d.arp.targetIp : null])).toEqual([
      [5 * S + LAT + PROC, '10.77.0.252'], [6 * S + LAT + PROC, '10.77.0.252'], [7 * S + LAT + PROC, '10.77.0.252'],
    ]);
    expect(replies(got).size).toBe(0);
    expect(server.stats).toMatchObject({ arpRequests: 3, unresolved: 1 });
  });

  it('counts in ISC’s whole seconds and leaves out T1/T2 once they have passed', () => {
    const { clock, vm, relay, got } = setup();
    vm.pause(); // no renewal at T1
    // at 5.999 s ISC's clock still says 5
    clock.runUntil(5.999 * S - LAT - PROC);
    relay(query({ xid: 1, ip: '10.77.0.100' }));
    clock.runUntil(400 * S);
    relay(query({ xid: 2, ip: '10.77.0.100' }));
    clock.advance(1e6);
    const r = replies(got);
    const early = r.get(1)!.m.options;
    expect([early.leaseTime, early.renewalTime, early.rebindingTime, early.clientLastTransactionTime]).toEqual([595, 295, 520, 5]);
    const late = r.get(2)!;
    expect([late.m.options.leaseTime, late.m.options.renewalTime, late.m.options.rebindingTime, late.m.options.clientLastTransactionTime]).toEqual([200, null, 125, 400]);
    expect([...late.codes].sort((a, b) => a - b)).toEqual([51, 53, 54, 59, 61, 91]);
  });

  it('after the lease has expired: UNASSIGNED by IP, and by MAC too with the old address in ciaddr', () => {
    const { clock, server, vm, relay, got } = setup();
    vm.pause();
    clock.runUntil(601 * S);
    expect(server.leases()).toEqual([]);
    relay(query({ xid: 1, ip: '10.77.0.100' }));
    relay(query({ xid: 2, mac: VM_MAC }));
    relay(query({ xid: 3, cid: CID }));
    clock.advance(1e6);
    const r = replies(got);
    expect([1, 2, 3].map((x) => [r.get(x)!.m.options.messageType, r.get(x)!.m.ciaddr])).toEqual([
      [DHCP.LEASEUNASSIGNED, '10.77.0.100'], [DHCP.LEASEUNASSIGNED, '10.77.0.100'], [DHCP.LEASEUNASSIGNED, '10.77.0.100'],
    ]);
  });
});
