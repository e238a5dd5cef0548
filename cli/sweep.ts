// `migsim sweep FILE` and `migsim worker`: the flags checked, the sweep file and every point
// loaded before anything runs (exit 2 naming the file, key and base field), then the runs —
// in local threads or on a queue — with a progress bar on a terminal, and the files it wrote.
// Exit 0: every run ran; 1: a run could not run, or the queue failed; 130: Ctrl-C (resumable).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type SweepFile, SweepFileError, loadSweepFile } from '../model/sweep/file.js';
import { loadBase, pointCount, type SweepBase } from '../model/sweep/points.js';
import { JournalError, latestRunDir, SweepWriteError } from '../sweep/journal.js';
import { parseQueueUrl, QueueLost, QueueUnreachable } from '../sweep/queue-connection.js';
import type { SweepOutcome } from '../sweep/run.js';
import { BadInput, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, RunFailed } from './exit.js';
import { FlagError, parseCount, single } from './flags.js';
import { timestamp } from './outputs.js';
import { formatSummary } from './sweep-table.js';

export interface SweepArgs {
  file: string;
  workers?: unknown;
  resume?: unknown;
  out?: unknown;
  queue?: unknown;
  quiet?: boolean;
}

/** Most threads a sweep starts: beyond the cores they only share them. */
const MAX_WORKERS = 256;

/** A flag's value checked by `parse`; a bad one is bad input (exit 2). */
function flag<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FlagError) throw new BadInput(e.message);
    throw e;
  }
}

/** `--queue redis://HOST:PORT`, given once. */
function queueFlag(v: unknown): string {
  const url = flag(() => single('queue', v));
  try {
    parseQueueUrl(url);
  } catch (e) {
    throw new BadInput((e as Error).message);
  }
  return url;
}

function badSweep(e: unknown): never {
  if (e instanceof SweepFileError) throw new BadInput(e.problems.join('\n'));
  throw e;
}

/** The sweep file and its base, each checked on its own (the points are loaded by runSweep). */
function loadSweep(file: string): { sweep: SweepFile; base: SweepBase } {
  try {
    const sweep = loadSweepFile(file);
    return { sweep, base: loadBase(sweep) };
  } catch (e) {
    return badSweep(e);
  }
}

/** Where the sweep writes: `--resume [DIR]`, `--out DIR` (new or empty), or results/<sweep>/<stamp>/. */
function outputDir(a: SweepArgs, sweep: SweepFile): { resume: string } | { create: string } | null {
  if (a.resume !== undefined && a.out !== undefined) throw new BadInput('--resume and --out: give one (--resume DIR resumes the sweep in DIR)');
  if (a.resume !== undefined) {
    const given = flag(() => single('resume', a.resume));
    if (given !== '' && given !== 'true') {
      if (!existsSync(given) || !statSync(given).isDirectory()) throw new BadInput(`--resume ${given}: not a directory`);
      return { resume: given };
    }
    const latest = latestRunDir('results', sweep.name);
    if (latest === null) throw new BadInput(`--resume: no earlier run of sweep ${sweep.name} under results/${sweep.name}/ (give its directory: --resume DIR)`);
    return { resume: latest };
  }
  if (a.out !== undefined) {
    const out = flag(() => single('out', a.out));
    if (out === '') throw new BadInput('--out "": expected a directory');
    if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
      throw new BadInput(`--out ${out}: exists and is not an empty directory (use --resume ${out} to go on with a sweep there)`);
    }
    return { create: out };
  }
  return null;
}

export async function cmdSweep(a: SweepArgs): Promise<number> {
  const workers = a.workers === undefined ? availableParallelism() : flag(() => parseCount('workers', a.workers, MAX_WORKERS));
  const queue = a.queue === undefined ? null : queueFlag(a.queue);
  if (queue !== null && a.workers !== undefined) throw new BadInput('--workers and --queue: give one (with --queue, the runs go to `migsim worker`s)');
  const resumeCommand = (dir: string) => `migsim sweep ${a.file}${queue === null ? '' : ` --queue ${queue}`} --resume ${dir}`;
  const { sweep, base } = loadSweep(a.file);
  const dir = outputDir(a, sweep);
  const points = pointCount(sweep);
  const seeds = (sweep.seeds ?? [base.base.seed]).length;
  const runs = points * seeds;
  const how = queue ? `on queue ${queue}` : `${Math.min(workers, runs)} worker thread${Math.min(workers, runs) === 1 ? '' : 's'}`;
  const show = !a.quiet && process.stderr.isTTY;

  process.stdout.write(`sweep ${sweep.name}: ${points} point${points === 1 ? '' : 's'} × ${seeds} seed${seeds === 1 ? '' : 's'} = ${runs} runs, ${how}\n`);

  // loaded only for a sweep: the threads, CSV and progress-bar libraries stay out of every other command's start-up
  const { runSweep } = await import('../sweep/run.js');
  const { progressBar, NO_PROGRESS } = await import('../sweep/progress.js');
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let outcome: SweepOutcome;
  try {
    outcome = await runSweep(sweep, base, {
      dir,
      root: 'results',
      stamp: timestamp(),
      workers,
      queue,
      signal: abort.signal,
      progress: (total, done) => (show ? progressBar(`sweep ${sweep.name}`, total, done, process.stderr) : NO_PROGRESS),
      onIdle: (m) => process.stderr.write(`migsim: waiting: ${m}\n`),
    });
  } catch (e) {
    if (e instanceof SweepFileError) badSweep(e);
    if (e instanceof JournalError) throw new BadInput(e.message);
    if (e instanceof SweepWriteError) throw e.before ? new BadInput(e.message) : new RunFailed(e.message);
    if (e instanceof QueueUnreachable) throw new RunFailed(e.message);
    if (e instanceof QueueLost) throw new RunFailed(`${e.message}; the runs done are kept in ${e.dir}: go on with ${resumeCommand(e.dir ?? '')}`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  const ran = runs - outcome.reused;
  const { loadMs, runMs, writeMs } = outcome.times;
  const secs = runMs / 1000;
  if (outcome.interrupted) {
    process.stderr.write(`migsim: interrupted; the runs done are kept in ${outcome.dir}: go on with ${resumeCommand(outcome.dir)}\n`);
    return EXIT_INTERRUPTED;
  }
  process.stdout.write(
    `${ran} run${ran === 1 ? '' : 's'} in ${secs.toFixed(2)} s (${secs > 0 ? (ran / secs).toFixed(0) : '-'} runs/s)` +
      `${outcome.reused > 0 ? `, ${outcome.reused} from the earlier run` : ''}; ${outcome.errors} could not run` +
      ` (loading the points ${(loadMs / 1000).toFixed(2)} s, writing the files ${(writeMs / 1000).toFixed(2)} s)\n`,
  );
  process.stdout.write(formatSummary(sweep, base.base.migrations.length, outcome.summary));
  for (const f of outcome.files) process.stdout.write(`wrote ${f}\n`);
  if (outcome.pageError !== null) {
    process.stderr.write(`migsim: sweep.html could not be made (${outcome.pageError}); points.csv and summary.csv are written\n`);
    return EXIT_FAILED;
  }
  if (outcome.errors > 0) {
    process.stderr.write(`migsim: ${outcome.errors} run${outcome.errors === 1 ? '' : 's'} could not run: see run.error in ${outcome.files[0]}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

export interface WorkerArgs {
  queue?: unknown;
  concurrency?: unknown;
}

export async function cmdWorker(a: WorkerArgs): Promise<number> {
  if (a.queue === undefined) throw new BadInput('worker needs --queue redis://HOST:PORT: the Redis the sweep puts its runs on');
  const url = queueFlag(a.queue);
  const concurrency = a.concurrency === undefined ? availableParallelism() : flag(() => parseCount('concurrency', a.concurrency, MAX_WORKERS));
  const { serveQueue } = await import('../sweep/queue-worker.js');
  let stopped: 'SIGINT' | 'SIGTERM' | null = null;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve(void (stopped = 'SIGINT')));
    process.once('SIGTERM', () => resolve(void (stopped = 'SIGTERM')));
  });
  try {
    await serveQueue({ url, concurrency, stop, log: (l) => process.stderr.write(`${l}\n`) });
  } catch (e) {
    if (e instanceof QueueUnreachable) throw new RunFailed(e.message);
    throw e;
  }
  return stopped === null ? EXIT_FAILED : EXIT_OK;
}
