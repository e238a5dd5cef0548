// The cross-field pass: the schema's output (raw, each field valid on its own) → the
// normalized Scenario of types.ts, checking what spans fields — host and VM references,
// unique names and MACs, migration order, host capacity, `expect:` keys — and reading trace files.

import * as nodePath from 'node:path';
import { EXPECTABLE_FIELDS, type ExpectableField, type Outcome } from './expectable.js';
import { formatBytes, formatDuration } from '../units.js';
import { defaultMac } from './defaults.js';
import type { PathSegment } from './errors.js';
import type { Problems } from './problems.js';
import type { RawBound, RawMigration, RawScenario, RawVm, RawWorkload } from './schema.js';
import { readTrace } from './trace.js';
import type { Expectation, HostSpec, MigrationSpec, Scenario, VmSpec, WorkloadSpec } from './types.js';

export function normalize(raw: RawScenario, file: string, problems: Problems): Scenario {
  const hosts = normalizeHosts(raw, problems);
  const hostNames = new Set(hosts.map((h) => h.name));
  const vms = raw.vms.map((vm, i) => normalizeVm(vm, i, hostNames, file, problems));
  checkUniqueVms(vms, problems);
  const migrations = normalizeMigrations(raw, vms, hostNames, problems);
  checkCapacity(hosts, vms, migrations, problems);
  const expect = normalizeExpect(raw.expect, vms, migrations, problems);

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
        }
      : null,
    vms,
    migrations,
    expect,
  };
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length > 0 ? all.join(', ') : '(none)';
}

function normalizeHosts(raw: RawScenario, problems: Problems): HostSpec[] {
  const seen = new Map<string, number>();
  return raw.hosts.map((h, i) => {
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

function normalizeVm(vm: RawVm, i: number, hosts: Set<string>, file: string, problems: Problems): VmSpec {
  const at = (...rest: PathSegment[]) => ['vms', i, ...rest];
  if (!hosts.has(vm.host)) problems.add(at('host'), `one of the hosts: ${list(hosts)}`);

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
    workload: normalizeWorkload(vm, pageCount, at('workload'), file, problems),
  };
}

function normalizeWorkload(
  vm: RawVm,
  pageCount: number,
  path: PathSegment[],
  file: string,
  problems: Problems,
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
      const trace = readTrace(traceFile, pageCount, [...path, 'file'], w.loop, problems);
      return { kind: 'trace', file: traceFile, trace, loop: w.loop };
    }
  }
}

function checkUniqueVms(vms: VmSpec[], problems: Problems): void {
  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  vms.forEach((vm, i) => {
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
      const other = vms[sameMac]?.name ?? '';
      problems.add(['vms', i, 'mac'], 'a MAC unique across VMs', {
        problem: `${vm.name}'s MAC ${vm.mac} is also ${other}'s`,
      });
    } else {
      macs.set(vm.mac, i);
    }
  });
}

/** Migration indices in the order they start: by `at`, ties in file order. */
function startOrder(migrations: readonly { atNs: number }[]): number[] {
  return migrations.map((_, i) => i).sort((a, b) => (migrations[a]?.atNs ?? 0) - (migrations[b]?.atNs ?? 0));
}

function normalizeMigrations(
  raw: RawScenario,
  vms: VmSpec[],
  hosts: Set<string>,
  problems: Problems,
): MigrationSpec[] {
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const where = new Map(vms.map((v) => [v.name, v.host]));
  const specs: MigrationSpec[] = raw.migrations.map((m: RawMigration, index) => ({
    index,
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
  }));

  for (const k of startOrder(specs)) {
    const m = specs[k];
    if (!m) continue;
    const at = (field: string) => ['migrations', k, field];
    if (raw.duration !== undefined && m.atNs >= raw.duration) {
      problems.add(at('at'), `a start before the end of the run (duration ${formatDuration(raw.duration)})`);
    }
    const current = where.get(m.vm);
    if (!vmByName.has(m.vm) || current === undefined) {
      problems.add(at('vm'), `one of the VMs: ${list(vmByName.keys())}`);
      continue;
    }
    m.from = current;
    if (!hosts.has(m.to)) {
      problems.add(at('to'), `one of the hosts: ${list(hosts)}`);
      continue;
    }
    if (m.to === current) {
      problems.add(at('to'), `a host other than ${current}`, {
        problem: `${m.vm} is already on ${current} at ${formatDuration(m.atNs)}`,
      });
      continue;
    }
    where.set(m.vm, m.to);
  }
  return specs;
}

/**
 * Host memory, when given, must hold what is placed on it: first the initial placement
 * (file order), then each migration's destination as it starts (the VM leaves its source then).
 */
function checkCapacity(hosts: HostSpec[], vms: VmSpec[], migrations: MigrationSpec[], problems: Problems): void {
  const capacity = new Map(hosts.map((h) => [h.name, h.memoryBytes]));
  const placed = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const used = (host: string) =>
    (placed.get(host) ?? []).reduce((sum, name) => sum + (vmByName.get(name)?.memoryBytes ?? 0), 0);

  /** Returns false (after reporting) when `vm` does not fit on `host`. */
  const place = (vm: VmSpec, host: string, path: PathSegment[], when: string): boolean => {
    const cap = capacity.get(host);
    const here = placed.get(host);
    if (cap === undefined || here === undefined) return false; // unknown host: reported elsewhere
    if (cap !== null) {
      if (vm.memoryBytes > cap) {
        problems.add(path, `a host with at least ${formatBytes(vm.memoryBytes)} of memory`, {
          problem: `${vm.name} needs ${formatBytes(vm.memoryBytes)} but ${host} has ${formatBytes(cap)}`,
        });
        return false;
      }
      const total = used(host) + vm.memoryBytes;
      if (total > cap) {
        problems.add(path, `VMs on ${host} that fit in its ${formatBytes(cap)}`, {
          problem: `${host} would hold ${formatBytes(total)}${when} (${[...here, vm.name].join(', ')})`,
        });
        return false;
      }
    }
    here.push(vm.name);
    return true;
  };

  vms.forEach((vm, i) => {
    const cap = capacity.get(vm.host);
    const tooBig = cap !== undefined && cap !== null && vm.memoryBytes > cap;
    place(vm, vm.host, ['vms', i, tooBig ? 'memory' : 'host'], '');
  });

  for (const k of startOrder(migrations)) {
    const m = migrations[k];
    const vm = m ? vmByName.get(m.vm) : undefined;
    if (!m || !vm || m.from === '' || !capacity.has(m.to) || m.to === m.from) continue;
    const from = placed.get(m.from);
    const idx = from?.indexOf(vm.name) ?? -1;
    if (from && idx >= 0) from.splice(idx, 1);
    place(vm, m.to, ['migrations', k, 'to'], ` at ${formatDuration(m.atNs)}`);
  }
}

/** Outcome values an `equals` may name; `satisfies` keeps it in step with result.ts. */
const OUTCOMES = ['completed', 'reverted', 'failed'] as const satisfies readonly Outcome[];

const EXPECT_KEY = /^([A-Za-z0-9_-]+)(?:\[(\d+)\])?\.([A-Za-z0-9_]+)$/;

function isExpectable(field: string): field is ExpectableField {
  return Object.prototype.hasOwnProperty.call(EXPECTABLE_FIELDS, field);
}

function normalizeExpect(
  raw: Record<string, RawBound>,
  vms: VmSpec[],
  migrations: MigrationSpec[],
  problems: Problems,
): Expectation[] {
  const vmNames = new Set(vms.map((v) => v.name));
  const counts = new Map<string, number>();
  for (const m of migrations) counts.set(m.vm, (counts.get(m.vm) ?? 0) + 1);
  const out: Expectation[] = [];

  for (const [key, bound] of Object.entries(raw)) {
    const keyPath: PathSegment[] = ['expect', key];
    const m = EXPECT_KEY.exec(key);
    if (!m) {
      problems.add(keyPath, 'a key VM.FIELD or VM[N].FIELD such as vm1.downtimeMs', {
        problem: `bad key ${JSON.stringify(key)}`,
        key: true,
      });
      continue;
    }
    const [, vm = '', n, field = ''] = m;
    if (!vmNames.has(vm)) {
      problems.add(keyPath, `a VM from vms: ${list(vmNames)}`, { problem: `no VM ${JSON.stringify(vm)}`, key: true });
      continue;
    }
    const count = counts.get(vm) ?? 0;
    const migration = n === undefined ? null : Number(n);
    if (count === 0) {
      problems.add(keyPath, 'a VM that is migrated', { problem: `${vm} has no migrations`, key: true });
      continue;
    }
    if (migration !== null && migration >= count) {
      problems.add(keyPath, `an index from 0 to ${count - 1}`, {
        problem: `${vm} has ${count} migration${count === 1 ? '' : 's'}, so there is no ${vm}[${migration}]`,
        key: true,
      });
      continue;
    }
    if (!isExpectable(field)) {
      problems.add(keyPath, `a result field: ${Object.keys(EXPECTABLE_FIELDS).join(', ')}`, {
        problem: `no result field ${JSON.stringify(field)}`,
        key: true,
      });
      continue;
    }
    if (checkBound(key, field, bound, problems)) {
      const e: Expectation = { key, vm, migration, field };
      if (bound.min !== undefined) e.min = bound.min;
      if (bound.max !== undefined) e.max = bound.max;
      if (bound.equals !== undefined) e.equals = bound.equals;
      out.push(e);
    }
  }
  return out;
}

/** The bound fits the field's kind; reports and returns false when not. */
function checkBound(key: string, field: ExpectableField, b: RawBound, problems: Problems): boolean {
  const path: PathSegment[] = ['expect', key];
  const kind = EXPECTABLE_FIELDS[field];
  const hasRange = b.min !== undefined || b.max !== undefined;
  if (!hasRange && b.equals === undefined) {
    problems.add(path, 'at least one of min, max, equals', { problem: 'an empty bound' });
    return false;
  }
  if (hasRange && b.equals !== undefined) {
    problems.add([...path, 'equals'], 'either equals or min/max', { problem: 'equals with min/max' , key: true });
    return false;
  }
  if (hasRange && kind !== 'number') {
    problems.add([...path, b.min !== undefined ? 'min' : 'max'], `equals: ${field} is a ${kind}`, {
      problem: `min/max on a ${kind} field`,
      key: true,
    });
    return false;
  }
  if (b.min !== undefined && b.max !== undefined && b.min > b.max) {
    problems.add([...path, 'min'], `min ≤ max (${b.max})`);
    return false;
  }
  if (b.equals !== undefined) {
    if (typeof b.equals !== kind) {
      problems.add([...path, 'equals'], kind === 'boolean' ? 'true or false' : `a ${kind}`);
      return false;
    }
    if (field === 'outcome' && !(OUTCOMES as readonly unknown[]).includes(b.equals)) {
      problems.add([...path, 'equals'], `one of ${OUTCOMES.join(', ')}`);
      return false;
    }
  }
  return true;
}
