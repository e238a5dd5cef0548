// `migsim compare A.json B.json`: two result files side by side (model/result/compare.ts),
// the rows that differ, flagged beyond --tolerance; exit 1 when one is flagged. The files are
// untrusted input: read with a size limit and checked field by field before anything is compared
// (cli/result-file.ts).

import { compareResults, type CompareRow } from '../model/result/compare.js';
import type { MigrationResult } from '../model/result/format.js';
import { BadInput, EXIT_FAILED, EXIT_OK } from './exit.js';
import { readResultFile } from './result-file.js';
import { renderTable } from './table.js';

export interface CompareArgs {
  a: string;
  b: string;
  tolerance?: string;
  all?: boolean;
  json?: boolean;
}

interface ReadResult {
  scenario: string;
  engine: string;
  migrations: MigrationResult[];
}

function readResult(file: string): ReadResult {
  const r = readResultFile(file);
  return { scenario: r.scenario, engine: r.engine, migrations: r.migrations as unknown as MigrationResult[] };
}

/** `10%`, `0.1` or `5` (percent): the relative change beyond which a metric is flagged. */
export function parseTolerance(text: string | undefined): number {
  if (text === undefined) return 0.1;
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!m || !Number.isFinite(v)) throw new BadInput(`--tolerance: expected a share such as 10% or 0.1, got ${JSON.stringify(text)}`);
  return m[2] === '%' || v > 1 ? v / 100 : v;
}

function shown(v: number | string | boolean | null): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/\.?0+$/, '');
  return String(v);
}

function change(r: CompareRow): string {
  if (r.relative === null) return r.a === r.b ? '' : 'changed';
  if (r.relative === 0) return '0 %';
  return `${r.relative > 0 ? '+' : ''}${(r.relative * 100).toFixed(1)} %`;
}

export function cmdCompare(a: CompareArgs): number {
  const tolerance = parseTolerance(a.tolerance);
  const A = readResult(a.a);
  const B = readResult(a.b);
  const { rows, unmatched } = compareResults(A.migrations, B.migrations, tolerance);
  const flagged = rows.filter((r) => r.flagged);
  if (a.json) {
    process.stdout.write(`${JSON.stringify({ a: a.a, b: a.b, tolerance, rows, unmatched }, null, 2)}\n`);
    return flagged.length > 0 || unmatched.length > 0 ? EXIT_FAILED : EXIT_OK;
  }
  const notes: string[] = [];
  if (A.scenario !== B.scenario) notes.push(`note: A is ${A.scenario} and B is ${B.scenario}: different scenarios`);
  if (A.engine !== B.engine) notes.push(`note: A ran on ${A.engine}, B on ${B.engine}`);
  const shownRows = rows.filter((r) => a.all || r.a !== r.b);
  const table = renderTable(
    ['#', 'vm', 'metric', 'A', 'B', 'change', 'flag'],
    shownRows.map((r) => [String(r.migration), r.vm, r.metric, shown(r.a), shown(r.b), change(r), r.flagged ? `beyond ±${tolerance * 100}%` : '']),
    new Set([0, 3, 4, 5]),
  );
  const lines = [`A: ${a.a}`, `B: ${a.b}`, ...notes];
  if (shownRows.length > 0) lines.push(table);
  for (const u of unmatched) lines.push(`migration ${u.migration} (${u.vm}): only in ${u.in}`);
  lines.push(`${rows.filter((r) => r.a !== r.b).length} of ${rows.length} values differ; ${flagged.length} beyond ±${tolerance * 100}%${unmatched.length ? `; ${unmatched.length} migration(s) in one file only` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return flagged.length > 0 || unmatched.length > 0 ? EXIT_FAILED : EXIT_OK;
}
