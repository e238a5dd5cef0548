// What a sweep's page plots, read from its tables (model/sweep/table.ts): per metric, each
// point's mean and 95 % interval by migration; which points are on the Pareto front of mean
// downtime against mean total time; which runs did not complete. Pure, for the page and tests.

import type { SweepValue } from '../model/sweep/file.js';
import type { Cell, Table } from '../model/sweep/table.js';

export interface SweepPageInput {
  /** the sweep's name */
  sweep: string;
  /** the varied fields as the sweep file lists them, values in its order */
  varied: { key: string; values: SweepValue[] }[];
  /** points.csv */
  points: Table;
  /** summary.csv */
  summary: Table;
}

/** The metrics plotted against each varied field, in order; the network ones only when measured somewhere. */
export const SWEEP_METRICS = ['downtimeMs', 'totalTimeMs', 'dhcpRebindMs', 'igmpRebindMs', 'serviceInterruptionMs', 'multicastGapMs', 'rounds', 'pagesSent'] as const;

/** One row of summary.csv for one metric. */
export interface PointMean {
  point: number;
  migration: number;
  vm: string;
  /** the point's value of each varied field, as text, in `varied` order */
  values: string[];
  n: number;
  mean: number | null;
  low: number | null;
  high: number | null;
}

const text = (c: Cell | undefined): string => (c === null || c === undefined ? '' : String(c));
const numOrNull = (c: Cell | undefined): number | null => (typeof c === 'number' && Number.isFinite(c) ? c : typeof c === 'string' && c !== '' && Number.isFinite(Number(c)) ? Number(c) : null);

/** The index of each named column; a missing one is an error naming it. */
export function columnIndex(t: Table, names: readonly string[], what: string): number[] {
  return names.map((n) => {
    const i = t.columns.indexOf(n);
    if (i < 0) throw new Error(`${what} has no column ${JSON.stringify(n)}`);
    return i;
  });
}

/** The summary rows of `metric`, one per point and migration. */
export function meansOf(input: SweepPageInput, metric: string): PointMean[] {
  const keys = input.varied.map((v) => v.key);
  const [point, migration, vm, m, n, mean, low, high] = columnIndex(input.summary, ['point', 'migration', 'vm', 'metric', 'n', 'mean', 'ci95Low', 'ci95High'], 'summary.csv');
  const vary = columnIndex(input.summary, keys, 'summary.csv');
  return input.summary.rows
    .filter((r) => r[m!] === metric)
    .map((r) => ({
      point: numOrNull(r[point!]) ?? -1,
      migration: numOrNull(r[migration!]) ?? 0,
      vm: text(r[vm!]),
      values: vary.map((i) => text(r[i])),
      n: numOrNull(r[n!]) ?? 0,
      mean: numOrNull(r[mean!]),
      low: numOrNull(r[low!]),
      high: numOrNull(r[high!]),
    }));
}

/** The metrics with at least one measured mean, in SWEEP_METRICS order. */
export function measuredMetrics(input: SweepPageInput): string[] {
  return SWEEP_METRICS.filter((k) => meansOf(input, k).some((p) => p.mean !== null));
}

/**
 * Which of `xy` are on the Pareto front when both coordinates are to be small: no other item
 * is as small in both and smaller in one. Items with a null coordinate are on no front.
 */
export function paretoFront(xy: readonly { x: number | null; y: number | null }[]): boolean[] {
  return xy.map((a) => {
    if (a.x === null || a.y === null) return false;
    return !xy.some((b) => b !== a && b.x !== null && b.y !== null && b.x <= a.x! && b.y <= a.y! && (b.x < a.x! || b.y < a.y!));
  });
}

/** A run that did not complete (points.csv): its point, seed, VM and why. */
export interface FailedRun {
  point: number;
  seed: string;
  vm: string;
  outcome: string;
  why: string;
}

/** The runs of points.csv whose migration did not complete, or that could not run at all. */
export function unfinishedRuns(points: Table): FailedRun[] {
  const col = (name: string): number => points.columns.indexOf(name);
  const [point, seed, vm, outcome, error, runError] = ['point', 'seed', 'vm', 'outcome', 'error', 'run.error'].map(col);
  const at = (r: Cell[], i: number | undefined): Cell => (i === undefined || i < 0 ? null : (r[i] ?? null));
  return points.rows
    .filter((r) => at(r, runError) !== null || (at(r, outcome) !== null && at(r, outcome) !== 'completed'))
    .map((r) => ({
      point: numOrNull(at(r, point)) ?? -1,
      seed: text(at(r, seed)),
      vm: text(at(r, vm)),
      outcome: at(r, runError) !== null ? 'did not run' : text(at(r, outcome)),
      why: text(at(r, runError) ?? at(r, error)),
    }));
}
