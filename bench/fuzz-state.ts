// The switch's state under 2M fuzzed frames: its tables stay within their bounds.

import { fuzzSeeds, mutatedFrame, randomFrame } from '../switch/fuzz-frames.js';
import { Random } from '../model/random.js';
import { kernelClock } from '../sim/clock.js';
import { Kernel } from '../sim/kernel.js';
import { EdgeSwitch, type PortRole } from '../switch/edge-switch.js';
import { VsiTypeDb } from '../switch/vsi-db.js';
import { BENCH_SWITCH } from './addresses.js';
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
  const seeds = fuzzSeeds();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rng = new Random(7);
  const t0 = performance.now();
  let peakFdb = 0;
  for (let i = 0; i < 2 * N; i++) {
    const f = i < N ? randomFrame(rng) : mutatedFrame(rng, seeds);
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

