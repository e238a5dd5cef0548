// A sweep's points: every combination of the varied values (the first key varies slowest),
// each the base scenario with those values set, loaded by the scenario loader itself — so a
// value the loader would refuse is found, for every point, before anything runs. An error
// names the sweep file, the key, the value and the base scenario's field.

import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ScenarioError } from '../scenario/errors.js';
import { loadScenario, parseScenario } from '../scenario/load.js';
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
  points: SweepPoint[];
  /** the seeds every point runs with */
  seeds: number[];
}

/** Every combination, first key slowest: [[a1,b1],[a1,b2],[a2,b1],…]. */
export function combinations(lists: readonly (readonly SweepValue[])[]): SweepValue[][] {
  let out: SweepValue[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((v) => [...prefix, v]));
  return out;
}

function shown(v: SweepValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A loader error without its location (the text is the modified base, not the file on disk). */
function body(e: ScenarioError): string {
  return e.problem ? `${e.problem}; expected ${e.expected}` : `expected ${e.expected}${e.got !== undefined ? `, got ${e.got}` : ''}`;
}

/** Loads the base and every point; throws SweepFileError listing every problem (at most 20 shown). */
export function planSweep(sweep: SweepFile): SweepPlan {
  let base: Scenario;
  try {
    base = loadScenario(sweep.base);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    throw new SweepFileError(e.errors.map((x) => `${sweep.file}: base ${sweep.baseAsWritten}: ${x.message}`));
  }
  if (base.engine === 'testbed') {
    throw new SweepFileError([`${sweep.file}: base ${sweep.baseAsWritten}: engine: testbed; a sweep runs on the sim engine only (its points run in parallel, in virtual time)`]);
  }
  const text = readFileSync(sweep.base, 'utf8');
  const original = parseDocument(text);
  const problems = new Set<string>();
  const points: SweepPoint[] = [];
  for (const [index, values] of combinations(sweep.vary.map((f) => f.values)).entries()) {
    const doc = original.clone();
    const setting = sweep.vary.map((f, i) => `${f.key}: ${shown(values[i]!)}`).join(', ');
    let ok = true;
    for (const [i, f] of sweep.vary.entries()) {
      try {
        setAtKey(doc, f.path, values[i]);
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
        problems.add(`${sweep.file}: vary ${f.key}: ${e.message} (base ${sweep.baseAsWritten})`);
        ok = false;
      }
    }
    if (!ok) continue;
    try {
      points.push({ index, values, scenario: parseScenario(String(doc), sweep.base) });
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      for (const x of e.errors) {
        const key = sweep.vary.find((f) => x.path === f.key || x.path.startsWith(`${f.key}.`) || x.path.startsWith(`${f.key}[`));
        problems.add(
          key
            ? `${sweep.file}: vary ${key.key}: ${shown(values[sweep.vary.indexOf(key)]!)}: base ${sweep.baseAsWritten} field ${x.path}: ${body(x)}`
            : `${sweep.file}: point ${index} (${setting}): base ${sweep.baseAsWritten} field ${x.path || '(the file)'}: ${body(x)}`,
        );
      }
    }
    if (problems.size >= 20) break;
  }
  if (problems.size > 0) throw new SweepFileError([...problems].slice(0, 20));
  return { sweep, base, points, seeds: sweep.seeds ?? [base.seed] };
}
