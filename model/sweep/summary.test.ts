import { describe, expect, it } from 'vitest';
import { statsOf, summarize } from './summary.js';

// Student's t, 0.975 quantile, from a printed table (NIST/SEMATECH e-Handbook 1.3.6.7.2)
const T975: Record<number, number> = { 1: 12.706, 2: 4.303, 4: 2.776, 9: 2.262 };

describe('statsOf', () => {
  it('gives mean, sample sd and the t interval of 2, 4, 4, 4, 5', () => {
    // mean 19/5 = 3.8; squares of deviations 3.24+0.04*3+1.44 = 4.8; sd = sqrt(4.8/4)
    const s = statsOf([2, 4, 4, 4, 5]);
    expect(s.n).toBe(5);
    expect(s.missing).toBe(0);
    expect(s.mean).toBeCloseTo(3.8, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(1.2), 12);
    const half = T975[4]! * Math.sqrt(1.2) / Math.sqrt(5);
    expect(s.ci95Low).toBeCloseTo(3.8 - half, 3);
    expect(s.ci95High).toBeCloseTo(3.8 + half, 3);
    expect([s.min, s.max]).toEqual([2, 5]);
  });

  it('counts nulls as missing and leaves them out', () => {
    const s = statsOf([null, 10, null, 14]);
    expect([s.n, s.missing, s.mean, s.min, s.max]).toEqual([2, 2, 12, 10, 14]);
    expect(s.sd).toBeCloseTo(Math.SQRT2 * 2, 12);
    expect(s.ci95High! - s.mean!).toBeCloseTo((T975[1]! * 2 * Math.SQRT2) / Math.SQRT2, 2);
  });

  it('has no spread for one value and nothing for none: null, never 0', () => {
    expect(statsOf([7])).toEqual({ n: 1, missing: 0, mean: 7, sd: null, ci95Low: null, ci95High: null, min: 7, max: 7 });
    expect(statsOf([null, null])).toEqual({ n: 0, missing: 2, mean: null, sd: null, ci95Low: null, ci95High: null, min: null, max: null });
  });
});

describe('summarize', () => {
  const points = {
    columns: ['point', 'bw', 'seed', 'migration', 'vm', 'outcome', 'downtimeMs', 'memoryVerified', 'dhcpRebindMs'],
    rows: [
      [0, '1Gbit/s', 1, 0, 'vm1', 'completed', 10, true, null],
      [0, '1Gbit/s', 2, 0, 'vm1', 'completed', 20, false, null],
      [0, '1Gbit/s', 3, 0, 'vm1', 'completed', 30, true, null],
      [1, '10Gbit/s', 1, 0, 'vm1', 'failed', null, null, 1.5],
    ],
  };
  it('summarizes numbers and verdicts per point, leaves text out, and keeps all-null metrics out', () => {
    const t = summarize(points, ['bw']);
    expect(t.columns).toEqual(['point', 'bw', 'migration', 'vm', 'metric', 'n', 'missing', 'mean', 'sd', 'ci95Low', 'ci95High', 'min', 'max']);
    const get = (p: number, m: string) => t.rows.find((r) => r[0] === p && r[4] === m);
    expect(t.rows.map((r) => `${r[0]}:${r[4]}`)).toEqual(['0:downtimeMs', '0:memoryVerified', '0:dhcpRebindMs', '1:downtimeMs', '1:memoryVerified', '1:dhcpRebindMs']);
    expect(get(0, 'downtimeMs')!.slice(5, 9)).toEqual([3, 0, 20, 10]);
    expect(get(0, 'memoryVerified')![7]).toBeCloseTo(2 / 3, 12);
    expect(get(0, 'dhcpRebindMs')!.slice(5, 8)).toEqual([0, 3, null]);
    expect(get(1, 'dhcpRebindMs')!.slice(5, 8)).toEqual([1, 0, 1.5]);
  });
});
