// The testbed engine: runs a scenario on containers (`migsim run FILE --engine testbed`):
// the testbed's own checks, then set-up (run-setup.ts), time 0 to the end (run-timeline.ts,
// run-migration.ts), stop and result (run-end.ts), the topology removed also on failure. A
// run given up (run-watch.ts): a signal removes everything at once (TestbedInterrupted); a
// lost control bus ends it with what was measured. docs/testbed-wiring.md "A run, step by
// step" and "When things fail".

import { resolve } from 'node:path';
import { checkSupported, UnsupportedError } from '../model/scenario/support.js';
import type { RunResult } from '../model/result/format.js';
import type { FaultSpec, Scenario } from '../model/scenario/types.js';
import { RunContext, traceInContainer, type TestbedRunOptions } from './run-context.js';
import { setUp } from './run-setup.js';
import { runTimeline } from './run-timeline.js';
import { collect, stopAll, stopWithoutBus, tearDown } from './run-end.js';
import { TestbedInterrupted } from './errors.js';

/** The fault kinds the testbed injects (run-faults.ts). */
export const TESTBED_FAULTS: readonly FaultSpec['kind'][] = ['cancel', 'dhcp-down', 'link-down', 'link-degrade', 'host-crash', 'switch-restart', 'spoofed-associate'];

/** What the testbed cannot run, refused by field (exit 2), on top of the sim's rules. */
export function checkTestbedSupported(s: Scenario, repoDir: string): void {
  checkSupported(s);
  s.migrations.forEach((m, i) => {
    if (m.mode === 'postcopy') throw new UnsupportedError(s.file, `migrations[${i}].mode`, 'postcopy is not run by the testbed host agent (precopy and stopcopy are); use --engine sim');
  });
  const fault = s.faults.find((f) => !TESTBED_FAULTS.includes(f.kind));
  if (fault) throw new UnsupportedError(s.file, `faults[${fault.index}].kind`, `the testbed does not inject ${fault.kind} faults yet (it does ${TESTBED_FAULTS.join(', ')}); use --engine sim (docs/faults.md)`);
  s.vms.forEach((v, i) => {
    if (v.workload.kind === 'trace') traceInContainer(s, v, i, repoDir);
  });
}

/** One scenario run on the testbed; a signal on `o.signal` ends it with TestbedInterrupted. */
export async function runTestbed(s: Scenario, o: TestbedRunOptions = {}): Promise<RunResult> {
  const repoDir = o.repoDir ?? resolve(new URL('../..', import.meta.url).pathname);
  checkTestbedSupported(s, repoDir);
  const run = new RunContext(s, { ...o, repoDir });
  return execute(run);
}

async function execute(r: RunContext): Promise<RunResult> {
  const wallStart = Date.now();
  let result: RunResult | null = null;
  try {
    await r.guard(setUp(r));
    let endNs: bigint;
    try {
      endNs = await runTimeline(r);
    } catch (e) {
      // the bus lost while the timeline went: the run ends with what it measured
      if (r.aborted?.kind !== 'bus-lost') throw e;
      endNs = process.hrtime.bigint();
    }
    r.watch.phase = 'ending';
    if (!r.aborted) await Promise.race([stopAll(r), r.watch.aborted]);
    if (r.aborted?.kind === 'bus-lost') await stopWithoutBus(r);
    if (r.aborted?.kind !== 'signal') result = await collect(r, endNs, wallStart);
    // a scheduled fault that could not be injected: the run did not happen as described
    const failed = r.faultFailures;
    if (failed.length > 0 && !r.aborted) throw new Error(failed.join('; '));
  } catch (e) {
    if (r.aborted?.kind !== 'signal') {
      const diag = r.procs.filter((p) => !p.running || p.output().length > 0).map((p) => p.output()).join('\n');
      const err = e instanceof Error ? e : new Error(String(e));
      if (!(err instanceof UnsupportedError)) err.message = `${err.message}\n${diag}`;
      throw err;
    }
  } finally {
    await tearDown(r);
  }
  // a signal, also one during the collection: no result, as if it had succeeded
  const a = r.aborted;
  if (a?.kind === 'signal') throw new TestbedInterrupted(a.signal, Number(process.hrtime.bigint() - a.atNs) / 1e6);
  return result!;
}
