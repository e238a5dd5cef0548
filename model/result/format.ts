// The result file (docs/result-format.md, version 1 and its extensions): its types and builders.

import type { Outcome, Switchover } from '../scenario/expectable.js';
import { REBIND_QUERY_MAX_RESP_DS, type SwitchSpec } from '../scenario/types.js';

export interface RoundResult {
  index: number;
  pagesSent: number;
  bytesSent: number;
  durationMs: number;
  /** distinct pages written during the round */
  dirtyPagesAtEnd: number;
  /** extension: when the round's first byte was sent, run clock */
  startMs: number;
}

export interface StopCopyResult {
  pagesSent: number;
  bytesSent: number;
  durationMs: number;
  /** extension: when the paused transfer began (the switchover), run clock */
  startMs: number;
}

/**
 * Extension: where the intervals behind three network fields lie on the run clock (ms), so
 * they can be drawn on a timeline; each null when its field is null (or counts nothing).
 */
export interface NetworkTimes {
  /** the first and the last of the VM's frames IP source guard dropped that `sourceGuardDrops` counts */
  sourceGuardFirstDropMs: number | null;
  sourceGuardLastDropMs: number | null;
  /** the last datagram received at or before the switchover, of the group whose gap is `multicastGapMs`: the gap ends `multicastGapMs` later */
  multicastGapStartMs: number | null;
  /** when the first echo of the longest unanswered run was sent: the interruption ends `serviceInterruptionMs` later */
  serviceInterruptionStartMs: number | null;
}

/** Extension: the network fields each NetworkTimes entry belongs to (a field set to null takes its times with it). */
export const NETWORK_TIMES_OF: Record<string, readonly (keyof NetworkTimes)[]> = {
  sourceGuardDrops: ['sourceGuardFirstDropMs', 'sourceGuardLastDropMs'],
  multicastGapMs: ['multicastGapStartMs'],
  serviceInterruptionMs: ['serviceInterruptionStartMs'],
};

/** Extension (not in DOC_EXAMPLE.md v1): post-copy demand paging. */
export interface PostcopyResult {
  /** pages the guest touched before they arrived: one round trip each */
  faults: number;
  /** guest time lost waiting on faults, summed */
  faultLatencyMs: number;
  /** pages sent by the background push (the rest came by fault) */
  pagesPushed: number;
  /** extension: of faultLatencyMs, the guest time lost waiting for a cut migration link (a fault's request stalled) */
  outageWaitMs: number;
  /** extension: times the stream broke and was recovered (QEMU's postcopy recovery) */
  recoveries: number;
}

/** Extension: the metric fields that may be reported as a lower bound (docs/result-format.md "lowerBounds"). */
export type LowerBoundField = 'sourceGuardDrops' | 'multicastGapMs' | 'multicastLost' | 'serviceInterruptionMs';

export interface MigrationResult {
  vm: string;
  from: string;
  to: string;
  mode: 'precopy' | 'stopcopy' | 'postcopy';
  outcome: Outcome;
  /** extension: what decided the switchover; null when the VM never paused on the source */
  switchover: Switchover | null;
  startMs: number;
  switchoverMs: number | null;
  resumeMs: number | null;
  endMs: number | null;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  rounds: RoundResult[];
  stopCopy: StopCopyResult | null;
  pagesSent: number;
  bytesSent: number;
  /** null at fluid fidelity: no per-page state is kept, so nothing can be verified */
  memoryVerified: boolean | null;
  dhcpRebindMs: number | null;
  igmpRebindMs: number | null;
  sourceGuardDrops: number | null;
  multicastGapMs: number | null;
  multicastLost: number | null;
  serviceInterruptionMs: number | null;
  /** extension: where the intervals of sourceGuardDrops, multicastGapMs and serviceInterruptionMs lie on the run clock */
  networkTimes: NetworkTimes;
  /**
   * extension: the network fields whose interval was still open at the end of the move's
   * window (the run's end, or the VM's next migration): their values are "at least"
   */
  lowerBounds: LowerBoundField[];
  // extensions to DOC_EXAMPLE.md v1
  /** zero pages sent as markers (counted in pagesSent too) */
  zeroPagesSent: number;
  /** highest auto-converge throttle applied, percent; 0 without autoConverge */
  throttlePct: number;
  postcopy: PostcopyResult | null;
  /** why the outcome is not `completed` */
  error: string | null;
  /**
   * extension: the VM no longer runs anywhere (its only up-to-date copy was on a host that
   * failed). False when it runs on `from` (reverted) or `to` (completed).
   */
  vmLost: boolean;
  /** extension: when the migration was given up — reverted, or the VM lost — on the run clock; null otherwise */
  gaveUpMs: number | null;
  /** extension: a reverted (or verification-failed) migration's pause on the source before the VM resumed there; null if it never paused */
  sourcePauseMs: number | null;
  /**
   * extension: why a field is null although the migration got that far, by field name — e.g.
   * `{ sourceGuardDrops: "the switch process died at 3.21 s" }`. Empty when nothing is missing.
   */
  unmeasured: Record<string, string>;
}

/** The network fields of a migration nobody measured (no data network in the run). */
export const UNMEASURED_NETWORK = {
  dhcpRebindMs: null,
  igmpRebindMs: null,
  sourceGuardDrops: null,
  multicastGapMs: null,
  multicastLost: null,
  serviceInterruptionMs: null,
  networkTimes: Object.freeze({ sourceGuardFirstDropMs: null, sourceGuardLastDropMs: null, multicastGapStartMs: null, serviceInterruptionStartMs: null }),
} as const satisfies Partial<MigrationResult>;

/** A migration that never got going (refused, or its agent failed before it could report). */
export function failedMigration(vm: string, from: string, to: string, mode: MigrationResult['mode'], error: string, startMs: number): MigrationResult {
  return {
    vm, from, to, mode, outcome: 'failed', switchover: null, startMs, switchoverMs: null, resumeMs: null, endMs: null, totalTimeMs: null,
    downtimeMs: null, rounds: [], stopCopy: null, pagesSent: 0, bytesSent: 0, memoryVerified: null,
    ...UNMEASURED_NETWORK, lowerBounds: [], zeroPagesSent: 0, throttlePct: 0, postcopy: null, error, vmLost: false, gaveUpMs: null, sourcePauseMs: null, unmeasured: {},
  };
}

export interface ExpectationResult {
  key: string;
  ok: boolean;
  measured: number | string | boolean | null;
  bound: string;
}

/** Extension: the data network of a scenario with a switch (its policy, counters and event log). */
export interface NetworkResult {
  switch: {
    vdp: 'standard' | 'extended';
    dhcpRebind: 'none' | 'leasequery' | 'assist';
    igmpRebind: 'none' | 'query';
    ipSourceGuard: boolean;
    igmpQueryIntervalMs: number;
    /** the Max Resp Time of the rebind query */
    rebindQueryMaxRespMs: number;
    /** extension: `none` | `persistent` (switch.bindingDatabase) */
    bindingDatabase: 'none' | 'persistent';
    /** extension: `none` | `assist` (switch.dhcpRebindFallback) */
    dhcpRebindFallback: 'none' | 'assist';
  };
  counters: Record<string, number>;
  /**
   * extension: why `counters` is incomplete, when it is (the switch process died and its last
   * counters were never read); null when they are whole
   */
  countersUnmeasured?: string | null;
  /** the switch's log: binding moves, VDP exchanges, leasequeries, queries; `t` in ms */
  events: ({ t: number; kind: string } & Record<string, unknown>)[];
  /** extension: each VM's MAC by VM name, the address its events are logged under (absent in results written before it) */
  macs?: Record<string, string>;
}

/** The ECP counters summed over the switch's host ports into `network.counters` (`ecp.<name>`). */
export const ECP_COUNTERS = ['sent', 'retransmits', 'givenUp', 'duplicates'] as const;

/** `network.switch`: the policy the switch ran with (both engines). */
export function switchPolicy(sw: SwitchSpec): NetworkResult['switch'] {
  return {
    vdp: sw.vdp, dhcpRebind: sw.dhcpRebind, igmpRebind: sw.igmpRebind, ipSourceGuard: sw.ipSourceGuard,
    igmpQueryIntervalMs: sw.igmpQueryIntervalNs / 1e6, rebindQueryMaxRespMs: REBIND_QUERY_MAX_RESP_DS * 100,
    bindingDatabase: sw.bindingDatabase, dhcpRebindFallback: sw.dhcpRebindFallback,
  };
}

/**
 * Extension: one fault of the run — scheduled by the scenario's `faults:` (`scheduled: true`)
 * or observed by the engine (a testbed component that died, a port whose interface vanished,
 * the control bus lost: `scheduled: false`) — and what it did.
 */
export interface FaultReport {
  /** run clock; null when the engine could not tell when */
  atMs: number | null;
  /** a scenario fault kind (host-crash, link-down, …) or an observed one (component-died, port-down, control-bus-lost) */
  kind: string;
  /** what it hit: a host, a VM, `switch`, `dhcp`, `redis`, a process name */
  target: string | null;
  scheduled: boolean;
  /** one line: what it did to the run */
  effect: string;
  /** VMs that no longer run anywhere because of it */
  lost: string[];
}

/**
 * Observed fault kinds that mean the run itself broke (a testbed part died, a port lost its
 * link, the control bus went): its numbers are not those of the run as described, so the CLI
 * exits 1. Other observed faults (`leasequery-unanswered`) report a loss the run measured.
 */
export const RUN_BREAKING_FAULTS: readonly string[] = ['component-died', 'port-down', 'control-bus-lost'];

export interface RunResult {
  version: 1;
  scenario: string;
  description: string;
  file: string;
  engine: 'sim' | 'testbed';
  fidelity: 'pages' | 'fluid';
  seed: number;
  migsim: string;
  /** the run's virtual (sim) or measured (testbed) span */
  durationMs: number;
  migrations: MigrationResult[];
  /** present when the scenario has `expect:` bounds */
  expectations: ExpectationResult[];
  /** null when the scenario has no data network (no switch, DHCP, probe or multicast) */
  network: NetworkResult | null;
  /** extension: the run's faults, scheduled and observed, in time order; empty when none */
  faults: FaultReport[];
  /** the only fields that differ between two runs with the same seed */
  wallClock: { startedAt: string; elapsedMs: number };
}
