// What a scenario's `expect:` may name: the per-migration result fields it can bound, with
// the kind of value each holds, and the outcomes a migration can have (the result format,
// model/result/format.ts, uses these same names).

/** How a migration ended (docs/result-format.md "outcome"). */
export const OUTCOMES = ['completed', 'reverted', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

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
  dhcpRebindMs: 'number',
  igmpRebindMs: 'number',
  sourceGuardDrops: 'number',
  multicastGapMs: 'number',
  multicastLost: 'number',
  serviceInterruptionMs: 'number',
  memoryVerified: 'boolean',
  outcome: 'string',
} as const;

export type ExpectableField = keyof typeof EXPECTABLE_FIELDS;
