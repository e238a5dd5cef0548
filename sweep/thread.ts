// A worker thread of a local sweep (sweep/pool.ts starts it). First it loads its share of the
// points (so loading a large grid is spread over the cores too) and answers with them or with
// their problems; then it gets every point's scenario and runs the (point, seed) pairs it is
// sent, one at a time, answering each with its record.

import { parentPort, workerData } from 'node:worker_threads';
import type { SweepFile } from '../model/sweep/file.js';
import { loadPoints, type PointProblem, type SweepPoint } from '../model/sweep/points.js';
import type { Scenario } from '../model/scenario/types.js';
import { runPoint } from './run-point.js';

export interface ThreadInput {
  sweep: SweepFile;
  baseText: string;
  /** the points this thread loads */
  indices: number[];
}

export interface ThreadTask {
  point: number;
  seed: number;
}

/** Main → thread: every point's scenario, by index (after each thread has loaded its share). */
export interface ThreadStart {
  scenarios: Scenario[];
}

/** Thread → main, once: the points it loaded, or why some would not load. */
export interface ThreadLoaded {
  points: SweepPoint[];
  problems: PointProblem[];
}

const input = workerData as ThreadInput;
let scenarios: Scenario[] | null = null;
parentPort!.postMessage(loadPoints(input.sweep, input.baseText, input.indices) satisfies ThreadLoaded);
parentPort!.on('message', (m: ThreadStart | ThreadTask) => {
  if ('scenarios' in m) scenarios = m.scenarios;
  else parentPort!.postMessage(runPoint(scenarios![m.point]!, m.point, m.seed));
});
