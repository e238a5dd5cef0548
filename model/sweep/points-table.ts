// points.csv's table from the runs of a sweep, in a fixed order whatever order they finished
// in (point, then seed as the sweep lists them, then migration): so the same sweep file
// gives the same file with one worker, many, or a queue of machines.

import type { SweepValue } from './file.js';
import { columnsOf, type FlatRow } from './flatten.js';
import type { Cell, Table } from './table.js';

/** One run of a point with one seed: its rows, or why it could not run. */
export type RunRecord = { point: number; seed: number; rows: FlatRow[] } | { point: number; seed: number; error: string };

export function pointsTable(keys: readonly string[], pointValues: readonly (readonly SweepValue[])[], seeds: readonly number[], runs: readonly RunRecord[]): Table {
  const seedOrder = new Map(seeds.map((s, i) => [s, i]));
  const sorted = [...runs].sort((a, b) => a.point - b.point || seedOrder.get(a.seed)! - seedOrder.get(b.seed)!);
  const flat: { run: RunRecord; migration: number | null; row: FlatRow }[] = [];
  for (const run of sorted) {
    if ('error' in run) flat.push({ run, migration: null, row: { 'run.error': run.error } });
    else for (const [i, row] of run.rows.entries()) flat.push({ run, migration: i, row });
  }
  const all = columnsOf(flat.map((f) => f.row));
  // an object field that is null in some runs (postcopy, stopCopy) and has fields in others: its fields only
  const fields = all.filter((c) => c !== 'vm' && !all.some((d) => d.startsWith(`${c}.`)));
  const columns = ['point', ...keys, 'seed', 'migration', 'vm', ...fields];
  const rows: Cell[][] = flat.map(({ run, migration, row }) => [
    run.point,
    ...pointValues[run.point]!,
    run.seed,
    migration,
    row.vm ?? null,
    ...fields.map((c) => row[c] ?? null),
  ]);
  return { columns, rows };
}
