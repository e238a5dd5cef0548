// The testbed engine: runs a scenario on containers (`migsim run FILE --engine testbed`):
// the testbed's own checks, then set-up (run-setup.ts), time 0 to the end (run-timeline.ts,
// run-migration.ts), stop and result (run-end.ts), the topology removed also on failure.
// The run's sequence: docs/testbed-wiring.md "A run, step by step".

import { resolve } from 'node:path';
import { checkSupported, UnsupportedError } from '../model/scenario/support.js';
import type { RunResult } from '../model/result/format.js';
import type { Scenario } from '../model/scenario/types.js';
import { RunContext, traceInContainer, type TestbedRunOptions } from './run-context.js';
import { setUp } from './run-setup.js';
import { runTimeline } from './run-timeline.js';
import { collect, stopAll, tearDown } from './run-end.js';


/** What the testbed cannot run, refused by field (exit 2), on top of the sim's rules. */
export function checkTestbedSupported(s: Scenario, repoDir: string): void {
  checkSupported(s);
  s.migrations.forEach((m, i) => {
    if (m.mode === 'postcopy') throw new UnsupportedError(s.file, `migrations[${i}].mode`, 'postcopy is not run by the testbed host agent (precopy and stopcopy are); use --engine sim');
  });
  s.vms.forEach((v, i) => {
    if (v.workload.kind === 'trace') traceInContainer(s, v, i, repoDir);
  });
}

/** One scenario run on the testbed. */
export async function runTestbed(s: Scenario, o: TestbedRunOptions = {}): Promise<RunResult> {
  const repoDir = o.repoDir ?? resolve(new URL('../..', import.meta.url).pathname);
  checkTestbedSupported(s, repoDir);
  const run = new RunContext(s, { ...o, repoDir });
  return execute(run);
}

async function execute(r: RunContext): Promise<RunResult> {
  const wallStart = Date.now();
  try {
    await setUp(r);
    const endNs = await runTimeline(r);
    await stopAll(r);
    return await collect(r, endNs, wallStart);
  } catch (e) {
    const diag = r.procs.filter((p) => !p.running || p.output().length > 0).map((p) => p.output()).join('\n');
    const err = e instanceof Error ? e : new Error(String(e));
    if (!(err instanceof UnsupportedError)) err.message = `${err.message}\n${diag}`;
    throw err;
  } finally {
    await tearDown(r);
  }
}
