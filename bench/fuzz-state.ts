// The switch's state under 2M fuzzed frames: its tables stay within their bounds.

import { Random } from '../model/random.js';
import { kernelClock } from '../sim/clock.js';
import { Kernel } from '../sim/kernel.js';
import { EdgeSwitch, type PortRole } from '../switch/edge-switch.js';
import { VsiTypeDb } from '../switch/vsi-db.js';
import { igmpFrame, multicastMac, udpFrame } from '../wire/compose.js';
import { DHCP, emitDhcp, emptyDhcpOptions } from '../wire/dhcp.js';
import { IGMP_RECORD, IGMPV3_ALL_ROUTERS } from '../wire/igmp.js';
import { BENCH_SERVER, BENCH_SWITCH } from './addresses.js';
import type { Row } from './report.js';

/**
 * Bounded switch state: 1M random + 1M mutated frames through a live switch (started, so its
 * sweeps run) on the sim clock, 1 ms of sim time a frame; the tables' sizes and the heap
 * before and after. Opt-in (`--only fuzzState`): about 7 s.
 */
export function fuzzState(quick: boolean): Row {
  const N = quick ? 100_000 : 1_000_000;
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const sw = new EdgeSwitch({
    mac: BENCH_SWITCH.mac, ip: BENCH_SWITCH.ip, vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query',
    ipSourceGuard: true, igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1,
  }, clock, new Random(5), new VsiTypeDb());
  const roles: PortRole[] = ['access', 'access', 'host', 'dhcp-server', 'mrouter'];
  const ports = roles.map((r, i) => sw.addPort(`p${i}`, r, () => {}, 10));
  sw.start();
  const opts = emptyDhcpOptions();
  opts.messageType = DHCP.REQUEST;
  const dhcp = emitDhcp({
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 7, secs: 0, broadcast: false, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0',
    giaddr: '0.0.0.0', chaddr: '02:00:00:00:01:01', sname: '', file: '', options: opts,
  });
  const seeds = [
    udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: BENCH_SERVER.mac, srcIp: '10.77.0.100', dstIp: BENCH_SERVER.ip, srcPort: 40000, dstPort: 5001, payload: new Uint8Array(64) }),
    udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: dhcp }),
    igmpFrame({ srcMac: '02:00:00:00:01:01', dstMac: multicastMac(IGMPV3_ALL_ROUTERS), srcIp: '10.77.0.100', dstIp: IGMPV3_ALL_ROUTERS, igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }),
  ];
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rng = new Random(7);
  const t0 = performance.now();
  let peakFdb = 0;
  for (let i = 0; i < 2 * N; i++) {
    let f: Uint8Array;
    if (i < N) {
      f = new Uint8Array(14 + rng.below(300));
      for (let j = 0; j < f.length; j++) f[j] = rng.below(256);
    } else {
      f = seeds[rng.below(seeds.length)]!.slice();
      for (let m = 1 + rng.below(4); m > 0; m--) f[rng.below(f.length)] = rng.below(256);
      if (rng.below(2)) for (let j = 6; j < 12; j++) f[j] = rng.below(256);
    }
    sw.receive(ports[rng.below(ports.length)]!, f);
    if (i % 100 === 99) {
      kernel.run(kernel.now + 100e6); // 1 ms of sim time a frame
      peakFdb = Math.max(peakFdb, sw.fdb.size);
    }
  }
  const wallMs = performance.now() - t0;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const log = sw.log;
  return {
    name: `Switch state under fuzz: ${(N / 1e6).toLocaleString('en-US')}M random + ${(N / 1e6).toLocaleString('en-US')}M mutated frames, 1 ms sim time a frame`,
    measured: `FDB ${sw.fdb.size.toLocaleString('en-US')} (peak ${peakFdb.toLocaleString('en-US')}), log ${log.events.length.toLocaleString('en-US')}, DHCP clients ${sw.snooping.clientCount}; heap ${mb(heapBefore)} → ${mb(heapAfter)} MB`,
    target: 'bounded',
    ok: sw.fdb.size <= ports.length * 1024 && log.events.length <= 100_000 && sw.snooping.clientCount <= 4096,
    detail: `${(wallMs / 1000).toFixed(1)} s wall${gc ? '' : ' (no --expose-gc)'}; FDB aged ${sw.fdb.aged.toLocaleString('en-US')}, limit drops ${sw.fdb.limitDrops.toLocaleString('en-US')}; log dropped ${log.dropped.toLocaleString('en-US')}, malformed ${log.malformedCount.toLocaleString('en-US')}, per kind ${JSON.stringify(Object.fromEntries(log.counts))}; source-guard drops ${log.sourceGuardDropCount.toLocaleString('en-US')} (${log.sourceGuardDropsRecorded.toLocaleString('en-US')} recorded), DHCP client evictions ${sw.snooping.clientEvictions}; IGMP groups ${sw.igmp.groupCount}`,
  };
}

