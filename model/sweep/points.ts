// A sweep's points: every combination of the varied values (the first key varies slowest),
// each the base scenario with those values set, loaded by the scenario loader itself — so a
// value the loader would refuse is found, for every point, before anything runs. An error
// names the sweep file, the key, the value and the base scenario's field.

import { LineCounter, parseDocument } from 'yaml';
import { ScenarioError } from '../scenario/errors.js';
import { loadScenarioText, parseScenarioDocument } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { type SweepFile, SweepFileError, type SweepValue } from './file.js';
import { KeyError, setAtKey } from './keys.js';

export interface SweepPoint {
  /** 0-based, in combination order */
  index: number;
  /** one value per varied field, in the sweep file's order */
  values: SweepValue[];
  scenario: Scenario;
}

export interface SweepPlan {
  sweep: SweepFile;
  base: Scenario;
  /** the base file's text the points were made from (the resume check's fingerprint covers it) */
  baseText: string;
  points: SweepPoint[];
  /** the seeds every point runs with */
  seeds: number[];
}

function shown(v: SweepValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A loader error without its location (the sweep's values have none in the base file). */
function body(e: ScenarioError): string {
  return e.problem ? `${e.problem}; expected ${e.expected}` : `expected ${e.expected}${e.got !== undefined ? `, got ${e.got}` : ''}`;
}

/** The base scenario, loaded and checked on its own, and its text for the points. */
export interface SweepBase {
  base: Scenario;
  text: string;
}

export function loadBase(sweep: SweepFile): SweepBase {
  let loaded: { scenario: Scenario; text: string };
  try {
    loaded = loadScenarioText(sweep.base);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    throw new SweepFileError(e.errors.map((x) => `${sweep.file}: base ${sweep.baseAsWritten}: ${x.message}`));
  }
  const base = loaded.scenario;
  if (base.engine === 'testbed') {
    throw new SweepFileError([`${sweep.file}: base ${sweep.baseAsWritten}: engine: testbed; a sweep runs on the sim engine only (its points run in parallel, in virtual time)`]);
  }
  return { base, text: loaded.text };
}

/** The number of points: the product of the value lists' lengths. */
export function pointCount(sweep: SweepFile): number {
  return sweep.vary.reduce((n, f) => n * f.values.length, 1);
}

/** Point `index`'s values: the first key varies slowest. */
export function pointValues(sweep: SweepFile, index: number): SweepValue[] {
  const values: SweepValue[] = new Array(sweep.vary.length);
  for (let k = sweep.vary.length - 1; k >= 0; k--) {
    const list = sweep.vary[k]!.values;
    values[k] = list[index % list.length]!;
    index = Math.floor(index / list.length);
  }
  return values;
}

/** A point that would not load: its index (for a stable order) and the one-line message. */
export interface PointProblem {
  index: number;
  message: string;
}

/** Loads the points `indices` (ascending); stops after `maxProblems` problems. */
export function loadPoints(sweep: SweepFile, baseText: string, indices: readonly number[], maxProblems = MAX_PROBLEMS): { points: SweepPoint[]; problems: PointProblem[] } {
  const lines = new LineCounter();
  const original = parseDocument(baseText, { lineCounter: lines, uniqueKeys: true });
  const problems: PointProblem[] = [];
  const seen = new Set<string>();
  const problem = (index: number, message: string) => {
    if (seen.has(message)) return;
    seen.add(message);
    problems.push({ index, message });
  };
  const points: SweepPoint[] = [];
  for (const index of indices) {
    if (problems.length >= maxProblems) break;
    const values = pointValues(sweep, index);
    const doc = original.clone();
    const setting = sweep.vary.map((f, i) => `${f.key}: ${shown(values[i]!)}`).join(', ');
    let ok = true;
    for (const [i, f] of sweep.vary.entries()) {
      try {
        setAtKey(doc, f.path, values[i]);
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
        problem(index, `${sweep.file}: vary ${f.key}: ${e.message} (base ${sweep.baseAsWritten})`);
        ok = false;
      }
    }
    if (!ok) continue;
    try {
      points.push({ index, values, scenario: parseScenarioDocument(doc, lines, sweep.base) });
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      for (const x of e.errors) {
        const key = sweep.vary.find((f) => x.path === f.key || x.path.startsWith(`${f.key}.`) || x.path.startsWith(`${f.key}[`));
        problem(
          index,
          key
            ? `${sweep.file}: vary ${key.key}: ${shown(values[sweep.vary.indexOf(key)]!)}: base ${sweep.baseAsWritten} field ${x.path}: ${body(x)}`
            : `${sweep.file}: point ${index} (${setting}): base ${sweep.baseAsWritten} field ${x.path || '(the file)'}: ${body(x)}`,
        );
      }
    }
  }
  return { points, problems };
}

/** At most this many problems are listed. */
export const MAX_PROBLEMS = 20;

/** The problems of several loaders, merged in point order, as one error (null when there are none). */
export function pointErrors(problems: readonly PointProblem[]): SweepFileError | null {
  if (problems.length === 0) return null;
  const lines = [...new Set([...problems].sort((a, b) => a.index - b.index).map((p) => p.message))];
  return new SweepFileError(lines.slice(0, MAX_PROBLEMS));
}

/** Loads the base and every point in this thread; throws SweepFileError listing the problems. */
export function planSweep(sweep: SweepFile): SweepPlan {
  const { base, text } = loadBase(sweep);
  const { points, problems } = loadPoints(sweep, text, Array.from({ length: pointCount(sweep) }, (_, i) => i));
  const error = pointErrors(problems);
  if (error) throw error;
  return { sweep, base, baseText: text, points, seeds: sweep.seeds ?? [base.seed] };
}
