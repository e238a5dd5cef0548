// `migsim compare A.json B.json`: two result files side by side (model/result/compare.ts),
// the rows that differ, flagged beyond --tolerance; exit 1 when one is flagged. The files are
// untrusted input: read with a size limit and checked field by field before anything is compared.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import { compareResults, type CompareRow } from '../model/result/compare.js';
import type { MigrationResult } from '../model/result/format.js';
import { BadInput, EXIT_FAILED, EXIT_OK } from './exit.js';
import { renderTable } from './table.js';

export interface CompareArgs {
  a: string;
  b: string;
  tolerance?: string;
  all?: boolean;
  json?: boolean;
}

/** A result file is read whole; beyond this it is refused (a run's event log is at most ~100,000 events). */
const MAX_RESULT_BYTES = 256 * 1024 * 1024;

const num = z.number().nullable();
const migrationSchema = z.looseObject({
  vm: z.string(),
  outcome: z.string(),
  switchover: z.string().nullable().optional(),
  memoryVerified: z.boolean().nullable(),
  totalTimeMs: num, downtimeMs: num, pagesSent: z.number(), bytesSent: z.number(), rounds: z.array(z.unknown()),
  dhcpRebindMs: num, igmpRebindMs: num, sourceGuardDrops: num, multicastGapMs: num, multicastLost: num, serviceInterruptionMs: num,
});
const resultSchema = z.looseObject({ version: z.literal(1), scenario: z.string(), engine: z.string(), migrations: z.array(migrationSchema) });

interface ReadResult {
  scenario: string;
  engine: string;
  migrations: MigrationResult[];
}

function readResult(file: string): ReadResult {
  let text: string;
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (size > MAX_RESULT_BYTES) throw new BadInput(`${file}: a result file of at most 256 MiB expected, got ${Math.round(size / 2 ** 20)} MiB`);
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const got = readSync(fd, buf, n, size - n, null);
      if (got === 0) break;
      n += got;
    }
    text = buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput(`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BadInput(`${file}: not a result file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = resultSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
    throw new BadInput(`${file}: not a migsim result (version 1): ${where}: ${issue.message}`);
  }
  return { scenario: r.data.scenario, engine: r.data.engine, migrations: r.data.migrations as unknown as MigrationResult[] };
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
