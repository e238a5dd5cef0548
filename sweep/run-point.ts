// One run of a sweep: a point's scenario with one seed, on the sim engine, as points.csv
// rows — the same call whether a worker thread or a queue worker on another machine makes it.

import { flattenRun } from '../model/sweep/flatten.js';
import type { RunRecord } from '../model/sweep/points-table.js';
import type { Scenario } from '../model/scenario/types.js';
import { runScenario } from '../sim/engine.js';

export function runPoint(scenario: Scenario, point: number, seed: number): RunRecord {
  try {
    return { point, seed, rows: flattenRun(runScenario(scenario, { seed })) };
  } catch (e) {
    return { point, seed, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
