// The cross-field pass: the schema's output (raw, each field valid on its own) → the
// normalized Scenario of types.ts, checking what spans fields — host and VM references,
// unique names and MACs, migration order and overlap, host capacity, fields a mode ignores,
// groups no source sends, `expect:` keys — and reading trace files. After schema errors it
// runs on what the schema could read (Gaps: the entries it dropped), so one pass reports all.

import { normalizeExpect } from './expectations.js';
import { normalizeFaults } from './faults.js';
import { checkCapacity } from './capacity.js';
import { type Gaps, list, maybe, startOrder } from './gaps.js';
import * as nodePath from 'node:path';
import { formatBytes, formatDuration } from '../units.js';
import { defaultMac } from './defaults.js';
import type { PathSegment } from './errors.js';
import type { Problems } from './problems.js';
import type { RawMigration, RawScenario, RawVm, RawWorkload } from './schema.js';
import { readTrace } from './trace.js';
import type { HostSpec, MigrationSpec, Scenario, VmSpec, WorkloadSpec } from './types.js';

export interface NormalizeOptions {
  /** the file's value before the schema (to tell a field written from a default) */
  source?: unknown;
  /** read trace files outside the scenario's directory */
  allowOutside?: boolean;
  gaps?: Gaps | null;
}

/** The value written at `path` in the file (undefined if absent). */
function written(source: unknown, path: readonly PathSegment[]): unknown {
  let v = source;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Object.prototype.hasOwnProperty.call(v, seg) ? (v as Record<PathSegment, unknown>)[seg] : undefined;
  }
  return v;
}

export function normalize(raw: RawScenario, file: string, problems: Problems, opts: NormalizeOptions = {}): Scenario {
  const gaps = opts.gaps ?? null;
  const hosts = normalizeHosts(raw, problems, gaps);
  const hostNames = new Set(hosts.map((h) => h.name));
  const vmAt = (i: number) => gaps?.index.vms[i] ?? i;
  const vms = raw.vms.map((vm, i) => normalizeVm(vm, vmAt(i), hostNames, file, problems, opts));
  checkUniqueVms(vms, problems, vmAt);
  const migrations = normalizeMigrations(raw, vms, hostNames, problems, opts);
  checkCapacity(hosts, vms, migrations, problems, gaps, vmAt);
  checkGroups(raw, vms, problems, gaps, vmAt);
  const expect = normalizeExpect(raw.expect, vms, migrations, problems, gaps);
  const faults = normalizeFaults(raw, hostNames, vms, new Set(migrations.map((m) => m.vm)), problems);

  return {
    file,
    name: raw.name,
    description: raw.description,
    seed: raw.seed,
    engine: raw.engine,
    fidelity: raw.fidelity,
    durationNs: raw.duration ?? null,
    hosts,
    network: {
      migrationLink: { bandwidthBps: raw.network.migrationLink.bandwidth, latencyNs: raw.network.migrationLink.latency },
      accessLink: { bandwidthBps: raw.network.accessLink.bandwidth, latencyNs: raw.network.accessLink.latency },
      keepalive: { intervalNs: raw.network.keepalive.interval, count: raw.network.keepalive.count },
    },
    dhcp: raw.dhcp ? { subnet: raw.dhcp.subnet, leaseTimeNs: raw.dhcp.leaseTime } : null,
    multicastSources: raw.multicastSources.map((m) => ({ group: m.group, rate: m.rate, sizeBytes: m.size })),
    probe: raw.probe ? { rate: raw.probe.rate } : null,
    switch: raw.switch
      ? {
          vdp: raw.switch.vdp,
          dhcpRebind: raw.switch.dhcpRebind,
          igmpRebind: raw.switch.igmpRebind,
          ipSourceGuard: raw.switch.ipSourceGuard,
          igmpQueryIntervalNs: raw.switch.igmpQueryInterval,
          bindingDatabase: raw.switch.bindingDatabase,
          dhcpRebindFallback: raw.switch.dhcpRebindFallback,
        }
      : null,
    vms,
    migrations,
    faults,
    expect,
  };
}

function normalizeHosts(raw: RawScenario, problems: Problems, gaps: Gaps | null): HostSpec[] {
  const seen = new Map<string, number>();
  return raw.hosts.map((h, k) => {
    const i = gaps?.index.hosts[k] ?? k;
    const first = seen.get(h.name);
    if (first !== undefined) {
      problems.add(['hosts', i, 'name'], 'unique host names', {
        problem: `host ${JSON.stringify(h.name)} is listed twice (also hosts[${first}])`,
      });
    } else {
      seen.set(h.name, i);
    }
    return { name: h.name, memoryBytes: h.memory ?? null };
  });
}

function normalizeVm(vm: RawVm, i: number, hosts: Set<string>, file: string, problems: Problems, opts: NormalizeOptions): VmSpec {
  const at = (...rest: PathSegment[]) => ['vms', i, ...rest];
  if (!hosts.has(vm.host) && !maybe(opts.gaps?.droppedHosts, vm.host)) problems.add(at('host'), `one of the hosts: ${list(hosts)}`);

  const whole = vm.memory % vm.pageSize === 0;
  if (!whole) {
    problems.add(at('memory'), `a multiple of the page size (${formatBytes(vm.pageSize)})`);
  }
  const pageCount = Math.floor(vm.memory / vm.pageSize);

  return {
    name: vm.name,
    host: vm.host,
    memoryBytes: vm.memory,
    pageSize: vm.pageSize,
    pageCount,
    mac: vm.mac ?? defaultMac(i + 1),
    vlan: vm.vlan,
    vsiType: { id: vm.vsiType.id, version: vm.vsiType.version },
    multicast: vm.multicast,
    announceOnResume: vm.announceOnResume,
    zeroPages: vm.zeroPages,
    workload: normalizeWorkload(vm, pageCount, at('workload'), file, problems, opts),
  };
}

function normalizeWorkload(
  vm: RawVm,
  pageCount: number,
  path: PathSegment[],
  file: string,
  problems: Problems,
  opts: NormalizeOptions,
): WorkloadSpec {
  const w: RawWorkload = vm.workload;
  switch (w.kind) {
    case 'idle':
      return { kind: 'idle' };
    case 'uniform':
    case 'sequential':
      return { kind: w.kind, writeRate: w.writeRate };
    case 'zipf':
      return { kind: 'zipf', writeRate: w.writeRate, skew: w.skew };
    case 'hotset':
      if (w.hotset < vm.pageSize || w.hotset > vm.memory) {
        problems.add(
          [...path, 'hotset'],
          `a size from one page (${formatBytes(vm.pageSize)}) to the VM's memory (${formatBytes(vm.memory)})`,
        );
      }
      return { kind: 'hotset', writeRate: w.writeRate, hotsetBytes: w.hotset };
    case 'trace': {
      const traceFile = nodePath.isAbsolute(w.file) ? w.file : nodePath.join(nodePath.dirname(file), w.file);
      const trace = readTrace(traceFile, pageCount, [...path, 'file'], w.loop, problems, {
        root: nodePath.dirname(nodePath.resolve(file)),
        allowOutside: opts.allowOutside ?? false,
      });
      return { kind: 'trace', file: traceFile, trace, loop: w.loop };
    }
  }
}

function checkUniqueVms(vms: VmSpec[], problems: Problems, vmAt: (i: number) => number): void {
  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  vms.forEach((vm, k) => {
    const i = vmAt(k);
    const sameName = names.get(vm.name);
    if (sameName !== undefined) {
      problems.add(['vms', i, 'name'], 'unique VM names', {
        problem: `VM ${JSON.stringify(vm.name)} is defined twice (also vms[${sameName}])`,
      });
    } else {
      names.set(vm.name, i);
    }
    const sameMac = macs.get(vm.mac);
    if (sameMac !== undefined) {
      const other = vms.find((_, j) => vmAt(j) === sameMac)?.name ?? '';
      problems.add(['vms', i, 'mac'], 'a MAC unique across VMs', {
        problem: `${vm.name}'s MAC ${vm.mac} is also ${other}'s`,
      });
    } else {
      macs.set(vm.mac, i);
    }
  });
}

/** Migration indices in the order they start: by `at`, ties in file order. */

/** Fields post-copy ignores (it has no live rounds): refused when written, so nothing is ignored silently. */
const ROUND_FIELDS = ['maxRounds', 'autoConverge'] as const;
/** Auto-converge's tuning: refused when written without `autoConverge: true`, as libvirt does ("Turn auto convergence on to tune it"). */
const THROTTLE_FIELDS = ['throttleInitial', 'throttleIncrement'] as const;

function normalizeMigrations(
  raw: RawScenario,
  vms: VmSpec[],
  hosts: Set<string>,
  problems: Problems,
  opts: NormalizeOptions,
): MigrationSpec[] {
  const gaps = opts.gaps ?? null;
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const where = new Map(vms.map((v) => [v.name, v.host]));
  /** per VM: its last migration that moved it */
  const busy = new Map<string, { index: number; atNs: number }>();
  const specs: MigrationSpec[] = raw.migrations.map((m: RawMigration, k) => ({
    index: gaps?.index.migrations[k] ?? k,
    vm: m.vm,
    from: '',
    to: m.to,
    atNs: m.at,
    mode: m.mode,
    downtimeLimitNs: m.downtimeLimit,
    maxRounds: m.maxRounds,
    bandwidthBps: m.bandwidth ?? null,
    deviceStateBytes: m.deviceState,
    autoConverge: m.autoConverge,
    throttleInitialPct: m.throttleInitial,
    throttleIncrementPct: m.throttleIncrement,
    postcopyAfterRounds: m.postcopyAfterRounds,
    timeoutNs: m.timeout ?? null,
  }));

  for (const k of startOrder(specs)) {
    const m = specs[k];
    if (!m) continue;
    const at = (field: string) => ['migrations', m.index, field];
    if (raw.duration !== undefined && m.atNs >= raw.duration) {
      problems.add(at('at'), `a start before the end of the run (duration ${formatDuration(raw.duration)})`);
    }
    if (m.mode === 'postcopy') {
      for (const field of ROUND_FIELDS) {
        const v = written(opts.source, ['migrations', m.index, field]);
        if (v === undefined || (field === 'autoConverge' && v === false)) continue;
        // with postcopyAfterRounds ≥ 1 it has live rounds: auto-converge acts in them, their number is postcopyAfterRounds
        if (field === 'autoConverge' && m.postcopyAfterRounds > 0) continue;
        const why = m.postcopyAfterRounds > 0 ? 'postcopyAfterRounds is its number of live rounds' : 'it has no live rounds';
        problems.add(at(field), `no ${field} with mode: ${m.mode} (${why})`, {
          problem: `${field} is ignored by ${m.mode}`,
          key: true,
        });
      }
    } else if (written(opts.source, ['migrations', m.index, 'postcopyAfterRounds']) !== undefined) {
      problems.add(at('postcopyAfterRounds'), `no postcopyAfterRounds with mode: ${m.mode} (only mode: postcopy switches to post-copy)`, {
        problem: `postcopyAfterRounds is ignored by ${m.mode}`,
        key: true,
      });
    }
    if (!m.autoConverge) {
      for (const field of THROTTLE_FIELDS) {
        if (written(opts.source, ['migrations', m.index, field]) === undefined) continue;
        problems.add(at(field), `no ${field} without autoConverge: true (turn auto-convergence on to tune it)`, {
          problem: `${field} is ignored without autoConverge`,
          key: true,
        });
      }
    }
    const current = where.get(m.vm);
    if (!vmByName.has(m.vm) || current === undefined) {
      if (!maybe(gaps?.droppedVms, m.vm)) problems.add(at('vm'), `one of the VMs: ${list(vmByName.keys())}`);
      continue;
    }
    const uncertain = maybe(gaps?.vmsWithDroppedMigrations, m.vm);
    m.from = current;
    if (!hosts.has(m.to)) {
      if (!maybe(gaps?.droppedHosts, m.to)) problems.add(at('to'), `one of the hosts: ${list(hosts)}`);
      continue;
    }
    const previous = busy.get(m.vm);
    // two moves of one VM at one instant: the second would start from where the first is going
    // (a later start while the first still runs is the engines' to judge: the sim fails it with
    // its reason, the testbed queues it)
    if (previous && !uncertain && m.atNs === previous.atNs) {
      problems.add(at('at'), `a start after ${m.vm}'s previous migration (one migration of a VM at a time)`, {
        problem: `migrations[${previous.index}] also moves ${m.vm} at ${formatDuration(m.atNs)}`,
      });
      continue;
    }
    if (m.to === current) {
      if (!uncertain) {
        problems.add(at('to'), `a host other than ${current}`, {
          problem: `${m.vm} is already on ${current} at ${formatDuration(m.atNs)}`,
        });
      }
      continue;
    }
    busy.set(m.vm, { index: m.index, atNs: m.atNs });
    where.set(m.vm, m.to);
  }
  return specs;
}

/** A VM joining a group no source sends measures nothing: refused, not run silently. */
function checkGroups(raw: RawScenario, vms: VmSpec[], problems: Problems, gaps: Gaps | null, vmAt: (i: number) => number): void {
  if (gaps?.droppedSources || gaps?.dropped.has('multicastSources')) return;
  const sent = new Set(raw.multicastSources.map((m) => m.group));
  vms.forEach((vm, k) => {
    vm.multicast.forEach((group, j) => {
      if (sent.has(group)) return;
      problems.add(['vms', vmAt(k), 'multicast', j], `a group one of multicastSources sends (${sent.size > 0 ? [...sent].join(', ') : 'there are none'})`, {
        problem: `${vm.name} joins ${group}, which no multicast source sends`,
      });
    });
  });
}
