// A worker thread of a local sweep (sweep/pool.ts starts it): it gets every point's scenario
// once, then runs the (point, seed) pairs it is sent, one at a time, answering each with its
// record.

import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '../model/scenario/types.js';
import { runPoint } from './run-point.js';

export interface ThreadInput {
  scenarios: Scenario[];
}

export interface ThreadTask {
  point: number;
  seed: number;
}

const { scenarios } = workerData as ThreadInput;
parentPort!.on('message', (t: ThreadTask) => {
  parentPort!.postMessage(runPoint(scenarios[t.point]!, t.point, t.seed));
});
