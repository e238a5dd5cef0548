// A sweep from plan to files: the output directory (new, or the one being resumed), the runs
// not yet in its journal — in local worker threads or on a BullMQ queue — and, once every
// run is in, points.csv, summary.csv and sweep.html, each written whole.

import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../model/sweep/points-table.js';
import { pointsTable } from '../model/sweep/points-table.js';
import type { SweepFile } from '../model/sweep/file.js';
import { loadPoints, pointCount, pointErrors, type SweepBase, type SweepPlan } from '../model/sweep/points.js';
import { summarize } from '../model/sweep/summary.js';
import type { Table } from '../model/sweep/table.js';
import { toCsv } from './csv.js';
import { fsReason, Journal, newRunDir, readJournal, SweepWriteError, writeManifest } from './journal.js';
import { type LoadedPool, loadInThreads } from './pool.js';
import { QueueLost } from './queue-connection.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import type { ThreadTask } from './thread.js';

export interface SweepOptions {
  /** where to write: an existing sweep directory to resume, a directory to create, or null: results/<sweep>/<stamp>/ */
  dir: { resume: string } | { create: string } | null;
  /** root of results/ (tests point it elsewhere) */
  root: string;
  stamp: string;
  workers: number;
  /** redis://HOST:PORT: run on a BullMQ queue instead of local threads */
  queue: string | null;
  signal: AbortSignal;
  progress: (total: number, done: number) => Progress;
  /** told once, when no queue worker has taken a run for a while */
  onIdle?: (message: string) => void;
}

export interface SweepOutcome {
  dir: string;
  runs: number;
  /** runs found in the journal of a resumed sweep */
  reused: number;
  /** runs that could not run (their error is in points.csv's run.error) */
  errors: number;
  interrupted: boolean;
  files: string[];
  /** wall time (ms): loading the points, the runs (first sent to last answered), writing the files */
  times: { loadMs: number; runMs: number; writeMs: number };
  /** summary.csv's table; null when interrupted */
  summary: Table | null;
  /** why sweep.html could not be made (the CSVs are written all the same), or null */
  pageError: string | null;
}

function writeWhole(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new SweepWriteError(`${path}: could not be written (${fsReason(e)}); every run is in the journal beside it: --resume writes the files again`);
  }
}

interface SweepTables {
  points: Table;
  summary: Table;
}

function sweepTables(plan: SweepPlan, records: readonly RunRecord[]): SweepTables {
  const keys = plan.sweep.vary.map((f) => f.key);
  const points = pointsTable(keys, plan.points.map((p) => p.values), plan.seeds, records);
  return { points, summary: summarize(points, keys) };
}

/**
 * Loads every point (in the worker threads, or here for a queue) — a SweepFileError if one
 * would not load, before anything is written — then runs what the directory lacks.
 */
export async function runSweep(sweep: SweepFile, loadedBase: SweepBase, o: SweepOptions): Promise<SweepOutcome> {
  const t0 = performance.now();
  const seeds = sweep.seeds ?? [loadedBase.base.seed];
  const total = pointCount(sweep) * seeds.length;
  let pool: LoadedPool | null = null;
  let plan: SweepPlan;
  if (o.queue) {
    const all = Array.from({ length: pointCount(sweep) }, (_, i) => i);
    const { points, problems } = loadPoints(sweep, loadedBase.text, all);
    const error = pointErrors(problems);
    if (error) throw error;
    plan = { sweep, base: loadedBase.base, baseText: loadedBase.text, points, seeds };
  } else {
    pool = await loadInThreads(sweep, loadedBase.text, o.workers, total);
    plan = { sweep, base: loadedBase.base, baseText: loadedBase.text, points: pool.points, seeds };
  }
  try {
    return await runPlan(plan, pool, o, performance.now() - t0);
  } finally {
    pool?.close();
  }
}

async function runPlan(plan: SweepPlan, pool: LoadedPool | null, o: SweepOptions, loadMs: number): Promise<SweepOutcome> {
  let dir: string;
  let records: RunRecord[] = [];
  if (o.dir && 'resume' in o.dir) {
    dir = o.dir.resume;
    records = readJournal(dir, plan);
  } else {
    dir = o.dir ? newRunDir(o.dir.create, '', '') : newRunDir(o.root, plan.sweep.name, o.stamp);
    writeManifest(dir, plan);
  }
  const reused = records.length;
  const done = new Set(records.map((r) => `${r.point}/${r.seed}`));
  const tasks: ThreadTask[] = [];
  for (const p of plan.points) for (const seed of plan.seeds) if (!done.has(`${p.index}/${seed}`)) tasks.push({ point: p.index, seed });
  const total = plan.points.length * plan.seeds.length;

  const journal = new Journal(dir);
  const progress = o.progress(total, reused);
  const onRecord = (r: RunRecord) => {
    journal.append(r);
    records.push(r);
    progress.tick();
  };
  const runStart = performance.now();
  try {
    if (pool) {
      await pool.run(tasks, onRecord, o.signal);
    } else {
      const { runOnQueue } = await import('./queue.js');
      const scenarios = plan.points.map((p) => p.scenario);
      try {
        await runOnQueue({ url: o.queue!, sweep: plan.sweep.name, scenarios, tasks, onRecord, signal: o.signal, ...(o.onIdle ? { onIdle: o.onIdle } : {}) });
      } catch (e) {
        if (e instanceof QueueLost) e.dir = dir;
        throw e;
      }
    }
  } finally {
    progress.stop();
    journal.flush();
  }
  const outcome: SweepOutcome = {
    dir,
    runs: total,
    reused,
    errors: records.filter((r) => 'error' in r).length,
    interrupted: o.signal.aborted,
    files: [],
    times: { loadMs, runMs: performance.now() - runStart, writeMs: 0 },
    summary: null,
    pageError: null,
  };
  if (outcome.interrupted) return outcome;

  const writeStart = performance.now();
  const tables = sweepTables(plan, records);
  const files: [string, string][] = [
    ['points.csv', toCsv(tables.points)],
    ['summary.csv', toCsv(tables.summary)],
  ];
  for (const [name, text] of files) writeWhole(join(dir, name), text);
  outcome.files = files.map(([name]) => join(dir, name));
  try {
    // vega is loaded only here: it would add ~0.15 s to every command's start-up
    const { sweepPage } = await import('../report/sweep-page.js');
    const varied = plan.sweep.vary.map((f) => ({ key: f.key, values: f.values }));
    writeWhole(join(dir, 'sweep.html'), await sweepPage({ sweep: plan.sweep.name, varied, points: tables.points, summary: tables.summary }));
    outcome.files.push(join(dir, 'sweep.html'));
  } catch (e) {
    outcome.pageError = e instanceof Error ? e.message : String(e);
  }
  outcome.summary = tables.summary;
  outcome.times.writeMs = performance.now() - writeStart;
  return outcome;
}
