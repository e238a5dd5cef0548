// The switch's state stays bounded: FDB entries age out on the clock, learning is limited per
// port, the log and the snooping client table have limits (docs/architecture.md "The switch,
// in both engines").
import { fuzzSeeds, mutatedFrame, randomFrame } from './fuzz-frames.js';
import { describe, expect, it } from 'vitest';
import { Kernel } from '../sim/kernel.js';
import { kernelClock } from '../sim/clock.js';
import { Random } from '../model/random.js';
import { EdgeSwitch, type PortRole } from './edge-switch.js';
import { VsiTypeDb } from './vsi-db.js';
import { EventLog } from '../model/result/event-log.js';
import { FDB_AGING_NS, FDB_MAX_LEARNED_PER_PORT, FDB_SWEEP_NS } from './fdb.js';
import { DHCP_MAX_CLIENTS } from './dhcp-snooping.js';
import { udpFrame } from '../wire/compose.js';

function harness() {
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const sw = new EdgeSwitch({
    mac: '02:5e:00:00:00:fe', ip: '10.77.0.254', vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query',
    ipSourceGuard: true, igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1,
  }, clock, new Random(1), new VsiTypeDb());
  const roles: PortRole[] = ['access', 'access', 'host', 'dhcp-server', 'mrouter'];
  const ports = roles.map((r, i) => sw.addPort(`p${i}`, r, () => {}, 10));
  sw.start();
  return { kernel, sw, ports };
}

const mac = (i: number) => `02:00:${((i >> 24) & 255).toString(16).padStart(2, '0')}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const unicast = (src: string) => udpFrame({ srcMac: src, dstMac: '02:ff:00:00:00:99', srcIp: '10.77.0.5', dstIp: '10.77.0.6', srcPort: 1, dstPort: 2, payload: new Uint8Array(8) });

describe('bounded switch state', () => {
  it('a learned entry ages out with no traffic and no lookup, on the clock; stop cancels the sweep', () => {
    const { kernel, sw, ports } = harness();
    sw.receive(ports[0]!, unicast('02:00:00:00:00:01'));
    expect(sw.fdb.size).toBe(1);
    kernel.run(FDB_AGING_NS);
    expect(sw.fdb.size).toBe(1);
    kernel.run(FDB_AGING_NS + FDB_SWEEP_NS);
    expect(sw.fdb.size).toBe(0);
    expect(sw.fdb.aged).toBe(1);
    sw.stop();
    sw.receive(ports[0]!, unicast('02:00:00:00:00:01'));
    kernel.run(10 * FDB_AGING_NS);
    expect(sw.fdb.size).toBe(1); // no sweep after stop (a lookup would still ignore it)
  });

  it('per-port limit: sources beyond it are counted, not learned, and their frames still flood', () => {
    const { sw, ports } = harness();
    for (let i = 0; i < FDB_MAX_LEARNED_PER_PORT + 10; i++) sw.receive(ports[0]!, unicast(mac(i)));
    expect(sw.fdb.learnedCount(ports[0]!)).toBe(FDB_MAX_LEARNED_PER_PORT);
    expect(sw.fdb.limitDrops).toBe(10);
    expect(sw.counters.flooded).toBe(FDB_MAX_LEARNED_PER_PORT + 10);
  });

  it('fuzz: 20,000 random + 20,000 mutated frames with the clock advancing; every table stays under its limit', () => {
    const { kernel, sw, ports } = harness();
    const rng = new Random(42);
    const base = fuzzSeeds();
    const N = 20_000;
    for (let i = 0; i < 2 * N; i++) {
      const f = i < N ? randomFrame(rng) : mutatedFrame(rng, base);
      expect(() => sw.receive(ports[rng.below(ports.length)]!, f)).not.toThrow();
      kernel.run(kernel.now + 50e6); // 50 ms a frame: 2,000 s in all, several ageing times
      for (const p of ports) expect(sw.fdb.learnedCount(p)).toBeLessThanOrEqual(FDB_MAX_LEARNED_PER_PORT);
      expect(sw.snooping.clientCount).toBeLessThanOrEqual(DHCP_MAX_CLIENTS);
    }
    expect(sw.fdb.size).toBeLessThanOrEqual(ports.length * FDB_MAX_LEARNED_PER_PORT);
    expect(sw.log.events.length).toBeLessThanOrEqual(EventLog.MAX_EVENTS);
    expect([...sw.log.counts.values()].reduce((a, b) => a + b, 0)).toBe(sw.log.events.length + sw.log.dropped + Math.max(0, sw.log.malformedCount - EventLog.MAX_MALFORMED_LOGGED));
    expect(sw.log.sourceGuardDropCount).toBe(sw.counters.sourceGuardDrops);
    expect(sw.fdb.aged).toBeGreaterThan(0);
  });
});
