
import { Random } from '../../model/random.js';
import { describe, expect, it } from 'vitest';
import { ARP_OP } from '../../wire/arp.js';
import { arpFrame, udpFrame } from '../../wire/compose.js';
import { DhcpServerModel } from './dhcp-server.js';
import { be32, readInbound } from './frames.js';
import { GuestStack } from './guest.js';
import { Probe } from './probe.js';
import { Hub } from './testkit.js';
import { ManualClock } from '../clock.js';
const LAT = 100_000;
const MS = 1e6;
const VM_MAC = '52:54:00:77:00:01';
const PROBE = { mac: '02:50:00:00:00:01', ip: '10.77.0.2' };

function setup(rate = 100) {
  const clock = new ManualClock();
  const hub = new Hub(clock, LAT);
  let server!: DhcpServerModel;
  server = new DhcpServerModel(clock, hub.connect('server', (f) => server.receive(f)), {
    mac: '02:d0:00:00:00:01', ip: '10.77.0.1', subnet: '10.77.0.0/24', leaseSeconds: 3600, poolFirst: '10.77.0.100', poolLast: '10.77.0.150', processingNs: 50_000,
  });
  const vm: GuestStack = new GuestStack(clock, new Random(2), { name: 'vm', mac: VM_MAC, groups: [], announceOnResume: 'none' });
  vm.attach(hub.connect('vm', (f) => vm.receive(f)));
  let probe!: Probe;
  probe = new Probe(clock, hub.connect('probe', (f) => probe.receive(f)), { ...PROBE, ratePerSecond: rate });
  vm.boot();
  clock.advance(10 * MS);
  expect(vm.ip).toBe('10.77.0.100');
  return { clock, hub, vm, probe };
}

/** Drop the probe's echoes whose sequence number is in `lost`. */
function lose(hub: Hub, lost: (seq: number) => boolean): void {
  hub.drop = (s) => {
    if (s.from !== 'probe') return false;
    const d = readInbound(s.frame);
    return d?.kind === 'udp' && d.udp.dstPort === 7 && lost(be32(d.udp.payload, 4));
  };
}

describe('probe', () => {
  it('echoes a VM every 1/rate s (index + seq payload) and matches the replies', () => {
    const { clock, hub, vm, probe } = setup();
    const tA = clock.now();
    probe.addTarget('vm', VM_MAC, vm.ip!);
    clock.runUntil(tA + 995 * MS);
    const echoes = hub.sentBy('probe').filter((d) => d.kind === 'udp');
    expect(echoes).toHaveLength(100);
    const first = echoes[1]!;
    expect(first.kind === 'udp' && [first.eth.dst, first.ip.src, first.ip.dst, first.udp.srcPort, first.udp.dstPort, [...first.udp.payload]]).toEqual([
      VM_MAC, PROBE.ip, '10.77.0.100', 7007, 7, [0, 0, 0, 0, 0, 0, 0, 1],
    ]);
    const log = probe.answeredAt('vm');
    expect(log.map((e) => e.sentAt)).toEqual(Array.from({ length: 100 }, (_, k) => tA + k * 10 * MS));
    expect(log.every((e) => e.repliedAt === e.sentAt + 2 * LAT)).toBe(true);
    expect(probe.report('vm')).toEqual({ sent: 100, answered: 100, longestGapMs: 0, gapStartMs: null });
    expect(vm.stats.echoReplies).toBe(100);
  });

  it('reports the longest run of unanswered echoes, in the middle or at the end, not counting the last 50 ms', () => {
    const { clock, hub, vm, probe } = setup();
    lose(hub, (k) => k === 3 || k === 4 || (k >= 10 && k <= 14) || k === 20 || k >= 88);
    const tA = clock.now();
    probe.addTarget('vm', VM_MAC, vm.ip!);
    clock.runUntil(tA + 995 * MS);
    // lost and old enough: seq ≤ 94 (sent ≤ now − 50 ms); the trailing run 88..94 is the longest
    expect(probe.report('vm')).toEqual({ sent: 100, answered: 80, longestGapMs: 70, gapStartMs: (tA + 880 * MS) / MS });
  });

  it('a middle run wins when the end is clean; ties go to the earlier run', () => {
    const { clock, hub, vm, probe } = setup();
    lose(hub, (k) => (k >= 10 && k <= 14) || (k >= 30 && k <= 34));
    const tA = clock.now();
    probe.addTarget('vm', VM_MAC, vm.ip!);
    clock.runUntil(tA + 995 * MS);
    expect(probe.report('vm')).toEqual({ sent: 100, answered: 90, longestGapMs: 50, gapStartMs: (tA + 100 * MS) / MS });
  });

  it('an echo sent exactly 50 ms before the question is lost, one sent less than 50 ms before is in flight', () => {
    const { clock, hub, vm, probe } = setup();
    lose(hub, (k) => k >= 90);
    const tA = clock.now();
    probe.addTarget('vm', VM_MAC, vm.ip!);
    clock.runUntil(tA + 950 * MS - 1);
    expect(probe.report('vm')).toMatchObject({ longestGapMs: 0, gapStartMs: null });
    clock.runUntil(tA + 950 * MS);
    expect(probe.report('vm')).toMatchObject({ longestGapMs: 10, gapStartMs: (tA + 900 * MS) / MS });
    probe.stop();
    clock.advance(10_000 * MS);
    expect(probe.report('vm')).toMatchObject({ sent: 96, answered: 90, longestGapMs: 60 });
  });

  it('keeps an exact schedule at a rate that does not divide a second', () => {
    const { clock, vm, probe } = setup(3);
    const tA = clock.now();
    probe.addTarget('vm', VM_MAC, vm.ip!);
    clock.runUntil(tA + 3000 * MS);
    expect(probe.answeredAt('vm').map((e) => e.sentAt - tA)).toEqual([0, 333_333_333, 666_666_667, 1e9, 1_333_333_333, 1_666_666_667, 2e9, 2_333_333_333, 2_666_666_667, 3e9]);
    expect(probe.intervalNs).toBeCloseTo(333_333_333.33, 1);
    // the last echo is still in flight: not answered, not lost
    expect(probe.report('vm')).toEqual({ sent: 10, answered: 9, longestGapMs: 0, gapStartMs: null });
  });

  it('answers ARP for its address, ignores stray frames, counts duplicate replies, rejects unknown names', () => {
    const clock = new ManualClock();
    const out: Uint8Array[] = [];
    const probe = new Probe(clock, (f) => out.push(f), { ...PROBE, ratePerSecond: 10 });
    probe.addTarget('a', VM_MAC, '10.77.0.100');
    out.length = 0;
    probe.receive(arpFrame('ff:ff:ff:ff:ff:ff', { op: ARP_OP.REQUEST, senderMac: VM_MAC, senderIp: '10.77.0.100', targetMac: '00:00:00:00:00:00', targetIp: PROBE.ip }));
    expect(out).toHaveLength(1);
    expect(readInbound(out[0]!)).toMatchObject({ kind: 'arp', eth: { dst: VM_MAC }, arp: { op: ARP_OP.REPLY, senderIp: PROBE.ip, senderMac: PROBE.mac, targetIp: '10.77.0.100' } });

    const reply = (p: number[], from = '10.77.0.100', srcPort = 7) =>
      udpFrame({ srcMac: VM_MAC, dstMac: PROBE.mac, srcIp: from, dstIp: PROBE.ip, srcPort, dstPort: 7007, payload: Uint8Array.from(p) });
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0, 0]));
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0, 0])); // duplicate
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0, 9])); // never sent
    probe.receive(reply([0, 0, 0, 5, 0, 0, 0, 0])); // no such target
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0, 0], '10.77.0.101')); // wrong VM
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0, 0], '10.77.0.100', 9)); // not from the echo port
    probe.receive(reply([0, 0, 0, 0, 0, 0, 0])); // short
    probe.receive(new Uint8Array(10));
    expect(probe.stats).toMatchObject({ replies: 1, duplicates: 1, ignored: 6 });
    expect(probe.report('a')).toMatchObject({ sent: 1, answered: 1 });
    expect(() => probe.report('nobody')).toThrow(/no target/);
  });
});
