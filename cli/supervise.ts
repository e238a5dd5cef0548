// A sim run the command can stop: in a worker thread (cli/sim-worker.ts) that the main
// thread terminates when --timeout is reached or on Ctrl-C, with the progress line drawn
// from what the worker reports. Used only when there is a timeout or a progress line to
// keep; otherwise the run stays in the main thread, as cheap as before.

import { Worker } from 'node:worker_threads';
import type { RunResult } from '../model/result/format.js';
import type { Scenario } from '../model/scenario/types.js';
import { MAX_TIMER_MS } from './flags.js';
import type { ProgressLine, Reached } from './progress.js';
import type { WorkerInput, WorkerMessage } from './sim-worker.js';

/** The run was stopped at --timeout; `reached` is how far it had come. */
export class TimeoutReached extends Error {
  constructor(readonly scenario: string, readonly reached: Reached, readonly migrations: number) {
    super(`timeout reached in ${scenario}`);
  }
}

/** The run was stopped by SIGINT (Ctrl-C). */
export class Interrupted extends Error {
  constructor(readonly scenario: string) {
    super(`interrupted in ${scenario}`);
  }
}

/** The worker ran out of its heap: the scenario is too big for this machine's memory. */
export class OutOfMemory extends Error {}

export interface Supervision {
  /** wall-clock instant (ms since the epoch) when runs must stop, or null */
  deadline: number | null;
  progress: ProgressLine | null;
  /** the progress line's label: the scenario, and which of how many */
  label: string;
}

/** Run `scenario` in a worker; resolves with its result, or rejects with TimeoutReached, Interrupted, OutOfMemory or the run's own error. */
export function runSupervised(scenario: Scenario, seed: number | undefined, sup: Supervision): Promise<RunResult> {
  const shared = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
  const cells = new Float64Array(shared);
  cells[0] = NaN;
  const reached = (): Reached => ({ simNs: Number.isNaN(cells[0]!) ? null : cells[0]!, migrationsDone: cells[1]! });
  const total = scenario.migrations.length;
  if (sup.deadline !== null && Date.now() >= sup.deadline) {
    return Promise.reject(new TimeoutReached(scenario.name, reached(), total));
  }
  const input: WorkerInput = { scenario, ...(seed === undefined ? {} : { seed }), reached: shared };
  const worker = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData: input, stdout: false, stderr: false });
  return new Promise<RunResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSigint);
      sup.progress?.end();
      void worker.terminate();
      fn();
    };
    const onSigint = (): void => settle(() => reject(new Interrupted(scenario.name)));
    process.on('SIGINT', onSigint);
    const arm = (): void => {
      if (sup.deadline === null) return;
      const left = sup.deadline - Date.now();
      if (left <= 0) return settle(() => reject(new TimeoutReached(scenario.name, reached(), total)));
      // a timer longer than Node keeps (~24.8 days) is re-armed
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
    sup.progress?.begin(sup.label, total, reached);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'result') settle(() => resolve(m.result));
      else {
        const e = new Error(m.message);
        e.name = m.name;
        if (m.stack) e.stack = m.stack;
        settle(() => reject(e));
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') settle(() => reject(new OutOfMemory(`${scenario.name}: the simulation ran out of memory`)));
      else settle(() => reject(e));
    });
    worker.on('exit', (code) => settle(() => reject(new Error(`the simulation's worker stopped (exit status ${code}) before it gave a result`))));
  });
}
