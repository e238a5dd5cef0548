import { describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import { createWorkload, ZipfSampler } from './workload.js';

describe('workloads', () => {
  it('slicing does not change the count: rate × time, fractions carried', () => {
    const w = createWorkload({ kind: 'uniform', writeRate: 333 }, 1000, 4096, new Random(1));
    let n = 0;
    for (let t = 0; t < 1e9; t += 1e6) n += w.advance(t, t + 1e6, () => undefined);
    expect(n).toBe(333);
  });

  it('times are in order and inside the slice', () => {
    const w = createWorkload({ kind: 'hotset', writeRate: 1e6, hotsetBytes: 4096 * 10 }, 1000, 4096, new Random(1));
    let last = 5e6;
    const pages = new Set<number>();
    w.advance(5e6, 6e6, (p, t) => {
      expect(t).toBeGreaterThan(last - 1e-9);
      expect(t).toBeLessThanOrEqual(6e6);
      last = t;
      pages.add(p);
    });
    expect([...pages].every((p) => p < 10)).toBe(true);
    expect(pages.size).toBe(10);
  });

  it('throttle takes its share of the writes', () => {
    const w = createWorkload({ kind: 'uniform', writeRate: 10_000 }, 1000, 4096, new Random(1));
    w.throttle = 0.3;
    expect(w.advance(0, 1e9, () => undefined)).toBe(7000);
  });

  it('zipf sampler matches P(k) = k^−s / H(n,s)', () => {
    const n = 1000;
    const s = 1.2;
    const z = new ZipfSampler(n, s, new Random(7));
    const counts = new Float64Array(n + 1);
    const draws = 400_000;
    for (let i = 0; i < draws; i++) counts[z.sample()]!++;
    let norm = 0;
    for (let k = 1; k <= n; k++) norm += Math.pow(k, -s);
    for (const k of [1, 2, 3, 10, 100]) {
      const p = Math.pow(k, -s) / norm;
      const sd = Math.sqrt(draws * p * (1 - p));
      expect(Math.abs(counts[k]! - draws * p)).toBeLessThan(5 * sd);
    }
  });

  it('sequential scans and wraps', () => {
    const w = createWorkload({ kind: 'sequential', writeRate: 5 }, 3, 4096, new Random(1));
    const seen: number[] = [];
    w.advance(0, 1e9, (p) => seen.push(p));
    expect(seen).toEqual([0, 1, 2, 0, 1]);
  });

  it('a trace replays at its times, loops, and runs slower when throttled', () => {
    const trace = { timesNs: Float64Array.from([0, 1e6, 2e6]), pages: Uint32Array.from([5, 6, 7]), spanNs: 2e6 };
    const w = createWorkload({ kind: 'trace', file: 't', trace, loop: true }, 10, 4096, new Random(1));
    const seen: [number, number][] = [];
    w.advance(0, 4e6, (p, t) => seen.push([p, t]));
    expect(seen).toEqual([[5, 0], [6, 1e6], [7, 2e6], [5, 2e6], [6, 3e6], [7, 4e6], [5, 4e6]]);
    const slow = createWorkload({ kind: 'trace', file: 't', trace, loop: false }, 10, 4096, new Random(1));
    slow.throttle = 0.5;
    const times: number[] = [];
    slow.advance(0, 4e6, (_p, t) => times.push(t));
    expect(times).toEqual([0, 2e6, 4e6]);
  });
});
