// `migsim report RESULT.json… [--out FILE.html] [--tolerance 10%]` and `migsim run --report`:
// the HTML report of results (report/run-page.ts), written whole beside the first result or to
// --out. A result file given to `report` is untrusted input, read by cli/result-file.ts against
// the schema of every field the page reads (fields added after version 1 may be missing).

import { z } from 'zod';
import type { RunResult } from '../model/result/format.js';
import { LIMITS } from '../model/scenario/limits.js';
import type { NamedResult } from '../report/run-page.js';
import { parseTolerance } from './compare.js';
import { BadInput, EXIT_OK, RunFailed } from './exit.js';
import { unwritableReason, writeWhole } from './outputs.js';
import { migrationSchema, readResultFile, resultSchema } from './result-file.js';

export interface ReportArgs {
  files: string[];
  out?: string;
  tolerance?: string;
}

const num = z.number().nullable();
const count = z.number();

const roundSchema = z.looseObject({ index: count, pagesSent: count, bytesSent: count, durationMs: count, dirtyPagesAtEnd: count, startMs: count.optional() });
const stopCopySchema = z.looseObject({ pagesSent: count, bytesSent: count, durationMs: count, startMs: count.optional() });
const networkTimesSchema = z.looseObject({ sourceGuardFirstDropMs: num, sourceGuardLastDropMs: num, multicastGapStartMs: num, serviceInterruptionStartMs: num });

/** Every field of a migration entry the report reads. */
const reportMigration = migrationSchema.extend({
  from: z.string(), to: z.string(), mode: z.string(),
  switchover: z.string().nullable().default(null),
  startMs: count, switchoverMs: num, resumeMs: num, endMs: num,
  // no run has more rounds than a scenario may ask for
  rounds: z.array(roundSchema).max(LIMITS.maxRounds.value), stopCopy: stopCopySchema.nullable(),
  error: z.string().nullable().default(null),
  vmLost: z.boolean().default(false), gaveUpMs: num.default(null),
  lowerBounds: z.array(z.string()).default([]), unmeasured: z.record(z.string(), z.string()).default({}),
  networkTimes: networkTimesSchema.optional(),
});

const eventSchema = z.looseObject({ t: count, kind: z.string() });
const networkSchema = z.looseObject({
  switch: z.looseObject({ vdp: z.string(), dhcpRebind: z.string(), igmpRebind: z.string(), ipSourceGuard: z.boolean(), dhcpRebindFallback: z.string().optional() }),
  counters: z.record(z.string(), z.number()),
  countersUnmeasured: z.string().nullable().optional(),
  events: z.array(eventSchema),
  macs: z.record(z.string(), z.string()).optional(),
});

/** Every field of a result the report reads. */
const reportResult = resultSchema.extend({
  description: z.string().default(''), file: z.string().default(''), fidelity: z.string(), seed: z.number(), migsim: z.string().default(''),
  durationMs: count,
  migrations: z.array(reportMigration).max(LIMITS.migrations.value),
  expectations: z.array(z.looseObject({ key: z.string(), ok: z.boolean(), measured: z.union([z.number(), z.string(), z.boolean(), z.null()]), bound: z.string() })).default([]),
  network: networkSchema.nullable(),
  faults: z.array(z.looseObject({ atMs: num, kind: z.string(), target: z.string().nullable(), scheduled: z.boolean(), effect: z.string() })).default([]),
  wallClock: z.looseObject({ startedAt: z.string() }).optional(),
});

/** The page maker, loaded only by a command that writes a report (vega takes ~0.15 s to load). */
async function runPage(results: readonly NamedResult[], tolerance?: number): Promise<string> {
  const { runPage: make } = await import('../report/run-page.js');
  return make(results, tolerance);
}

/** A result file, checked for what the report reads. */
export function readReportResult(file: string): RunResult {
  return readResultFile(file, reportResult) as unknown as RunResult;
}

/** The report beside a result: x.json → x.html (another name gets .html added). */
export function reportPathOf(resultFile: string): string {
  return resultFile.endsWith('.json') ? `${resultFile.slice(0, -'.json'.length)}.html` : `${resultFile}.html`;
}

/** `run --report`: each report beside its result file, tried for writing before anything runs. */
export function checkReportPaths(resultPaths: readonly (string | null)[]): void {
  for (const p of resultPaths) {
    if (p === null) continue;
    const reason = unwritableReason(reportPathOf(p));
    if (reason) throw new BadInput(`--report: cannot write ${reportPathOf(p)}: ${reason}`);
  }
}

/**
 * `run --report`: the report of each result written, beside it. One that cannot be written is
 * one line in `failed` (the run's status is then 1), as a result file that cannot be.
 */
export async function writeRunReports(results: readonly RunResult[], written: readonly (string | null)[]): Promise<{ reports: string[]; failed: string[] }> {
  const reports: string[] = [];
  const failed: string[] = [];
  for (const [i, path] of written.entries()) {
    if (path === null) continue;
    const out = reportPathOf(path);
    const reason = writeWhole(out, await runPage([{ name: path, result: results[i]! }]));
    if (reason === null) reports.push(out);
    else failed.push(`could not write the report of ${results[i]!.scenario} to ${out}: ${reason}`);
  }
  return { reports, failed };
}

export async function cmdReport(a: ReportArgs): Promise<number> {
  const tolerance = parseTolerance(a.tolerance);
  if (a.files.length === 0) throw new BadInput('report needs at least one result file (.json)');
  const out = a.out ?? reportPathOf(a.files[0]!);
  const reason = unwritableReason(out);
  if (reason) throw new BadInput(`${a.out === undefined ? 'the report' : '--out'} ${out}: ${reason}`);
  const results: NamedResult[] = a.files.map((f) => ({ name: f, result: readReportResult(f) }));
  const problem = writeWhole(out, await runPage(results, tolerance));
  if (problem !== null) throw new RunFailed(`could not write the report to ${out}: ${problem}`);
  process.stdout.write(`report: ${out}\n`);
  return EXIT_OK;
}
