// Two results side by side (`migsim compare A.json B.json`): per migration and metric, A, B
// and the change, flagged where it goes beyond a tolerance — for reviewing a regression.
// Migrations are matched by their place in the file (both list them in scenario order).

import { measuredValue } from './expect.js';
import type { MigrationResult } from './format.js';

/** The metrics compared, by their `expect:` names (model/scenario/expectable.ts). */
export const COMPARED_METRICS = [
  'outcome', 'memoryVerified', 'switchover', 'totalTimeMs', 'downtimeMs', 'rounds', 'pagesSent', 'bytesSent',
  'dhcpRebindMs', 'igmpRebindMs', 'sourceGuardDrops', 'multicastGapMs', 'multicastLost', 'serviceInterruptionMs',
] as const;

type Value = number | string | boolean | null;

export interface CompareRow {
  /** the migration's place in the files (0-based) */
  migration: number;
  vm: string;
  metric: string;
  a: Value;
  b: Value;
  /** (b − a) / |a| for numbers; null when it has no meaning (not numbers, a null, a is 0 and b is not) */
  relative: number | null;
  /** beyond the tolerance, or changed in kind (a word, a verdict, measured in one only) */
  flagged: boolean;
}

export interface Comparison {
  rows: CompareRow[];
  /** migrations only one of the files has */
  unmatched: { migration: number; vm: string; in: 'A' | 'B' }[];
}

function row(migration: number, vm: string, metric: string, a: Value, b: Value, tolerance: number): CompareRow {
  if (typeof a === 'number' && typeof b === 'number') {
    const relative = a === 0 ? (b === 0 ? 0 : null) : (b - a) / Math.abs(a);
    const flagged = relative === null ? true : Math.abs(relative) > tolerance;
    return { migration, vm, metric, a, b, relative, flagged };
  }
  return { migration, vm, metric, a, b, relative: null, flagged: a !== b };
}

/** Compare every metric of every migration both results have; `tolerance` is relative (0.1 = ±10 %). */
export function compareResults(a: readonly MigrationResult[], b: readonly MigrationResult[], tolerance: number): Comparison {
  const rows: CompareRow[] = [];
  const unmatched: Comparison['unmatched'] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ma = a[i];
    const mb = b[i];
    if (!ma || !mb) {
      unmatched.push({ migration: i, vm: (ma ?? mb)!.vm, in: ma ? 'A' : 'B' });
      continue;
    }
    const vm = ma.vm === mb.vm ? ma.vm : `${ma.vm}/${mb.vm}`;
    for (const metric of COMPARED_METRICS) rows.push(row(i, vm, metric, measuredValue(ma, metric), measuredValue(mb, metric), tolerance));
  }
  return { rows, unmatched };
}
