// One run's result as rows of points.csv: one row per migration, its fields flattened with
// dotted names (`stopCopy.pagesSent`, `postcopy.faults`, `unmeasured.dhcpRebindMs`), lists
// as their length (`rounds`) or joined words (`lowerBounds`), then the run's own fields
// (`run.durationMs`, `run.expectationsFailed`, `run.faults`, `network.counters.NAME`).

import type { RunResult } from '../result/format.js';
import type { Cell } from './table.js';

export type FlatRow = Record<string, Cell>;

function flattenInto(out: FlatRow, prefix: string, v: unknown): void {
  if (v === null || v === undefined) {
    out[prefix] = null;
  } else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
    out[prefix] = v;
  } else if (Array.isArray(v)) {
    out[prefix] = v.every((x) => typeof x === 'string') ? v.join(' ') : v.length;
  } else if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) flattenInto(out, prefix === '' ? k : `${prefix}.${k}`, x);
  }
}

/** The rows of one run, one per migration, in the scenario's order. */
export function flattenRun(result: RunResult): FlatRow[] {
  const run: FlatRow = {
    'run.durationMs': result.durationMs,
    'run.expectationsFailed': result.expectations.filter((e) => !e.ok).length,
    'run.faults': result.faults.length,
  };
  if (result.network) {
    for (const [k, n] of Object.entries(result.network.counters)) run[`network.counters.${k}`] = n;
  }
  return result.migrations.map((m) => {
    const row: FlatRow = {};
    flattenInto(row, '', m);
    return { ...row, ...run };
  });
}

/** The columns of rows, in the order first met (rows are given in a fixed order, so this is too). */
export function columnsOf(rows: readonly FlatRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}
