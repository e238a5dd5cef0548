// The sim engine: one process, virtual time, deterministic for a seed. Builds the
// kernel, the migration network and each VM's memory model, starts every migration
// at its time and turns what happened into the result file.

import { checkSupported, hasNetwork } from '../model/scenario/support.js';
import { fluidProfile } from '../model/memory/fluid.js';
import { FluidMemory, type MigratingMemory, PagesMemory } from './migrating-memory.js';
import { Kernel } from './kernel.js';
import { cutShort, migrate, type MigrationContext } from './migration.js';
import { MigrationRecord, type SimVm, toResult } from './migration-record.js';
import { FaultInjector } from './faults.js';
import { unansweredLeasequeries } from '../model/result/rebind-faults.js';
import { MigrationNics } from './migration-nics.js';
import { Random, vmStreams } from '../model/random.js';
import { evaluateExpectations } from '../model/result/expect.js';
import { ECP_COUNTERS, type MigrationResult, type NetworkResult, type RunResult, switchPolicy } from '../model/result/format.js';
import type { Scenario, VmSpec } from '../model/scenario/types.js';
import { createWorkload } from '../model/memory/workload.js';
import { VERSION } from '../model/version.js';
import { SimLan } from './lan.js';
import { effectiveSwitch } from '../model/scenario/addressing.js';
import { IN_FLIGHT_NS, rebindFields, type SentBefore } from '../model/result/rebind-metrics.js';
import type { Ns } from '../model/time.js';

export interface RunOptions {
  /** overrides the scenario's seed */
  seed?: number;
  /** test-only fault injection: the engine "forgets" to send one page of one VM */
  forgetPage?: { vm: string; page: number };
  /**
   * Told the virtual time reached and how many migrations are done, at most every
   * PROGRESS_EVERY events (never when the run has none); it reads, never changes, the run.
   */
  onProgress?: (simNs: number, migrationsDone: number) => void;
}

/** Events between two onProgress calls: every one (a run has few, and a pre-copy round is one). */
const PROGRESS_EVERY = 1;

/** Wraps each action `kernel` schedules so that every `every`th one that runs is followed by `report()`. */
function countEvents(kernel: Kernel, every: number, report: () => void): void {
  const schedule = kernel.schedule.bind(kernel);
  let n = 0;
  kernel.schedule = (delay, action) => schedule(delay, () => {
    action();
    if (++n % every === 0) report();
  });
}

function buildMemory(s: Scenario, vm: VmSpec, rng: Random): MigratingMemory {
  if (s.fidelity === 'fluid') {
    const rate = vm.workload.kind === 'idle' || vm.workload.kind === 'trace' ? 0 : vm.workload.writeRate;
    return new FluidMemory(vm.pageSize, vm.pageCount, vm.zeroPages, rate, fluidProfile(vm.workload, vm.pageCount, vm.pageSize));
  }
  const streams = vmStreams(rng, vm.name);
  const workload = createWorkload(vm.workload, vm.pageCount, vm.pageSize, streams.workload);
  return new PagesMemory(vm.pageSize, vm.pageCount, vm.zeroPages, streams.zeroSalt, workload);
}

export function runScenario(s: Scenario, options: RunOptions = {}): RunResult {
  checkSupported(s);
  const wallStart = Date.now();
  const seed = options.seed ?? s.seed;
  const rng = new Random(seed);
  const kernel = new Kernel();
  const onProgress = options.onProgress;
  // `records` is read only when events run, after it is made below
  if (onProgress) countEvents(kernel, PROGRESS_EVERY, () => onProgress(kernel.now, records.filter((r) => r.phase === 'done').length));
  const net = new MigrationNics(kernel, s.hosts.map((h) => h.name), s.network.migrationLink);

  const vms = new Map<string, SimVm>();
  for (const spec of s.vms) {
    const memory = buildMemory(s, spec, rng);
    if (options.forgetPage?.vm === spec.name && memory instanceof PagesMemory) memory.forgetPage = options.forgetPage.page;
    vms.set(spec.name, { spec, memory, host: spec.host, migrating: false, lost: false, current: null });
  }

  const lan = hasNetwork(s) ? new SimLan(kernel, s, rng.fork('lan')) : null;
  // before the LAN starts: a count taken at an instant precedes any datagram sent at it
  const sent = lan ? countSent(kernel, s, lan) : null;
  lan?.start();

  const records = s.migrations.map((m) => new MigrationRecord(m));
  const ctx: MigrationContext = { kernel, net, lan };
  const faults = new FaultInjector(ctx, vms, s);
  ctx.crashed = faults.crashed;
  faults.schedule();
  // start in time order; at equal times, in file order (the kernel's queue is FIFO per instant)
  const order = records.slice().sort((a, b) => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index);
  for (const rec of order) {
    const vm = vms.get(rec.spec.vm)!;
    kernel.schedule(rec.spec.atNs, () => kernel.process(migrate(ctx, vm, rec)));
  }

  const endNs = kernel.run(s.durationNs);
  for (const rec of records) cutShort(rec, vms.get(rec.spec.vm)!, endNs, lan);
  lan?.stop();

  const migrations = records.map((r) => toResult(r, r.spec.mode, r.spec.vm));
  if (lan) addRebindFields(s, lan, records, migrations, endNs, sent);
  const network = lan ? networkResult(s, lan) : null;
  return {
    version: 1,
    scenario: s.name,
    description: s.description,
    file: s.file,
    engine: 'sim',
    fidelity: s.fidelity,
    seed,
    migsim: VERSION,
    durationMs: Math.round(endNs) / 1e6,
    migrations,
    expectations: evaluateExpectations(s.expect, s.migrations, migrations, network),
    network,
    faults: [...faults.reports, ...(network ? unansweredLeasequeries(network, migrations, (vm) => s.vms.find((v) => v.name === vm)!.mac) : [])]
      .sort((a, b) => (a.atMs ?? 0) - (b.atMs ?? 0)),
    wallClock: { startedAt: new Date(wallStart).toISOString(), elapsedMs: Date.now() - wallStart },
  };
}

/** Each completed move's network figures, over the window until the VM's next migration or the run's end. */
function addRebindFields(s: Scenario, lan: SimLan, records: MigrationRecord[], results: MigrationResult[], endNs: number, sent: SentBefore | null): void {
  const probeInterval = s.probe ? 1e9 / s.probe.rate : 0;
  records.forEach((rec, i) => {
    if (rec.switchoverNs === null || rec.resumeNs === null || rec.outcome === 'reverted') return;
    const next = records
      .filter((r) => r.spec.vm === rec.spec.vm && r.spec.atNs > rec.spec.atNs)
      .reduce((t, r) => Math.min(t, r.spec.atNs), endNs);
    const vm = lan.vms.get(rec.spec.vm)!;
    const fields = rebindFields(lan.sw.log, lan.probe, {
      vm, to: rec.spec.to, switchoverNs: rec.switchoverNs, resumeNs: rec.resumeNs, untilNs: next,
      ...(sent ? { sent } : {}),
    }, probeInterval);
    Object.assign(results[i]!, fields);
    if (lan.probe && vm.leasedAt === null) {
      results[i]!.unmeasured.serviceInterruptionMs = `${rec.spec.vm} never got a DHCP lease, so the probe never had its address`;
    }
  });
}

/**
 * What the multicast sources had sent by each instant a move's window can be cut at, less
 * IN_FLIGHT_NS (the metric's cut-off): a VM's next migration, the end of the run. Counted by
 * kernel entries queued before the LAN's, so a datagram sent at that very instant is not in.
 */
function countSent(kernel: Kernel, s: Scenario, lan: SimLan): SentBefore {
  const counts = new Map<Ns, number[]>();
  const instants = new Set([...s.migrations.map((m) => m.atNs), ...(s.durationNs === null ? [] : [s.durationNs])].map((t) => t - IN_FLIGHT_NS));
  for (const t of instants) {
    if (t > 0) kernel.schedule(t, () => counts.set(t, lan.sources.map((src) => src.sent)));
  }
  return (group, t) => {
    const i = s.multicastSources.findIndex((m) => m.group === group);
    if (i < 0) return null;
    if (t <= 0) return -1; // nothing is sent before the run's time 0
    const c = counts.get(t);
    return c === undefined ? null : c[i]! - 1;
  };
}

function networkResult(s: Scenario, lan: SimLan): NetworkResult {
  // the switch's own counters, then how many malformed frames were logged, then ECP's (summed over host ports)
  const all = lan.counters();
  const own = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('ecp.')));
  const ecp = Object.fromEntries(ECP_COUNTERS.map((k) => [`ecp.${k}`, all[`ecp.${k}`] ?? 0]));
  return {
    switch: switchPolicy(effectiveSwitch(s)),
    counters: { ...own, malformedLogged: Math.min(lan.sw.log.malformedCount, 100), ...ecp },
    events: lan.sw.log.events.map((e) => ({ ...e, t: Math.round(e.t) / 1e6 })),
    macs: Object.fromEntries(s.vms.map((v) => [v.name, v.mac])),
  };
}
