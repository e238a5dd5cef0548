// Build normalized Scenario objects directly, so engine tests do not depend on the YAML loader.
import type { MigrationSpec, Scenario, VmSpec, WorkloadSpec } from './types.js';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
export const KiB = 1024;
export const ms = 1e6;
export const us = 1e3;
export const s = 1e9;

export function vm(over: Partial<VmSpec> & { workload?: WorkloadSpec } = {}): VmSpec {
  const memoryBytes = over.memoryBytes ?? 256 * MiB;
  const pageSize = over.pageSize ?? 4 * KiB;
  return {
    name: 'vm1',
    host: 'h1',
    mac: '02:00:00:00:00:01',
    vlan: 1,
    vsiType: { id: 1, version: 1 },
    multicast: [],
    announceOnResume: 'none',
    zeroPages: 0,
    workload: { kind: 'idle' },
    ...over,
    memoryBytes,
    pageSize,
    pageCount: memoryBytes / pageSize,
  };
}

export function migration(over: Partial<MigrationSpec> = {}): MigrationSpec {
  return {
    index: 0,
    vm: 'vm1',
    from: 'h1',
    to: 'h2',
    atNs: 1 * s,
    mode: 'precopy',
    downtimeLimitNs: 300 * ms,
    maxRounds: 30,
    bandwidthBps: null,
    deviceStateBytes: 256 * KiB,
    autoConverge: false,
    throttleInitialPct: 20,
    throttleIncrementPct: 10,
    postcopyAfterRounds: 0,
    timeoutNs: null,
    ...over,
  };
}

export function scenario(over: Partial<Scenario> = {}): Scenario {
  return {
    file: 'test.yaml',
    name: 'test',
    description: '',
    seed: 1,
    engine: 'sim',
    fidelity: 'pages',
    durationNs: null,
    hosts: [
      { name: 'h1', memoryBytes: null },
      { name: 'h2', memoryBytes: null },
      { name: 'h3', memoryBytes: null },
      { name: 'h4', memoryBytes: null },
    ],
    network: {
      migrationLink: { bandwidthBps: 1e9, latencyNs: 100 * us },
      accessLink: { bandwidthBps: 10e9, latencyNs: 20 * us },
      keepalive: { intervalNs: 5 * s, count: 5 },
    },
    dhcp: null,
    multicastSources: [],
    probe: null,
    switch: null,
    vms: [vm()],
    migrations: [migration()],
    faults: [],
    expect: [],
    ...over,
  };
}
