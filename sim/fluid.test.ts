import { describe, expect, it } from 'vitest';
import { runScenario } from './engine.js';
import { fluidProfile } from '../model/memory/fluid.js';
import { GiB, MiB, migration, scenario, vm } from '../model/scenario/fixture.js';
import type { WorkloadSpec } from '../model/scenario/types.js';

describe('fluid closed forms', () => {
  const N = 262144;
  it('uniform: N(1 − e^(−W/N)); hotset: H(1 − e^(−W/H)); sequential: min(N, W)', () => {
    const u = fluidProfile({ kind: 'uniform', writeRate: 1 }, N, 4096);
    expect(u.distinct(N)).toBeCloseTo(N * (1 - Math.exp(-1)), 6);
    const h = fluidProfile({ kind: 'hotset', writeRate: 1, hotsetBytes: 64 * MiB }, N, 4096);
    expect(h.distinct(16384 * 2)).toBeCloseTo(16384 * (1 - Math.exp(-2)), 6);
    const q = fluidProfile({ kind: 'sequential', writeRate: 1 }, N, 4096);
    expect(q.distinct(1000)).toBe(1000);
    expect(q.distinct(10 * N)).toBe(N);
  });

  it('zipf buckets reproduce the exact sum Σ(1 − e^(−W·p_k)) within 0.5 %', () => {
    const n = 50_000;
    const skew = 1.1;
    let norm = 0;
    for (let k = 1; k <= n; k++) norm += Math.pow(k, -skew);
    for (const W of [1e3, 3e4, 1e6]) {
      let exact = 0;
      for (let k = 1; k <= n; k++) exact += -Math.expm1((-W * Math.pow(k, -skew)) / norm);
      const approx = fluidProfile({ kind: 'zipf', writeRate: 1, skew }, n, 4096).distinct(W);
      expect(Math.abs(approx - exact) / exact).toBeLessThan(0.005);
    }
  });
});

describe('fluid and pages fidelity agree', () => {
  const cases: [string, WorkloadSpec][] = [
    ['uniform', { kind: 'uniform', writeRate: 20_000 }],
    ['uniform, forced switchover', { kind: 'uniform', writeRate: 60_000 }],
    ['hotset', { kind: 'hotset', writeRate: 20_000, hotsetBytes: 64 * MiB }],
    ['hotset, heavy', { kind: 'hotset', writeRate: 200_000, hotsetBytes: 256 * MiB }],
  ];
  for (const [label, workload] of cases) {
    it(`${label}: total time, downtime and bytes within 3 %`, () => {
      const run = (fidelity: 'pages' | 'fluid') =>
        runScenario(scenario({
          fidelity,
          vms: [vm({ memoryBytes: 1 * GiB, zeroPages: 0.3, workload })],
          migrations: [migration({ maxRounds: 10 })],
        })).migrations[0]!;
      const p = run('pages');
      const f = run('fluid');
      expect(f.rounds.length).toBe(p.rounds.length);
      for (const key of ['totalTimeMs', 'downtimeMs', 'bytesSent'] as const) {
        expect(Math.abs((f[key] as number) / (p[key] as number) - 1)).toBeLessThan(0.03);
      }
      expect(f.memoryVerified).toBeNull();
      expect(p.memoryVerified).toBe(true);
    });
  }
});
