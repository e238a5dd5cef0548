// The `migsim` command line. Exit status (README "Commands"): 0 ok; 1 a migration failed, a
// check or a memory verification failed, a result could not be written, a testbed run could
// not complete; 2 bad input (unreadable file, schema error, a bad flag, an --out that cannot
// be written, something this version cannot run), nothing run; 3 --timeout reached;
// 70 internal error (cli/fatal.ts); 130 interrupted (Ctrl-C); 143 a testbed run stopped by SIGTERM.

import { cmdDecode, type DecodeArgs, withStdin } from './decode.js';
import { cmdCompare, type CompareArgs } from './compare.js';
// report, sweep and worker are loaded when used: the other commands' start-up stays as it was
import type { ReportArgs } from './report.js';
import type { SweepArgs, WorkerArgs } from './sweep.js';
import { BadInput, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_TIMEOUT, faultLines, RunFailed } from './exit.js';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runScenario } from '../sim/engine.js';
import { UnsupportedError } from '../model/scenario/support.js';
import { expectationLines, notes, summaryTable } from './table.js';
import type { RunResult } from '../model/result/format.js';
import { explainDefaults, explainScenario } from '../model/scenario/explain.js';
import { ScenarioError } from '../model/scenario/errors.js';
import { loadScenario } from '../model/scenario/load.js';
import type { EngineName, Scenario } from '../model/scenario/types.js';
import { VERSION } from '../model/version.js';
import { runTestbedStoppable, testbedCommand } from './testbed.js';
import { ENGINE_HINT, isEngineDown, TestbedInterrupted, TopologyConflict } from '../testbed/errors.js';
import { dieInternal, installGuards } from './fatal.js';
import { FlagError, parseEngine, parseOut, parseSeed, parseTimeout } from './flags.js';
import { isFileOut, planResultPaths, timestamp, unwritableReason, writeWhole } from './outputs.js';
import { clock, ProgressLine } from './progress.js';
import { Interrupted, OutOfMemory, runSupervised, TimeoutReached } from './supervise.js';

function loadAll(files: string[], allowOutside = false): Scenario[] {
  const scenarios: Scenario[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      scenarios.push(loadScenario(file, { allowOutside }));
    } catch (e) {
      if (e instanceof ScenarioError) problems.push(...e.errors.map((x) => x.message));
      else throw e;
    }
  }
  if (problems.length > 0) throw new BadInput(problems.join('\n'));
  return scenarios;
}

function chooseEngine(s: Scenario, flag: string | undefined): EngineName {
  return (flag ?? s.engine) as EngineName;
}

interface RunArgs {
  files: string[];
  engine?: unknown;
  out?: unknown;
  json?: boolean;
  seed?: unknown;
  timeout?: unknown;
  quiet?: boolean;
  allowOutside?: boolean;
  /** run: also write the HTML report beside each result (cli/report.ts) */
  report?: boolean;
}

/** A `run` or `check`, its flags checked and its inputs loaded; nothing run yet. */
interface Plan {
  scenarios: Scenario[];
  engines: EngineName[];
  /** each run's result file, known (and tried for writing) before any run starts */
  paths: (string | null)[];
  seed: number | undefined;
  /** wall-clock instant (ms since the epoch) by which every run must have ended */
  deadline: number | null;
  timeout: string | null;
  progress: ProgressLine | null;
}

/** Where a run stopped before its end: --timeout, or Ctrl-C. */
interface Stop {
  kind: 'timeout' | 'interrupt';
  scenario: string;
  simNs: number | null;
  migrationsDone: number;
  migrations: number;
  /** scenarios after it, not run */
  skipped: number;
  /** the signal that stopped a testbed run, and how long removing what it made took (ms) */
  signal?: 'SIGINT' | 'SIGTERM';
  cleanupMs?: number;
}

/** The testbed's event stream, beside its result: x.json → x.events.ndjson. */
function eventsPath(resultFile: string): string {
  return resultFile.replace(/\.json$/, '') + '.events.ndjson';
}

/**
 * Everything checked before a run: the flags (one line naming the flag), the files, what
 * each engine can run, --timeout only for the sim, and every output path tried for writing.
 */
function plan(a: RunArgs, command: 'run' | 'check', startedAt: number): Plan {
  let seed: number | undefined;
  let timeoutMs: number | null = null;
  let out: string | undefined;
  let engineFlag: string | undefined;
  try {
    if (a.seed !== undefined) seed = parseSeed(a.seed);
    if (a.timeout !== undefined) timeoutMs = parseTimeout(a.timeout);
    if (a.out !== undefined) out = parseOut(a.out);
    if (a.engine !== undefined) engineFlag = parseEngine(a.engine);
  } catch (e) {
    if (e instanceof FlagError) throw new BadInput(e.message);
    throw e;
  }
  const scenarios = loadAll(a.files, a.allowOutside === true);
  const engines = scenarios.map((s) => chooseEngine(s, engineFlag));
  if (out !== undefined && isFileOut(out) && scenarios.length > 1) {
    throw new BadInput(`--out ${out}: one file cannot hold ${scenarios.length} results; give a directory`);
  }
  if (timeoutMs !== null) {
    const tb = scenarios.find((_, i) => engines[i] === 'testbed');
    if (tb) throw new BadInput(`--timeout: ${tb.file} runs on the testbed, which --timeout cannot stop part-way (it bounds sim runs only)`);
  }
  if (command === 'check' && scenarios.every((s) => s.expect.length === 0)) {
    const which = scenarios.length === 1 ? scenarios[0]!.file : `any of the ${scenarios.length} files`;
    throw new BadInput(`check: no expect: bounds in ${which}: nothing to check (add an expect: section, or use migsim run)`);
  }
  const paths = planResultPaths(scenarios.map((s, i) => ({ name: s.name, engine: engines[i]! })), out, command === 'run', timestamp());
  checkOutputs(paths, engines, out);
  const progress = process.stderr.isTTY && !a.quiet ? new ProgressLine(process.stderr) : null;
  return {
    scenarios, engines, paths, seed, progress,
    deadline: timeoutMs === null ? null : startedAt + timeoutMs,
    timeout: timeoutMs === null ? null : String(a.timeout),
  };
}

/** Every result file (and a testbed run's event stream) tried for writing; one line naming --out (or the file) if one cannot be. */
function checkOutputs(paths: (string | null)[], engines: EngineName[], out: string | undefined): void {
  if (out !== undefined && !isFileOut(out) && existsSync(out) && !statSync(out).isDirectory()) {
    throw new BadInput(`--out ${out}: not a directory (an --out that does not end in .json is the directory for the results)`);
  }
  for (const [i, path] of paths.entries()) {
    if (path === null) continue;
    const targets = engines[i] === 'testbed' ? [path, eventsPath(path)] : [path];
    for (const target of targets) {
      if (out !== undefined && isFileOut(out) && target === path) {
        // a file named by --out goes where it says: its directory must exist
        const reason = unwritableReason(target) ?? (existsSync(dirname(target)) ? null : `its directory ${dirname(target)} does not exist`);
        if (reason) throw new BadInput(`--out ${out}: ${reason}`);
        continue;
      }
      const reason = unwritableReason(target);
      if (reason) throw new BadInput(out !== undefined ? `--out ${out}: cannot write ${target}: ${reason}` : `cannot write the result file ${target}: ${reason}`);
    }
  }
}

/** Run each scenario in order; stops at --timeout or Ctrl-C, keeping the results before it. */
async function execute(p: Plan): Promise<{ results: RunResult[]; stop: Stop | null }> {
  const results: RunResult[] = [];
  const n = p.scenarios.length;
  try {
    for (const [i, s] of p.scenarios.entries()) {
      const engine = p.engines[i]!;
      const path = p.paths[i] ?? null;
      if (engine === 'testbed') {
        try {
          results.push(await runTestbedStoppable(s, { ...(p.seed === undefined ? {} : { seed: p.seed }), ...(path ? { eventsFile: eventsPath(path) } : {}) }));
        } catch (e) {
          if (!(e instanceof TestbedInterrupted)) throw e;
          return {
            results,
            stop: { kind: 'interrupt', scenario: s.name, simNs: null, migrationsDone: 0, migrations: s.migrations.length, skipped: n - i - 1, signal: e.signal, cleanupMs: e.cleanupMs },
          };
        }
      } else if (p.deadline !== null || p.progress !== null) {
        try {
          results.push(await runSupervised(s, p.seed, { deadline: p.deadline, progress: p.progress, label: n > 1 ? `${s.name} [${i + 1}/${n}]` : s.name }));
        } catch (e) {
          if (e instanceof TimeoutReached || e instanceof Interrupted) {
            const reached = e instanceof TimeoutReached ? e.reached : { simNs: null, migrationsDone: 0 };
            return {
              results,
              stop: {
                kind: e instanceof TimeoutReached ? 'timeout' : 'interrupt', scenario: s.name,
                simNs: reached.simNs, migrationsDone: reached.migrationsDone, migrations: s.migrations.length, skipped: n - i - 1,
              },
            };
          }
          if (e instanceof OutOfMemory) throw new RunFailed(e.message);
          throw e;
        }
      } else {
        results.push(runScenario(s, p.seed === undefined ? {} : { seed: p.seed }));
      }
    }
  } catch (e) {
    if (e instanceof UnsupportedError) throw new BadInput(e.message);
    if (e instanceof TopologyConflict) throw new BadInput(e.message);
    if (p.engines.includes('testbed') && !(e instanceof BadInput) && !(e instanceof RunFailed)) {
      if (isEngineDown(e)) throw new BadInput(`${ENGINE_HINT} (${String(e)})`);
      throw new RunFailed(`testbed run failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    throw e;
  }
  return { results, stop: null };
}

/** The line saying where and why runs stopped early. */
function stopLine(stop: Stop, timeout: string | null): string {
  const at = stop.simNs === null ? 'before its first simulated event was reported' : `at simulated time ${clock(stop.simNs)}`;
  const rest = stop.skipped > 0 ? `; ${stop.skipped} later scenario${stop.skipped === 1 ? '' : 's'} not run` : '';
  if (stop.kind === 'interrupt' && stop.signal) {
    return `migsim: ${stop.signal === 'SIGTERM' ? 'terminated (SIGTERM)' : 'interrupted (SIGINT)'}: ${stop.scenario} stopped, its containers, veths and namespaces removed in ${((stop.cleanupMs ?? 0) / 1000).toFixed(1)} s, no result for it${rest}`;
  }
  if (stop.kind === 'interrupt') return `migsim: interrupted: ${stop.scenario} stopped, no result for it${rest}`;
  return `migsim: --timeout ${timeout} reached: ${stop.scenario} stopped ${at} (${stop.migrationsDone}/${stop.migrations} migrations done), no result for it${rest}`;
}

/**
 * Write each result whole (outputs.ts). One that cannot be written — a disk that filled
 * during the run — is not lost: one line on stderr, and the caller prints it on stdout.
 */
function writeResults(results: RunResult[], paths: (string | null)[]): { written: (string | null)[]; unwritten: RunResult[] } {
  const unwritten: RunResult[] = [];
  const written = results.map((r, i) => {
    const path = paths[i];
    if (!path) return null;
    const reason = writeWhole(path, JSON.stringify(r, null, 2) + '\n');
    if (reason === null) return path;
    process.stderr.write(`migsim: could not write the result of ${r.scenario} to ${path}: ${reason}; it is printed on stdout as JSON instead\n`);
    unwritten.push(r);
    return null;
  });
  return { written, unwritten };
}

function printJson(results: RunResult[]): void {
  process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
}

function memoryFailures(results: RunResult[]): string[] {
  return results.flatMap((r) =>
    r.migrations.filter((m) => m.memoryVerified === false).map((m) => `${r.scenario}/${m.vm}: ${m.error}`),
  );
}

/** Migrations whose outcome is `failed` for another reason than their memory verification. */
function failedMigrations(results: RunResult[]): string[] {
  return results.flatMap((r) =>
    r.migrations
      .filter((m) => m.outcome === 'failed' && m.memoryVerified !== false)
      .map((m) => `${r.scenario}/${m.vm} ${m.from}→${m.to}: ${m.error ?? 'no reason given'}`),
  );
}

/** The status of a run that got to the end of its flow: a stop first, then any failure. */
function finalStatus(stop: Stop | null, failed: boolean): number {
  if (stop?.kind === 'interrupt') return stop.signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  if (stop?.kind === 'timeout') return EXIT_TIMEOUT;
  return failed ? EXIT_FAILED : EXIT_OK;
}

async function cmdRun(a: RunArgs): Promise<number> {
  const p = plan(a, 'run', Date.now());
  const report = a.report ? await import('./report.js') : null;
  report?.checkReportPaths(p.paths);
  const { results, stop } = await execute(p);
  const { written, unwritten } = writeResults(results, p.paths);
  const reported = report ? await report.writeRunReports(results, written) : { reports: [], failed: [] };
  if (a.json) {
    if (results.length > 0) printJson(results);
  } else {
    if (results.length > 0) process.stdout.write(summaryTable(results) + '\n');
    for (const n of notes(results)) process.stdout.write(`note: ${n}\n`);
    for (const [i, path] of written.entries()) {
      if (path === null) continue;
      process.stdout.write(`result: ${path}\n`);
      if (results[i]!.engine === 'testbed') process.stdout.write(`events: ${eventsPath(path)}\n`);
    }
    for (const r of reported.reports) process.stdout.write(`report: ${r}\n`);
    if (unwritten.length > 0) printJson(unwritten);
  }
  for (const f of reported.failed) process.stderr.write(`migsim: ${f}\n`);
  const broken = memoryFailures(results);
  for (const b of broken) process.stderr.write(`migsim: MEMORY VERIFICATION FAILED: ${b}\n`);
  const failed = failedMigrations(results);
  for (const f of failed) process.stderr.write(`migsim: migration failed: ${f}\n`);
  const faults = faultLines(results);
  for (const f of faults) process.stderr.write(`migsim: fault: ${f}\n`);
  if (stop) process.stderr.write(stopLine(stop, p.timeout) + '\n');
  return finalStatus(stop, broken.length > 0 || failed.length > 0 || unwritten.length > 0 || faults.length > 0 || reported.failed.length > 0);
}

async function cmdCheck(a: RunArgs): Promise<number> {
  const p = plan(a, 'check', Date.now());
  const { results, stop } = await execute(p);
  const { unwritten } = writeResults(results, p.paths);
  let failed = memoryFailures(results).length > 0 || unwritten.length > 0;
  for (const r of results) {
    if (r.expectations.length === 0) process.stdout.write(`note: ${r.scenario} has no expect: bounds\n`);
    for (const line of expectationLines(r.scenario, r.expectations)) process.stdout.write(line + '\n');
    if (r.expectations.some((e) => !e.ok)) failed = true;
  }
  for (const b of memoryFailures(results)) process.stdout.write(`FAIL memory verification: ${b}\n`);
  const faults = faultLines(results);
  for (const f of faults) process.stdout.write(`FAIL fault: ${f}\n`);
  if (faults.length > 0) failed = true;
  if (unwritten.length > 0) printJson(unwritten);
  if (stop) process.stderr.write(stopLine(stop, p.timeout) + '\n');
  return finalStatus(stop, failed);
}

function cmdValidate(a: { files: string[]; explain?: boolean; allowOutside?: boolean }): number {
  if (a.files.length === 0) {
    if (a.explain) {
      process.stdout.write(explainDefaults() + '\n');
      return EXIT_OK;
    }
    throw new BadInput('validate needs at least one scenario file (or --explain alone for the defaults)');
  }
  const scenarios = loadAll(a.files, a.allowOutside === true);
  for (const s of scenarios) {
    process.stdout.write(a.explain ? explainScenario(s) + '\n' : `ok ${s.file} (${s.name})\n`);
  }
  return EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  let status = EXIT_OK;
  const engineOpt = { type: 'string', choices: ['sim', 'testbed'], describe: 'engine (default: the scenario\'s, else sim)' } as const;
  const seedOpt = { type: 'string', describe: 'seed, overriding the scenario\'s: a whole number from 0 to 4294967295' } as const;
  const timeoutOpt = { type: 'string', describe: 'stop the runs after this wall time (30s, 5m, 1h; sim engine only): exit 3' } as const;
  const quietOpt = { type: 'boolean', describe: 'no progress line on a terminal' } as const;
  const outsideOpt = { type: 'boolean', describe: 'let trace files lie outside the scenario file\'s directory' } as const;
  /** What run and check share: the files and the flags that choose and bound the runs. */
  const runOptions = (y: Argv) =>
    y.positional('files', { type: 'string', array: true, demandOption: true })
      .option('engine', engineOpt)
      .option('seed', seedOpt)
      .option('timeout', timeoutOpt)
      .option('quiet', quietOpt)
      .option('allow-outside', outsideOpt);
  const guard = async (fn: () => number | Promise<number>) => {
    try {
      status = await fn();
    } catch (e) {
      if (e instanceof BadInput) {
        process.stderr.write(`migsim: ${e.message}\n`);
        status = EXIT_BAD_INPUT;
      } else if (e instanceof RunFailed) {
        process.stderr.write(`migsim: ${e.message}\n`);
        status = EXIT_FAILED;
      } else {
        throw e;
      }
    }
  };
  try {
    await yargs(argv)
      .scriptName('migsim')
      .version(VERSION)
      .strict()
      .command('run <files..>', 'run scenarios and print a summary table', (y) =>
        runOptions(y)
          .option('out', { type: 'string', describe: 'result file (.json, one scenario) or directory' })
          .option('json', { type: 'boolean', describe: 'print the result JSON instead of the table' })
          .option('report', { type: 'boolean', describe: 'also write an HTML report beside each result file (.html)' }),
      (a) => guard(() => cmdRun(a as unknown as RunArgs)))
      .command('check <files..>', 'run scenarios and evaluate their expect: bounds (exit 1 if one fails)', (y) =>
        runOptions(y).option('out', { type: 'string', describe: 'also write results here' }),
      (a) => guard(() => cmdCheck(a as unknown as RunArgs)))
      .command('validate [files..]', 'check scenario files against the schema; run nothing', (y) =>
        y.positional('files', { type: 'string', array: true, default: [] as string[] })
          .option('explain', { type: 'boolean', describe: 'show every resolved value (or, with no file, every default)' })
          .option('allow-outside', outsideOpt),
      (a) => guard(() => cmdValidate(a as unknown as { files: string[]; explain?: boolean; allowOutside?: boolean })))
      .command('decode [files..]', 'decode frames (pcap, pcapng or hex lines; - is stdin) to JSON, one document per frame (exit 1 if one does not decode)', (y) =>
        y.positional('files', { type: 'string', array: true, default: [] as string[], describe: 'pcap, pcapng or hex-text files (- is stdin)' })
          .option('hex', { type: 'string', array: true, describe: 'frames as hex, one per value (takes every value after it: put FILEs first)' })
          .option('pretty', { type: 'boolean', describe: 'indent the JSON' }),
      (a) => guard(() => cmdDecode(withStdin(a as unknown as DecodeArgs, argv))))
      .command('compare <a> <b>', 'two result files side by side: per migration and metric, A, B and the change, flagged beyond --tolerance (exit 1 if one is)', (y) =>
        y.positional('a', { type: 'string', describe: 'the baseline result (.json)' })
          .positional('b', { type: 'string', describe: 'the result to review (.json)' })
          .option('tolerance', { type: 'string', describe: 'relative change beyond which a metric is flagged: 10% (default), 0.05 …' })
          .option('all', { type: 'boolean', describe: 'show the metrics that did not change too' })
          .option('json', { type: 'boolean', describe: 'print the comparison as JSON' }),
      (a) => guard(() => cmdCompare(a as unknown as CompareArgs)))
      .command('report <files..>', 'an HTML report of result files: charts of the rounds and a timeline per migration; several results compared side by side', (y) =>
        y.positional('files', { type: 'string', array: true, demandOption: true, describe: 'result files (.json); the first is the baseline of the comparison' })
          .option('out', { type: 'string', describe: 'the report file (default: beside the first result, .html for .json)' })
          .option('tolerance', { type: 'string', describe: 'relative change flagged in the comparison: 10% (default), 0.05 …' }),
      (a) => guard(async () => (await import('./report.js')).cmdReport(a as unknown as ReportArgs)))
      .command('sweep <file>', 'run a sweep file: every combination of the varied fields × seeds, in parallel; points.csv, summary.csv and sweep.html', (y) =>
        y.positional('file', { type: 'string', describe: 'the sweep file (.yaml)' })
          .option('workers', { type: 'string', describe: 'worker threads (default: the number of cores)' })
          .option('resume', { type: 'string', describe: 'go on with an interrupted sweep: its directory, or the newest of this sweep when given alone' })
          .option('out', { type: 'string', describe: 'write into this new or empty directory instead of results/<sweep>/<time>/' })
          .option('queue', { type: 'string', describe: 'put the runs on the BullMQ queue at redis://HOST:PORT for `migsim worker`s' })
          .option('quiet', quietOpt),
      (a) => guard(async () => (await import('./sweep.js')).cmdSweep(a as unknown as SweepArgs)))
      .command('worker', 'run sweeps\' runs from a BullMQ queue until Ctrl-C', (y) =>
        y.option('queue', { type: 'string', describe: 'the queue\'s Redis: redis://HOST:PORT' })
          .option('concurrency', { type: 'string', describe: 'runs at a time, each in a thread (default: the number of cores)' }),
      (a) => guard(async () => (await import('./sweep.js')).cmdWorker(a as unknown as WorkerArgs)))
      .command('testbed', 'the Docker testbed: up [SCENARIO] | down | status', (y) => testbedCommand(y, (code) => { status = code; }))
      .demandCommand(1, 'name a command: run, check, validate, report, sweep, compare …')
      .fail((msg, err) => {
        if (err) throw err;
        // stop here (a command must not run on a bad command line); one line naming the problem
        throw new UsageFailure(`${msg.replace(/\s*\n\s*/g, ' ')} (see migsim --help)`);
      })
      .help()
      .parseAsync();
  } catch (e) {
    if (!(e instanceof UsageFailure)) throw e;
    process.stderr.write(`migsim: ${e.message}\n`);
    status = EXIT_BAD_INPUT;
  }
  return status;
}

/** The command line itself is wrong (yargs' verdict): nothing runs. */
class UsageFailure extends Error {}

installGuards();
main(hideBin(process.argv)).then((code) => process.exit(code), dieInternal);
