// The sim engine: one process, virtual time, deterministic for a seed. Builds the
// kernel, the migration network and each VM's memory model, starts every migration
// at its time and turns what happened into the result file.

import { fluidProfile } from './fluid.js';
import { FluidMemory, PagesMemory, type GuestMemory } from './guest-memory.js';
import { Kernel } from './kernel.js';
import { cutShort, migrate, MigrationRecord, toResult, type SimVm } from './migration.js';
import { MigrationNetwork } from './network.js';
import { Random } from './random.js';
import { evaluateExpectations } from './expect.js';
import type { RunResult } from './result.js';
import type { Scenario, VmSpec } from './scenario/types.js';
import { createWorkload } from './workload.js';
import { VERSION } from './version.js';

/** The scenario asks for something this engine cannot do (yet): bad input for this version, exit 2. */
export class UnsupportedError extends Error {
  constructor(readonly file: string, readonly path: string, message: string) {
    super(`${file}: ${path}: ${message}`);
    this.name = 'UnsupportedError';
  }
}

export interface RunOptions {
  /** overrides the scenario's seed */
  seed?: number;
  /** test-only fault injection: the engine "forgets" to send one page of one VM */
  forgetPage?: { vm: string; page: number };
}

/** Refuse, by name, every field this engine does not model yet — never ignore one silently. */
export function checkSupported(s: Scenario): void {
  const later = 'the edge switch and its DHCP/IGMP/probe models are not implemented in the sim engine yet (issue #3); remove this field to run the memory migration alone';
  if (s.switch) throw new UnsupportedError(s.file, 'switch', later);
  if (s.dhcp) throw new UnsupportedError(s.file, 'dhcp', later);
  if (s.multicastSources.length > 0) throw new UnsupportedError(s.file, 'multicastSources', later);
  if (s.probe) throw new UnsupportedError(s.file, 'probe', later);
  s.vms.forEach((vm, i) => {
    if (vm.multicast.length > 0) throw new UnsupportedError(s.file, `vms[${i}].multicast`, later);
    if (vm.announceOnResume !== 'none') throw new UnsupportedError(s.file, `vms[${i}].announceOnResume`, later);
    if (s.fidelity === 'fluid' && vm.workload.kind === 'trace') {
      throw new UnsupportedError(s.file, `vms[${i}].workload`, 'a trace workload has no closed form, so it needs `fidelity: pages`');
    }
  });
}

function buildMemory(s: Scenario, vm: VmSpec, rng: Random): GuestMemory {
  if (s.fidelity === 'fluid') {
    const rate = vm.workload.kind === 'idle' || vm.workload.kind === 'trace' ? 0 : vm.workload.writeRate;
    return new FluidMemory(vm.pageSize, vm.pageCount, vm.zeroPages, rate, fluidProfile(vm.workload, vm.pageCount, vm.pageSize));
  }
  const workload = createWorkload(vm.workload, vm.pageCount, vm.pageSize, rng.fork(`workload:${vm.name}`));
  return new PagesMemory(vm.pageSize, vm.pageCount, vm.zeroPages, rng.fork(`zero:${vm.name}`).u32(), workload);
}

export function runScenario(s: Scenario, options: RunOptions = {}): RunResult {
  checkSupported(s);
  const wallStart = Date.now();
  const seed = options.seed ?? s.seed;
  const rng = new Random(seed);
  const kernel = new Kernel();
  const net = new MigrationNetwork(kernel, s.hosts.map((h) => h.name), s.network.migrationLink);

  const vms = new Map<string, SimVm>();
  for (const spec of s.vms) {
    const memory = buildMemory(s, spec, rng);
    if (options.forgetPage?.vm === spec.name && memory instanceof PagesMemory) memory.forgetPage = options.forgetPage.page;
    vms.set(spec.name, { spec, memory, host: spec.host, migrating: false });
  }

  const records = s.migrations.map((m) => new MigrationRecord(m));
  // start in time order; at equal times, in file order (the kernel's queue is FIFO per instant)
  const order = records.slice().sort((a, b) => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index);
  for (const rec of order) {
    const vm = vms.get(rec.spec.vm)!;
    kernel.schedule(rec.spec.atNs, () => kernel.process(migrate({ kernel, net }, vm, rec)));
  }

  const endNs = kernel.run(s.durationNs);
  for (const rec of records) cutShort(rec, vms.get(rec.spec.vm)!, endNs);

  const migrations = records.map((r) => toResult(r, r.spec.mode, r.spec.vm));
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
    wallClock: { startedAt: new Date(wallStart).toISOString(), elapsedMs: Date.now() - wallStart },
  };
}
