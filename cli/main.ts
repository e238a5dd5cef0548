// The `migsim` command line. Exit status: 0 ok, 1 a check or a memory verification
// failed, 2 bad input (unreadable file, schema error, something this version cannot run).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
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
import { readCapture, type CaptureFrame } from '../wire/capture-file.js';
import { decodeFrame } from '../wire/decode.js';
import { fromHex } from '../wire/fields.js';
import { testbedCommand } from './testbed.js';
import { ENGINE_HINT, isEngineDown, TopologyConflict } from '../testbed/errors.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

/** Bad input already explained to the user: print it and leave with status 2. */
class BadInput extends Error {}

/** A run that could not be completed (the testbed failed): print it and leave with status 1. */
class RunFailed extends Error {}

function loadAll(files: string[]): Scenario[] {
  const scenarios: Scenario[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      scenarios.push(loadScenario(file));
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

/** A started run: `paths` are where its results go (known before a testbed run, for its event stream). */
async function execute(scenarios: Scenario[], a: RunArgs): Promise<{ results: RunResult[]; paths: (string | null)[] }> {
  if (a.out?.endsWith('.json') && scenarios.length > 1) {
    throw new BadInput(`--out ${a.out}: one file cannot hold ${scenarios.length} results; give a directory`);
  }
  const engines = scenarios.map((s) => chooseEngine(s, a.engine));
  const results: RunResult[] = [];
  const paths: (string | null)[] = [];
  try {
    for (const [i, s] of scenarios.entries()) {
      const engine = engines[i]!;
      const path = a.out !== undefined || a.write ? resultPath(s.name, engine, a.out) : null;
      if (engine === 'testbed') {
        // loaded only for a testbed run (Docker, Redis)
        const { runTestbed } = await import('../testbed/engine.js');
        results.push(await runTestbed(s, { ...(a.seed === undefined ? {} : { seed: a.seed }), ...(path ? { eventsFile: eventsPath(path) } : {}) }));
      } else {
        results.push(runScenario(s, a.seed === undefined ? {} : { seed: a.seed }));
      }
      paths.push(path);
    }
  } catch (e) {
    if (e instanceof UnsupportedError) throw new BadInput(e.message);
    if (e instanceof TopologyConflict) throw new BadInput(e.message);
    if (engines.includes('testbed') && !(e instanceof BadInput)) {
      if (isEngineDown(e)) throw new BadInput(`${ENGINE_HINT} (${String(e)})`);
      throw new RunFailed(`testbed run failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    throw e;
  }
  return { results, paths };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Where a result goes: `--out x.json` (one scenario), `--out DIR`, or results/<scenario>/. */
function resultPath(scenario: string, engine: EngineName, out: string | undefined): string {
  return out?.endsWith('.json') ? out : out ? join(out, `${scenario}.json`) : join('results', scenario, `${engine}-${timestamp()}.json`);
}

/** The testbed's event stream, beside its result: x.json → x.events.ndjson. */
function eventsPath(resultFile: string): string {
  return resultFile.replace(/\.json$/, '') + '.events.ndjson';
}

function writeResults(results: RunResult[], paths: (string | null)[]): string[] {
  return results.flatMap((r, i) => {
    const path = paths[i];
    if (!path) return [];
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(r, null, 2) + '\n');
    return [path];
  });
}

function memoryFailures(results: RunResult[]): string[] {
  return results.flatMap((r) =>
    r.migrations.filter((m) => m.memoryVerified === false).map((m) => `${r.scenario}/${m.vm}: ${m.error}`),
  );
}

interface RunArgs {
  files: string[];
  engine?: string;
  out?: string;
  json?: boolean;
  seed?: number;
  /** write results under results/ without --out (run does; check does not) */
  write?: boolean;
}

async function cmdRun(a: RunArgs): Promise<number> {
  const run = await execute(loadAll(a.files), { ...a, write: true });
  const results = run.results;
  const paths = writeResults(results, run.paths);
  if (a.json) {
    process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  } else {
    process.stdout.write(summaryTable(results) + '\n');
    for (const n of notes(results)) process.stdout.write(`note: ${n}\n`);
    for (const [i, p] of paths.entries()) {
      process.stdout.write(`result: ${p}\n`);
      if (results[i]!.engine === 'testbed') process.stdout.write(`events: ${eventsPath(p)}\n`);
    }
  }
  const broken = memoryFailures(results);
  for (const b of broken) process.stderr.write(`migsim: MEMORY VERIFICATION FAILED: ${b}\n`);
  return broken.length > 0 ? EXIT_FAILED : EXIT_OK;
}

async function cmdCheck(a: RunArgs): Promise<number> {
  const run = await execute(loadAll(a.files), a);
  const results = run.results;
  writeResults(results, run.paths);
  let failed = memoryFailures(results).length > 0;
  for (const r of results) {
    if (r.expectations.length === 0) process.stdout.write(`note: ${r.scenario} has no expect: bounds\n`);
    for (const line of expectationLines(r.scenario, r.expectations)) process.stdout.write(line + '\n');
    if (r.expectations.some((e) => !e.ok)) failed = true;
  }
  for (const b of memoryFailures(results)) process.stdout.write(`FAIL memory verification: ${b}\n`);
  return failed ? EXIT_FAILED : EXIT_OK;
}

function cmdValidate(a: { files: string[]; explain?: boolean }): number {
  if (a.files.length === 0) {
    if (a.explain) {
      process.stdout.write(explainDefaults() + '\n');
      return EXIT_OK;
    }
    throw new BadInput('validate needs at least one scenario file (or --explain alone for the defaults)');
  }
  const scenarios = loadAll(a.files);
  for (const s of scenarios) {
    process.stdout.write(a.explain ? explainScenario(s) + '\n' : `ok ${s.file} (${s.name})\n`);
  }
  return EXIT_OK;
}

interface DecodeArgs {
  files: string[];
  hex?: string[];
  pretty?: boolean;
}

/** Every input's frames, read before anything is printed; an unreadable or unrecognized file is bad input. */
function decodeInputs(a: DecodeArgs): { file: string | null; frames: CaptureFrame[] }[] {
  const hex = (a.hex ?? []).map(String);
  if (a.files.length === 0 && hex.length === 0) throw new BadInput('decode needs a capture FILE (- for stdin) or --hex HEX');
  const inputs: { file: string | null; frames: CaptureFrame[] }[] = [];
  if (hex.length > 0) {
    inputs.push({
      file: null,
      frames: hex.map((h, i): CaptureFrame => {
        const bytes = fromHex(h);
        if (bytes && bytes.length > 0) return { index: i + 1, timeNs: null, bytes };
        const shown = h.length > 40 ? `${h.slice(0, 40)}…` : h;
        // --hex takes every value after it, so `--hex AA x.pcap` makes x.pcap a --hex value
        const hint = existsSync(h) ? ' (a file: put files before --hex, which takes every value after it)' : '';
        return { index: i + 1, timeNs: null, bytes: new Uint8Array(0), error: `--hex value ${i + 1} is not hex bytes: ${JSON.stringify(shown)}${hint}` };
      }),
    });
  }
  const problems: string[] = [];
  for (const file of a.files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file === '-' ? 0 : file);
    } catch (e) {
      problems.push(`${file === '-' ? 'stdin' : file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const c = readCapture(bytes);
    if (!c.ok) {
      problems.push(`${file === '-' ? 'stdin' : file}: ${c.reason}`);
      continue;
    }
    if (c.value.warning !== null) process.stderr.write(`migsim: ${file === '-' ? 'stdin' : file}: warning: ${c.value.warning}\n`);
    inputs.push({ file, frames: c.value.frames });
  }
  if (problems.length > 0) throw new BadInput(problems.join('\n'));
  return inputs;
}

/**
 * yargs drops a bare `-` from positionals (its re-parse takes it for an option), so put
 * each `-` after `decode` in the command line back among the files, in command-line order.
 */
function withStdin(a: DecodeArgs, argv: string[]): DecodeArgs {
  const at = argv.indexOf('decode');
  if (at < 0 || !argv.includes('-', at + 1)) return a;
  const files: string[] = [];
  let j = 0;
  for (const token of argv.slice(at + 1)) {
    if (token === '-') files.push('-');
    else if (j < a.files.length && token === a.files[j]) files.push(a.files[j++]!);
  }
  return { ...a, files: files.concat(a.files.slice(j)) };
}

function cmdDecode(a: DecodeArgs): number {
  let failed = false;
  let out = '';
  for (const { file, frames } of decodeInputs(a)) {
    for (const f of frames) {
      const where = { file, index: f.index, ...(f.line === undefined ? {} : { line: f.line }), timeNs: f.timeNs };
      const doc = f.error === undefined
        ? { ...where, ...decodeFrame(f.bytes) }
        : { ...where, length: 0, layers: [], error: { layer: 'hex', reason: f.error } };
      if (doc.error !== null) failed = true;
      out += (a.pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc)) + '\n';
      if (out.length > 1 << 16) {
        process.stdout.write(out);
        out = '';
      }
    }
  }
  process.stdout.write(out);
  return failed ? EXIT_FAILED : EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  let status = EXIT_OK;
  const engineOpt = { type: 'string', choices: ['sim', 'testbed'], describe: 'engine (default: the scenario\'s, else sim)' } as const;
  const seedOpt = { type: 'number', describe: 'seed, overriding the scenario\'s' } as const;
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
  await yargs(argv)
    .scriptName('migsim')
    .version(VERSION)
    .strict()
    .command('run <files..>', 'run scenarios and print a summary table', (y) =>
      y.positional('files', { type: 'string', array: true, demandOption: true })
        .option('engine', engineOpt)
        .option('out', { type: 'string', describe: 'result file (.json, one scenario) or directory' })
        .option('json', { type: 'boolean', describe: 'print the result JSON instead of the table' })
        .option('seed', seedOpt),
    (a) => guard(() => cmdRun(a as unknown as RunArgs)))
    .command('check <files..>', 'run scenarios and evaluate their expect: bounds (exit 1 if one fails)', (y) =>
      y.positional('files', { type: 'string', array: true, demandOption: true })
        .option('engine', engineOpt)
        .option('out', { type: 'string', describe: 'also write results here' })
        .option('seed', seedOpt),
    (a) => guard(() => cmdCheck(a as unknown as RunArgs)))
    .command('validate [files..]', 'check scenario files against the schema; run nothing', (y) =>
      y.positional('files', { type: 'string', array: true, default: [] as string[] })
        .option('explain', { type: 'boolean', describe: 'show every resolved value (or, with no file, every default)' }),
    (a) => guard(() => cmdValidate(a as unknown as { files: string[]; explain?: boolean })))
    .command('decode [files..]', 'decode frames (pcap, pcapng or hex lines; - is stdin) to JSON, one document per frame (exit 1 if one does not decode)', (y) =>
      y.positional('files', { type: 'string', array: true, default: [] as string[], describe: 'pcap, pcapng or hex-text files (- is stdin)' })
        .option('hex', { type: 'string', array: true, describe: 'frames as hex, one per value (takes every value after it: put FILEs first)' })
        .option('pretty', { type: 'boolean', describe: 'indent the JSON' }),
    (a) => guard(() => cmdDecode(withStdin(a as unknown as DecodeArgs, argv))))
    .command('testbed', 'the Docker testbed: up [SCENARIO] | down | status', (y) => testbedCommand(y, (code) => { status = code; }))
    .demandCommand(1, 'name a command: run, check or validate')
    .fail((msg, err, y) => {
      if (err) throw err;
      y.showHelp();
      process.stderr.write(`\nmigsim: ${msg}\n`);
      status = EXIT_BAD_INPUT;
    })
    .help()
    .parseAsync();
  return status;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`migsim: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(70);
  },
);
