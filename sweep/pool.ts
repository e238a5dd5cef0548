// The local way to run a sweep's runs: N worker threads (sweep/thread.ts), each kept two
// runs ahead so it never waits for the main thread. A thread that dies (out of memory, a
// crash) has its runs recorded as errors, and a new thread takes its place.

import { Worker } from 'node:worker_threads';
import type { RunRecord } from '../model/sweep/points-table.js';
import type { Scenario } from '../model/scenario/types.js';
import type { ThreadInput, ThreadTask } from './thread.js';

/** Runs in flight per thread: one running, one waiting in its queue. */
const AHEAD = 2;

export interface PoolRun {
  scenarios: Scenario[];
  tasks: ThreadTask[];
  workers: number;
  onRecord: (r: RunRecord) => void;
  signal: AbortSignal;
}

/** Resolves when every task has a record, or when `signal` aborts (the rest are not run). */
export function runInThreads(run: PoolRun): Promise<void> {
  const queue = [...run.tasks];
  const threads = new Set<Worker>();
  let left = run.tasks.length;
  return new Promise<void>((resolve, reject) => {
    if (left === 0) return resolve();
    const input: ThreadInput = { scenarios: run.scenarios };
    const finish = (fn: () => void) => {
      for (const t of threads) void t.terminate();
      threads.clear();
      run.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(resolve);
    run.signal.addEventListener('abort', onAbort);

    const start = () => {
      const inFlight: ThreadTask[] = [];
      const worker = new Worker(new URL('./thread.js', import.meta.url), { workerData: input, stdout: false, stderr: false });
      threads.add(worker);
      const feed = () => {
        while (inFlight.length < AHEAD && queue.length > 0) {
          const t = queue.shift()!;
          inFlight.push(t);
          worker.postMessage(t);
        }
      };
      const died = (why: string) => {
        if (!threads.delete(worker)) return;
        for (const t of inFlight.splice(0)) {
          run.onRecord({ point: t.point, seed: t.seed, error: `the worker thread running it stopped: ${why}` });
          left--;
        }
        if (left === 0) return finish(resolve);
        if (!run.signal.aborted) start();
      };
      worker.on('message', (r: RunRecord) => {
        inFlight.shift();
        try {
          run.onRecord(r);
        } catch (e) {
          return finish(() => reject(e));
        }
        if (--left === 0) return finish(resolve);
        feed();
      });
      worker.on('error', (e: Error & { code?: string }) => died(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : e.message));
      worker.on('exit', (code) => died(`exit status ${code}`));
      feed();
    };
    for (let i = 0; i < Math.min(run.workers, run.tasks.length); i++) start();
  });
}
