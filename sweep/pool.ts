// The local way to run a sweep: N worker threads (sweep/thread.ts). They load the points
// first, each its share, and the sweep stops there if one would not load (nothing run,
// nothing written); then each gets every point and is kept two runs ahead, so it never waits
// for the main thread. A thread that dies (out of memory, a crash) has its runs recorded as
// errors, and a new thread takes its place.

import { Worker } from 'node:worker_threads';
import type { SweepFile } from '../model/sweep/file.js';
import type { RunRecord } from '../model/sweep/points-table.js';
import { pointCount, pointErrors, type SweepPoint } from '../model/sweep/points.js';
import type { Scenario } from '../model/scenario/types.js';
import type { ThreadInput, ThreadLoaded, ThreadStart, ThreadTask } from './thread.js';

/** Runs in flight per thread: one running, one waiting in its queue. */
const AHEAD = 2;

export interface LoadedPool {
  points: SweepPoint[];
  /** runs the tasks; resolves when each has a record, or when `signal` aborts (the rest are not run) */
  run(tasks: ThreadTask[], onRecord: (r: RunRecord) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

function spawn(input: ThreadInput): Worker {
  return new Worker(new URL('./thread.js', import.meta.url), { workerData: input, stdout: false, stderr: false });
}

function firstMessage<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    w.once('message', (m: T) => {
      w.off('error', fail);
      resolve(m);
    });
    w.once('error', fail);
  });
}

/**
 * Starts `workers` threads (no more than there are runs) and loads the points across them;
 * throws SweepFileError if one would not load.
 */
export async function loadInThreads(sweep: SweepFile, baseText: string, workers: number, runs: number): Promise<LoadedPool> {
  const n = pointCount(sweep);
  const count = Math.max(1, Math.min(workers, runs));
  const shares: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < n; i++) shares[i % count]!.push(i); // round robin: neighbouring points cost alike
  const threads = shares.map((indices) => spawn({ sweep, baseText, indices }));
  let loaded: ThreadLoaded[];
  try {
    loaded = await Promise.all(threads.map((t) => firstMessage<ThreadLoaded>(t)));
  } catch (e) {
    for (const t of threads) void t.terminate();
    throw e;
  }
  const error = pointErrors(loaded.flatMap((l) => l.problems));
  if (error) {
    for (const t of threads) void t.terminate();
    throw error;
  }
  const points = loaded.flatMap((l) => l.points).sort((a, b) => a.index - b.index);
  const scenarios = points.map((p) => p.scenario);
  return {
    points,
    run: (tasks, onRecord, signal) => runTasks(threads, { sweep, baseText, indices: [] }, scenarios, tasks, onRecord, signal),
    close: () => {
      for (const t of threads) void t.terminate();
    },
  };
}

function runTasks(started: Worker[], input: ThreadInput, scenarios: Scenario[], tasks: ThreadTask[], onRecord: (r: RunRecord) => void, signal: AbortSignal): Promise<void> {
  const queue = [...tasks];
  const threads = new Set<Worker>();
  let left = tasks.length;
  return new Promise<void>((resolve, reject) => {
    const finish = (fn: () => void) => {
      for (const t of threads) void t.terminate();
      threads.clear();
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(resolve);
    if (left === 0) return finish(resolve);
    signal.addEventListener('abort', onAbort);

    const use = (worker: Worker, fresh: boolean) => {
      const inFlight: ThreadTask[] = [];
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
          onRecord({ point: t.point, seed: t.seed, error: `the worker thread running it stopped: ${why}` });
          left--;
        }
        if (left === 0) return finish(resolve);
        if (!signal.aborted && queue.length > 0) replace();
      };
      let skipFirst = fresh; // a fresh thread first answers with its (empty) share of points
      worker.on('message', (r: RunRecord | ThreadLoaded) => {
        if (skipFirst) {
          skipFirst = false;
          return;
        }
        inFlight.shift();
        try {
          onRecord(r as RunRecord);
        } catch (e) {
          return finish(() => reject(e));
        }
        if (--left === 0) return finish(resolve);
        feed();
      });
      worker.on('error', (e: Error & { code?: string }) => died(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : e.message));
      worker.on('exit', (code) => died(`exit status ${code}`));
      worker.postMessage({ scenarios } satisfies ThreadStart);
      feed();
    };
    const replace = () => use(spawn(input), true);
    for (const w of started) use(w, false);
  });
}
