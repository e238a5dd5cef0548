// A small hand-made sweep for the sweep page's tests (report/sweep-page.test.ts and the browser
// test): two varied fields whose values are not in alphabetical order, three seeds, one
// migration; a point measured by one seed only (no interval), a point whose runs all failed,
// and no network (its metrics all null). The means are chosen, not computed.

import type { Cell, Table } from '../model/sweep/table.js';
import type { SweepPageInput } from './sweep-data.js';

export const BANDWIDTHS = ['10Gbit/s', '1Gbit/s', '100Mbit/s'];
export const WRITE_RATES = [5000, 20000];
export const SEEDS = [1, 2, 3];

/** Per point (bandwidth-major): mean downtime and total time (ms), runs measured; null: none measured. */
export const MEANS: { downtimeMs: number | null; totalTimeMs: number | null; n: number }[] = [
  { downtimeMs: 40, totalTimeMs: 800, n: 3 },
  { downtimeMs: 120, totalTimeMs: 600, n: 3 },
  { downtimeMs: 90, totalTimeMs: 700, n: 3 },
  { downtimeMs: 300, totalTimeMs: 2500, n: 3 },
  { downtimeMs: 20, totalTimeMs: 5000, n: 1 },
  { downtimeMs: null, totalTimeMs: null, n: 0 },
];

const KEYS = ['network.migrationLink.bandwidth', 'vms[0].workload.writeRate'];
const valuesOf = (point: number): Cell[] => [BANDWIDTHS[Math.floor(point / 2)]!, WRITE_RATES[point % 2]!];

function summary(): Table {
  const rows: Cell[][] = [];
  MEANS.forEach((m, point) => {
    const stat = (metric: string, mean: number | null, n: number): Cell[] => {
      const half = n >= 2 && mean !== null ? mean / 10 : null;
      return [point, ...valuesOf(point), 0, 'vm1', metric, n, 3 - n, mean, half === null ? null : half, half === null ? null : mean! - half, half === null ? null : mean! + half, mean, mean];
    };
    rows.push(stat('downtimeMs', m.downtimeMs, m.n));
    rows.push(stat('totalTimeMs', m.totalTimeMs, m.n));
    rows.push(stat('rounds', m.n > 0 ? 2 + (point % 3) : null, m.n));
    rows.push(stat('pagesSent', m.n > 0 ? 300_000 + 1000 * point : null, m.n));
    rows.push(stat('memoryVerified', m.n > 0 ? 1 : null, m.n));
    rows.push(stat('dhcpRebindMs', null, 0));
  });
  return { columns: ['point', ...KEYS, 'migration', 'vm', 'metric', 'n', 'missing', 'mean', 'sd', 'ci95Low', 'ci95High', 'min', 'max'], rows };
}

function points(): Table {
  const rows: Cell[][] = [];
  MEANS.forEach((m, point) => {
    SEEDS.forEach((seed, k) => {
      const ok = k < m.n;
      const outcome = m.n === 0 ? 'failed' : ok ? 'completed' : 'reverted';
      const error = outcome === 'completed' ? null : outcome === 'failed' ? 'the migration connection h1 → h2 broke' : 'timed out';
      rows.push([point, ...valuesOf(point), seed, 0, 'vm1', outcome, ok ? m.downtimeMs : null, ok ? m.totalTimeMs : null, error]);
    });
  });
  return { columns: ['point', ...KEYS, 'seed', 'migration', 'vm', 'outcome', 'downtimeMs', 'totalTimeMs', 'error'], rows };
}

export const SWEEP_FIXTURE: SweepPageInput = {
  sweep: 'bandwidth-by-write-rate',
  varied: [
    { key: KEYS[0]!, values: BANDWIDTHS },
    { key: KEYS[1]!, values: WRITE_RATES },
  ],
  points: points(),
  summary: summary(),
};
