// summary.csv from points.csv: per point, migration and metric, over the seeds — n (values
// measured), missing (null: not measured), mean, sample standard deviation, the 95 %
// confidence interval of the mean (Student's t with n − 1 degrees of freedom), min and max.
// A metric is a column whose values are numbers or true/false (a share); text is left out.

import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { type Cell, SUMMARY_STATS, type Table } from './table.js';

export interface SummaryStats {
  n: number;
  missing: number;
  mean: number | null;
  sd: number | null;
  ci95Low: number | null;
  ci95High: number | null;
  min: number | null;
  max: number | null;
}

/** The statistics of one metric's values over the seeds (null: not measured). */
export function statsOf(values: readonly (number | null)[]): SummaryStats {
  const xs = values.filter((v): v is number => v !== null);
  const n = xs.length;
  const missing = values.length - n;
  if (n === 0) return { n, missing, mean: null, sd: null, ci95Low: null, ci95High: null, min: null, max: null };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  let min = xs[0]!;
  let max = xs[0]!;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (n === 1) return { n, missing, mean, sd: null, ci95Low: null, ci95High: null, min, max };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const half = tQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
  return { n, missing, mean, sd, ci95Low: mean - half, ci95High: mean + half, min, max };
}

/** Columns that identify a row, not metrics. */
const IDENTIFIERS = new Set(['point', 'seed', 'migration', 'vm']);

/**
 * summary.csv's table. `keys` are the varied fields' columns; the rows of one point and
 * migration are summarized together, in the order points.csv lists them.
 */
export function summarize(points: Table, keys: readonly string[]): Table {
  const col = (name: string) => points.columns.indexOf(name);
  const skip = new Set([...IDENTIFIERS, ...keys]);
  const metrics = points.columns.filter(
    (c) => !skip.has(c) && points.rows.some((r) => r[col(c)] !== null) && points.rows.every((r) => r[col(c)] === null || typeof r[col(c)] === 'number' || typeof r[col(c)] === 'boolean'),
  );
  const groups = new Map<string, Cell[][]>();
  for (const r of points.rows) {
    const id = `${r[col('point')]}/${r[col('migration')]}`;
    const g = groups.get(id);
    if (g) g.push(r);
    else groups.set(id, [r]);
  }
  const rows: Cell[][] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    const lead = [first[col('point')]!, ...keys.map((k) => first[col(k)]!), first[col('migration')]!, first[col('vm')]!];
    for (const m of metrics) {
      const i = col(m);
      const s = statsOf(g.map((r) => (r[i] === null ? null : Number(r[i]))));
      rows.push([...lead, m, s.n, s.missing, s.mean, s.sd, s.ci95Low, s.ci95High, s.min, s.max]);
    }
  }
  return { columns: ['point', ...keys, 'migration', 'vm', ...SUMMARY_STATS], rows };
}
