// The sim engine: one process, virtual time, deterministic for a seed. Builds the
// kernel, the migration network and each VM's memory model, starts every migration
// at its time and turns what happened into the result file.

import { checkSupported, hasNetwork } from '../model/scenario/support.js';
import { fluidProfile } from '../model/memory/fluid.js';
import { FluidMemory, type MigratingMemory, PagesMemory } from './migrating-memory.js';
import { Kernel } from './kernel.js';
import { cutShort, migrate, MigrationRecord, type SimVm, toResult } from './migration.js';
import { MigrationNics } from './migration-nics.js';
import { Random, vmStreams } from '../model/random.js';
import { evaluateExpectations } from '../model/result/expect.js';
import { ECP_COUNTERS, type MigrationResult, type NetworkResult, type RunResult, switchPolicy } from '../model/result/format.js';
import type { Scenario, VmSpec } from '../model/scenario/types.js';
import { createWorkload } from '../model/memory/workload.js';
import { VERSION } from '../model/version.js';
import { SimLan } from './lan.js';
import { effectiveSwitch } from '../model/scenario/addressing.js';
import { rebindFields } from '../model/result/rebind-metrics.js';

export interface RunOptions {
  /** overrides the scenario's seed */
  seed?: number;
  /** test-only fault injection: the engine "forgets" to send one page of one VM */
  forgetPage?: { vm: string; page: number };
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
  const net = new MigrationNics(kernel, s.hosts.map((h) => h.name), s.network.migrationLink);

  const vms = new Map<string, SimVm>();
  for (const spec of s.vms) {
    const memory = buildMemory(s, spec, rng);
    if (options.forgetPage?.vm === spec.name && memory instanceof PagesMemory) memory.forgetPage = options.forgetPage.page;
    vms.set(spec.name, { spec, memory, host: spec.host, migrating: false });
  }

  const lan = hasNetwork(s) ? new SimLan(kernel, s, rng.fork('lan')) : null;
  lan?.start();

  const records = s.migrations.map((m) => new MigrationRecord(m));
  // start in time order; at equal times, in file order (the kernel's queue is FIFO per instant)
  const order = records.slice().sort((a, b) => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index);
  for (const rec of order) {
    const vm = vms.get(rec.spec.vm)!;
    kernel.schedule(rec.spec.atNs, () => kernel.process(migrate({ kernel, net, lan }, vm, rec)));
  }

  const endNs = kernel.run(s.durationNs);
  for (const rec of records) cutShort(rec, vms.get(rec.spec.vm)!, endNs, lan);
  lan?.stop();

  const migrations = records.map((r) => toResult(r, r.spec.mode, r.spec.vm));
  if (lan) addRebindFields(s, lan, records, migrations, endNs);
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
    expectations: evaluateExpectations(s.expect, s.migrations, migrations),
    network: lan ? networkResult(s, lan) : null,
    wallClock: { startedAt: new Date(wallStart).toISOString(), elapsedMs: Date.now() - wallStart },
  };
}

/** Each completed move's network figures, over the window until the VM's next migration or the run's end. */
function addRebindFields(s: Scenario, lan: SimLan, records: MigrationRecord[], results: MigrationResult[], endNs: number): void {
  const probeInterval = s.probe ? 1e9 / s.probe.rate : 0;
  records.forEach((rec, i) => {
    if (rec.switchoverNs === null || rec.resumeNs === null || rec.outcome === 'reverted') return;
    const next = records
      .filter((r) => r.spec.vm === rec.spec.vm && r.spec.atNs > rec.spec.atNs)
      .reduce((t, r) => Math.min(t, r.spec.atNs), endNs);
    const fields = rebindFields(lan.sw.log, lan.probe, {
      vm: lan.vms.get(rec.spec.vm)!, to: rec.spec.to, switchoverNs: rec.switchoverNs, resumeNs: rec.resumeNs, untilNs: next,
    }, probeInterval);
    Object.assign(results[i]!, fields);
  });
}

function networkResult(s: Scenario, lan: SimLan): NetworkResult {
  const ecp = Object.fromEntries(ECP_COUNTERS.map((k) => [`ecp.${k}`, 0]));
  for (const h of s.hosts) {
    const st = lan.sw.portByName(h.name)?.ecp?.stats;
    if (st) for (const k of ECP_COUNTERS) ecp[`ecp.${k}`]! += st[k];
  }
  return {
    switch: switchPolicy(effectiveSwitch(s)),
    counters: { ...lan.sw.counters, malformedLogged: Math.min(lan.sw.log.malformedCount, 100), ...ecp },
    events: lan.sw.log.events.map((e) => ({ ...e, t: Math.round(e.t) / 1e6 })),
  };
}
