// What a scenario's `expect:` may name: the per-migration result fields it can bound, with
// the kind of value each holds, and the outcomes a migration can have (the result format,
// model/result/format.ts, uses these same names).

/** How a migration ended (docs/result-format.md "outcome"). */
export const OUTCOMES = ['completed', 'reverted', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * What decided a migration's switchover (docs/result-format.md "switchover"): `converged`,
 * pre-copy's rest fitted the downtime limit; `forced`, pre-copy reached `maxRounds` without
 * (post-copy: its `postcopyAfterRounds`, then the switch to post-copy); `immediate`, stopcopy
 * and postcopy (after no rounds) pause at the start.
 */
export const SWITCHOVERS = ['converged', 'forced', 'immediate'] as const;
export type Switchover = (typeof SWITCHOVERS)[number];

/** Fields an `expect:` key may name, with the kind of value they hold. */
export const EXPECTABLE_FIELDS = {
  startMs: 'number',
  switchoverMs: 'number',
  resumeMs: 'number',
  endMs: 'number',
  totalTimeMs: 'number',
  downtimeMs: 'number',
  pagesSent: 'number',
  bytesSent: 'number',
  /** the number of live rounds */
  rounds: 'number',
  zeroPagesSent: 'number',
  throttlePct: 'number',
  postcopyFaults: 'number',
  faultLatencyMs: 'number',
  /** post-copy: guest time its faults waited for a cut migration link */
  postcopyOutageWaitMs: 'number',
  /** post-copy: stream breaks recovered */
  postcopyRecoveries: 'number',
  dhcpRebindMs: 'number',
  igmpRebindMs: 'number',
  sourceGuardDrops: 'number',
  multicastGapMs: 'number',
  multicastLost: 'number',
  serviceInterruptionMs: 'number',
  memoryVerified: 'boolean',
  /** the VM runs nowhere any more (a failed host held its only copy) */
  vmLost: 'boolean',
  /** when a migration was given up (reverted, or the VM lost) */
  gaveUpMs: 'number',
  /** a reverted migration's pause on the source */
  sourcePauseMs: 'number',
  outcome: 'string',
  /** what decided the pause: converged, forced, immediate */
  switchover: 'string',
} as const;

export type ExpectableField = keyof typeof EXPECTABLE_FIELDS;

/**
 * The switch's counters an `expect:` key `network.counters.NAME` may bound (the run's totals in
 * the result's `network.counters`; docs/result-format.md). switch/edge-switch.ts keeps the
 * same names, a test holds them together.
 */
export const NETWORK_COUNTERS = [
  'forwarded', 'flooded', 'sourceGuardDrops', 'snoopingDrops', 'unassociatedDrops', 'malformed',
  'evbForeignRefused', 'evbClamped', 'vlanMismatchDrops', 'vdpTakeoverRefused', 'malformedLogged',
  'ecp.sent', 'ecp.retransmits', 'ecp.givenUp', 'ecp.duplicates',
] as const;

/** The values an `equals` may name for the fields that hold one of a few words. */
export const EXPECTABLE_WORDS: Partial<Record<ExpectableField, readonly string[]>> = { outcome: OUTCOMES, switchover: SWITCHOVERS };
