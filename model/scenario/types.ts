// The validated, normalized scenario: what the loader hands to an engine.
// Every quantity is in one base unit so engines never parse units:
//   time: integer nanoseconds (Ns) · sizes: bytes · bandwidth: bits per second · rates: events per second.

import type { Ns } from '../time.js';

export type EngineName = 'sim' | 'testbed';
export type Fidelity = 'pages' | 'fluid';
export type MigrationMode = 'precopy' | 'stopcopy' | 'postcopy';
export type AnnounceOnResume = 'none' | 'garp' | 'garp+igmp';

export interface LinkSpec {
  bandwidthBps: number;
  latencyNs: Ns;
}

export interface HostSpec {
  name: string;
  /** null: no limit given, so no capacity check */
  memoryBytes: number | null;
}

export type WorkloadSpec =
  | { kind: 'idle' }
  | { kind: 'uniform'; writeRate: number }
  | { kind: 'hotset'; writeRate: number; hotsetBytes: number }
  | { kind: 'zipf'; writeRate: number; skew: number }
  | { kind: 'sequential'; writeRate: number }
  | { kind: 'trace'; file: string; trace: PageTrace; loop: boolean };

/** A parsed trace file: page writes with their times, times non-decreasing. */
export interface PageTrace {
  timesNs: Float64Array;
  pages: Uint32Array;
  /** the trace's span: the last time, used as the period when looping */
  spanNs: Ns;
}

export interface VmSpec {
  name: string;
  host: string;
  memoryBytes: number;
  pageSize: number;
  pageCount: number;
  mac: string;
  vlan: number;
  vsiType: { id: number; version: number };
  multicast: string[];
  announceOnResume: AnnounceOnResume;
  /** share of pages that are all-zero at start, 0..1 */
  zeroPages: number;
  workload: WorkloadSpec;
}

export interface MigrationSpec {
  /** position in the scenario's migrations list */
  index: number;
  vm: string;
  /** the host the VM is on when this migration starts (resolved from earlier migrations) */
  from: string;
  to: string;
  atNs: Ns;
  mode: MigrationMode;
  downtimeLimitNs: Ns;
  maxRounds: number;
  /** cap on live rounds' rate; null: the migration link's bandwidth */
  bandwidthBps: number | null;
  deviceStateBytes: number;
  autoConverge: boolean;
  /** auto-converge's first throttle, whole percent 1..99 (QEMU's cpu-throttle-initial; default 20) */
  throttleInitialPct: number;
  /** auto-converge's step at each further round that does not converge, whole percent 1..99 (cpu-throttle-increment; default 10) */
  throttleIncrementPct: number;
  /** postcopy: live pre-copy rounds before the switch to post-copy (default 0: switch at once) */
  postcopyAfterRounds: number;
  /** give up (revert) if the VM has not resumed on the destination this long after the start; null: never */
  timeoutNs: Ns | null;
}

/** Scenario fault kinds (docs/faults.md). */
export const FAULT_KINDS = ['host-crash', 'link-down', 'link-degrade', 'dhcp-down', 'switch-restart', 'cancel', 'spoofed-associate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A failure the scenario injects at `atNs` (`faults:`). */
export type FaultSpec = { index: number; atNs: Ns } & (
  | { kind: 'host-crash'; host: string }
  | { kind: 'link-down'; host: string; forNs: Ns }
  | { kind: 'link-degrade'; host: string; bandwidthBps: number | null; loss: number; forNs: Ns }
  | { kind: 'dhcp-down'; forNs: Ns }
  | { kind: 'switch-restart'; downForNs: Ns }
  | { kind: 'cancel'; vm: string }
  | { kind: 'spoofed-associate'; host: string; vm: string; vsiType: { id: number; version: number } }
);

/** libvirt's keepalive between the hosts' management daemons: a silent peer is dead after interval × (count + 1). */
export interface KeepaliveSpec {
  intervalNs: Ns;
  count: number;
}

/**
 * The rebind query's Max Resp Time, tenths of a second — fixed, not a scenario field. Why
 * 100 ms: the query goes to one VM's MAC, so there is no report implosion to spread out;
 * 1 is the smallest nonzero code.
 */
export const REBIND_QUERY_MAX_RESP_DS = 1;

/** QEMU's range for cpu-throttle-initial and cpu-throttle-increment (a migration's throttleInitial and throttleIncrement): whole percents. */
export const THROTTLE_TUNING_PCT = { min: 1, max: 99 } as const;

export function isThrottleTuningPct(pct: number): boolean {
  return Number.isInteger(pct) && pct >= THROTTLE_TUNING_PCT.min && pct <= THROTTLE_TUNING_PCT.max;
}

export interface SwitchSpec {
  vdp: 'standard' | 'extended';
  dhcpRebind: 'none' | 'leasequery' | 'assist';
  igmpRebind: 'none' | 'query';
  ipSourceGuard: boolean;
  igmpQueryIntervalNs: Ns;
  /** none: snooping bindings die with the switch; persistent: restored from a store after a restart */
  bindingDatabase: 'none' | 'persistent';
  /** what to do when leasequery gets no answer: none (report the loss) | assist */
  dhcpRebindFallback: 'none' | 'assist';
}

export interface DhcpSpec {
  subnet: string;
  leaseTimeNs: Ns;
}

export interface MulticastSourceSpec {
  group: string;
  rate: number;
  sizeBytes: number;
}

export interface ProbeSpec {
  rate: number;
}

/** A regression bound from `expect:`, e.g. `vm1.downtimeMs: { max: 400 }`. */
export interface Expectation {
  /** the key as written */
  key: string;
  /** a switch counter (`network.counters.NAME`): then `vm` is '' and `field` is the counter's name */
  network?: boolean;
  vm: string;
  /** which of the VM's migrations (0-based, by start time, ties in file order); null = every migration of the VM */
  migration: number | null;
  field: string;
  min?: number;
  max?: number;
  equals?: number | string | boolean;
}

export interface Scenario {
  /** path of the file it came from, as given */
  file: string;
  name: string;
  description: string;
  seed: number;
  engine: EngineName;
  fidelity: Fidelity;
  /** null: run until the last migration settles */
  durationNs: Ns | null;
  hosts: HostSpec[];
  network: { migrationLink: LinkSpec; accessLink: LinkSpec; keepalive: KeepaliveSpec };
  dhcp: DhcpSpec | null;
  multicastSources: MulticastSourceSpec[];
  probe: ProbeSpec | null;
  switch: SwitchSpec | null;
  vms: VmSpec[];
  migrations: MigrationSpec[];
  /** in time order, ties in file order */
  faults: FaultSpec[];
  expect: Expectation[];
}
