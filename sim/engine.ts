// The sim engine: one process, virtual time, deterministic for a seed. Builds the
// kernel, the migration network and each VM's memory model, starts every migration
// at its time and turns what happened into the result file.

import { fluidProfile } from '../model/memory/fluid.js';
import { FluidMemory, PagesMemory, type GuestMemory } from './migrating-memory.js';
import { Kernel } from './kernel.js';
import { cutShort, migrate, MigrationRecord, toResult, type SimVm } from './migration.js';
import { MigrationNetwork } from './migration-nics.js';
import { Random } from '../model/random.js';
import { evaluateExpectations } from '../model/result/expect.js';
import { ECP_COUNTERS, switchPolicy, type MigrationResult, type RunResult } from '../model/result/format.js';
import type { Scenario, VmSpec } from '../model/scenario/types.js';
import { createWorkload } from '../model/memory/workload.js';
import { VERSION } from '../model/version.js';
import { SimLan } from './lan.js';
import { addressing, effectiveSwitch } from '../model/scenario/addressing.js';
import { rebindFields } from '../model/result/rebind-metrics.js';
import { ipToU32 } from '../wire/fields.js';
import type { NetworkResult } from '../model/result/format.js';

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

/** Whether the scenario has a data network to simulate besides the memory migration. */
export function hasNetwork(s: Scenario): boolean {
  return s.switch !== null || s.dhcp !== null || s.probe !== null || s.multicastSources.length > 0 || s.vms.some((v) => v.multicast.length > 0);
}

/** What this engine cannot run, refused by field — never ignored silently. */
export function checkSupported(s: Scenario): void {
  s.vms.forEach((vm, i) => {
    if (s.fidelity === 'fluid' && vm.workload.kind === 'trace') {
      throw new UnsupportedError(s.file, `vms[${i}].workload`, 'a trace workload has no closed form, so it needs `fidelity: pages`');
    }
  });
  if (!hasNetwork(s)) return;
  if (s.durationNs === null) {
    throw new UnsupportedError(s.file, 'duration', 'a scenario with a network (switch, dhcp, probe, multicast) needs a duration: its traffic never ends by itself');
  }
  if (!s.dhcp) {
    if (s.probe) throw new UnsupportedError(s.file, 'probe', 'the probe needs `dhcp`: the VMs get their addresses from it');
    if (s.switch?.dhcpRebind && s.switch.dhcpRebind !== 'none') throw new UnsupportedError(s.file, 'switch.dhcpRebind', 'DHCP rebind needs `dhcp`');
    if (s.vms.some((v) => v.multicast.length > 0)) throw new UnsupportedError(s.file, 'vms', 'joining multicast groups needs `dhcp`: a guest reports groups once it has an address');
    return;
  }
  const vlans = new Set(s.vms.map((v) => v.vlan));
  if (vlans.size > 1) throw new UnsupportedError(s.file, 'vms', `one DHCP subnet serves one VLAN, but the VMs are on VLANs ${[...vlans].join(', ')}`);
  const a = addressing(s.dhcp.subnet, s.multicastSources.length);
  const poolSize = ipToU32(a.poolLast) - ipToU32(a.poolFirst) + 1;
  if (!(poolSize >= s.vms.length)) {
    throw new UnsupportedError(s.file, 'dhcp.subnet', `${s.dhcp.subnet} leaves ${Math.max(0, poolSize)} addresses for ${s.vms.length} VMs (the sim keeps .1–.${3 + s.multicastSources.length} and the last two)`);
  }
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
