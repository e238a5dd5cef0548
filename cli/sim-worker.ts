// A sim run in a worker thread (cli/supervise.ts starts it), so that the main thread stays
// free to draw the progress line and to stop the run at --timeout or Ctrl-C. The run is the
// same call as in the main thread: the same result, byte for byte apart from wallClock.

import { parentPort, workerData } from 'node:worker_threads';
import { runScenario } from '../sim/engine.js';
import type { Scenario } from '../model/scenario/types.js';

export interface WorkerInput {
  scenario: Scenario;
  seed?: number;
  /** [virtual ns reached, migrations done], written as the run goes; NaN before the first report */
  reached: SharedArrayBuffer;
}

export type WorkerMessage =
  | { kind: 'result'; result: ReturnType<typeof runScenario> }
  | { kind: 'error'; name: string; message: string; stack: string | undefined };

const input = workerData as WorkerInput;
const reached = new Float64Array(input.reached);
try {
  const result = runScenario(input.scenario, {
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    onProgress: (simNs, done) => {
      reached[0] = simNs;
      reached[1] = done;
    },
  });
  parentPort!.postMessage({ kind: 'result', result } satisfies WorkerMessage);
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  parentPort!.postMessage({ kind: 'error', name: err.name, message: err.message, stack: err.stack } satisfies WorkerMessage);
}
