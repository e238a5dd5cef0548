// A host agent's migration as the result file has it (docs/result-format.md): the sender's
// record (sender.ts) turned into a MigrationResult, times on the run's clock. A revert has no
// end and no total, as in the sim; `gaveUpMs` and `sourcePauseMs` say when it was given up and
// how long a paused guest waited before it ran on at the source.

import { UNMEASURED_NETWORK, type MigrationResult, type RoundResult, type StopCopyResult } from '../../model/result/format.js';
import type { Switchover } from '../../model/scenario/expectable.js';

/** A live round as the sender records it: its start in CLOCK_MONOTONIC ns, put on the run clock (`startMs`) by toMigrationResult. */
export type SenderRound = Omit<RoundResult, 'startMs'> & { startNs: number };

/** What the sender (sender.ts) recorded of one migration, times in CLOCK_MONOTONIC ns. */
export interface SenderResult {
  vm: string;
  mode: 'precopy' | 'stopcopy';
  outcome: 'completed' | 'reverted' | 'failed';
  error: string | null;
  rounds: SenderRound[];
  /** the paused transfer; it starts at switchoverNs */
  stopCopy: Omit<StopCopyResult, 'startMs'> | null;
  /** page records, framing included; device state counted once (the sim's accounting) */
  pagesSent: number;
  bytesSent: number;
  zeroPagesSent: number;
  /** highest auto-converge throttle applied, percent */
  throttlePct: number;
  memoryVerified: boolean | null;
  mismatches: number | null;
  firstMismatch: number | null;
  /** every byte written to the socket, control records included */
  streamBytes: number;
  /** CLOCK_MONOTONIC ns */
  startNs: number;
  /** the guest stopped writing (the worker's pause instant) */
  switchoverNs: number | null;
  /**
   * what decided the switchover, set with switchoverNs: `converged` (the rest fitted the
   * downtime limit), `forced` (maxRounds reached), `immediate` (stopcopy); null: never paused
   */
  switchover: Switchover | null;
  /**
   * the destination holds the whole state and the VM may run there: the instant it says in
   * RESUMED (agents on one kernel share CLOCK_MONOTONIC), else when RESUMED arrived here
   */
  resumeNs: number | null;
  /** when the destination's RESUMED arrived here */
  resumeAckNs: number | null;
  /** the verdict arrived: the source releases the VM (reverted: when the migration was given up) */
  endNs: number | null;
  /** a reverted migration that had paused the guest: when it resumed on the source */
  sourceResumeNs: number | null;
  /** when the source's checksums were taken (must be ≥ switchoverNs) */
  checksumsStartNs: number | null;
  checksumsEndNs: number | null;
  /** the source's checksums as sent (for audit) */
  sourceChecksums: Uint32Array | null;
}

/** The result-file entry (docs/result-format.md) of a sender's run; times relative to `originNs`. */
export function toMigrationResult(r: SenderResult, at: { from: string; to: string; originNs: number }): MigrationResult {
  const ms = (ns: number | null): number | null => (ns === null ? null : (ns - at.originNs) / 1e6);
  const reverted = r.outcome === 'reverted';
  const downtime = r.switchoverNs !== null && r.resumeNs !== null && !reverted ? (r.resumeNs - r.switchoverNs) / 1e6 : null;
  // as the sim: a reverted migration never released the VM, so it has no end and no total
  const endNs = reverted ? null : r.endNs;
  return {
    vm: r.vm,
    from: at.from,
    to: at.to,
    mode: r.mode,
    outcome: r.outcome,
    switchover: r.switchoverNs === null ? null : r.switchover,
    startMs: (r.startNs - at.originNs) / 1e6,
    switchoverMs: ms(r.switchoverNs),
    resumeMs: ms(r.resumeNs),
    endMs: ms(endNs),
    totalTimeMs: endNs === null ? null : (endNs - r.startNs) / 1e6,
    downtimeMs: downtime,
    rounds: r.rounds.map(({ startNs, ...round }) => ({ ...round, startMs: (startNs - at.originNs) / 1e6 })),
    // the paused transfer starts at the pause (sender.ts measures its duration from there)
    stopCopy: r.stopCopy === null || r.switchoverNs === null ? null : { ...r.stopCopy, startMs: (r.switchoverNs - at.originNs) / 1e6 },
    pagesSent: r.pagesSent,
    bytesSent: r.bytesSent,
    memoryVerified: r.memoryVerified,
    ...UNMEASURED_NETWORK,
    lowerBounds: [],
    zeroPagesSent: r.zeroPagesSent,
    throttlePct: r.throttlePct,
    postcopy: null,
    error: r.error,
    vmLost: false,
    // as the sim: when it was given up, and how long a paused guest waited before it ran on here
    gaveUpMs: reverted ? ms(r.endNs) : null,
    sourcePauseMs: reverted && r.switchoverNs !== null && r.sourceResumeNs !== null ? (r.sourceResumeNs - r.switchoverNs) / 1e6 : null,
    // a revert leaves no copy to check: the source's RAM, which the migration never writes, runs on
    unmeasured: reverted ? { memoryVerified: 'reverted: the destination discarded its copy, so there is none to verify; the VM runs on from the source\'s own RAM' } : {},
  };
}
