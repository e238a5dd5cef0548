// The CLI's exit statuses (README "Commands"), the two errors a command ends with when it
// has already said why: bad input (2) and a run that could not complete (1), and the faults
// of a run that make it a failure (1) although its result was written.

import { RUN_BREAKING_FAULTS, type RunResult } from '../model/result/format.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_TIMEOUT = 3;
export const EXIT_INTERRUPTED = 130;
/** stopped by SIGTERM (128 + 15), as a shell reports a process the signal ended */
export const EXIT_TERMINATED = 143;

/** Bad input already explained to the user: print it and leave with status 2. */
export class BadInput extends Error {}

/** A run that could not be completed (the testbed failed): print it and leave with status 1. */
export class RunFailed extends Error {}

/**
 * One line per fault the engine observed that broke the run (RUN_BREAKING_FAULTS: a component
 * that died, a switch port that lost its link, the control bus lost). Any of them makes the
 * run a failure (exit 1): its numbers are not those of a run that went as described.
 */
export function faultLines(results: RunResult[]): string[] {
  return results.flatMap((r) =>
    (r.faults ?? [])
      .filter((f) => !f.scheduled && RUN_BREAKING_FAULTS.includes(f.kind))
      .map((f) => `${r.scenario}: ${f.kind}${f.target ? ` ${f.target}` : ''}${f.atMs === null ? '' : ` at ${(f.atMs / 1000).toFixed(2)} s`}: ${f.effect}`),
  );
}
