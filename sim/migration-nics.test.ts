import { describe, expect, it } from 'vitest';
import { Kernel } from './kernel.js';
import { MigrationNics } from './migration-nics.js';

const link = { bandwidthBps: 1e9, latencyNs: 0 };

function finishTimes(flows: [string, string, number, number | null][]): number[] {
  const k = new Kernel();
  const net = new MigrationNics(k, ['h1', 'h2', 'h3', 'h4'], link);
  const times: number[] = [];
  flows.forEach(([a, b, bytes, cap], i) => net.transfer(a, b, bytes, cap).onFire(() => { times[i] = k.now; }));
  k.run();
  return times;
}

describe('migration network (max-min fair)', () => {
  it('one flow runs at the link rate', () => {
    expect(finishTimes([['h1', 'h2', 125_000_000, null]])).toEqual([1e9]);
  });

  it('two flows out of one host share it; when one ends the other speeds up', () => {
    // 62.5 MB and 125 MB: both at 0.5 Gbit/s until t=1 s, then the rest (62.5 MB) at 1 Gbit/s → 1.5 s
    const [a, b] = finishTimes([['h1', 'h2', 62_500_000, null], ['h1', 'h3', 125_000_000, null]]);
    expect(a).toBe(1e9);
    expect(b).toBeCloseTo(1.5e9, -1);
  });

  it('a capped flow leaves the rest to the other (progressive filling)', () => {
    // cap 200 Mbit/s → other gets 800 Mbit/s: 100 MB takes 1 s
    const [, b] = finishTimes([['h1', 'h2', 1e9, 200e6], ['h1', 'h2', 100_000_000, null]]);
    expect(b).toBeCloseTo(1e9, -1);
  });

  it('ingress is a bottleneck too: two senders into one host share its NIC', () => {
    const [a, b] = finishTimes([['h1', 'h3', 62_500_000, null], ['h2', 'h3', 62_500_000, null]]);
    expect(a).toBe(1e9);
    expect(b).toBe(1e9);
  });

  it('disjoint pairs do not interact; empty transfers finish at once', () => {
    expect(finishTimes([['h1', 'h2', 125_000_000, null], ['h3', 'h4', 125_000_000, null], ['h1', 'h2', 0, null]]))
      .toEqual([1e9, 1e9, 0]);
  });
});
