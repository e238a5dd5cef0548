// A migration's record in the sim: what it has done so far (MigrationRecord), the VM it moves
// (SimVm), why it was stopped if it was (Stop), and the result entry it becomes (toResult).
// The processes that fill it are sim/migration.ts.

import type { MigratingMemory, SendSet } from './migrating-memory.js';
import type { SimEvent } from './kernel.js';
import { UNMEASURED_NETWORK, type MigrationResult, type RoundResult } from '../model/result/format.js';
import type { Switchover } from '../model/scenario/expectable.js';
import type { MigrationSpec, VmSpec } from '../model/scenario/types.js';
import type { Ns } from '../model/time.js';

export interface SimVm {
  spec: VmSpec;
  memory: MigratingMemory;
  host: string;
  migrating: boolean;
  /** the VM runs nowhere: the host with its only up-to-date copy failed */
  lost: boolean;
  /** the migration under way, if any */
  current: MigrationRecord | null;
}

/** Why a migration was stopped from outside. */
export interface Stop {
  /** revert: the source takes the VM back (cancel, timeout, the destination gone before it ran the VM); lost: the VM is gone */
  kind: 'revert' | 'lost';
  why: string;
}


export type Phase = 'waiting' | 'live' | 'paused' | 'postcopy' | 'done';

/** What a migration has done so far; becomes a MigrationResult when the run ends. */
export class MigrationRecord {
  phase: Phase = 'waiting';
  from: string;
  startNs: Ns;
  switchoverNs: Ns | null = null;
  /** what decided the switchover; set with switchoverNs */
  switchover: Switchover | null = null;
  resumeNs: Ns | null = null;
  endNs: Ns | null = null;
  rounds: RoundResult[] = [];
  stopCopy: MigrationResult['stopCopy'] = null;
  pagesSent = 0;
  bytesSent = 0;
  zeroPagesSent = 0;
  throttlePct = 0;
  postcopy: MigrationResult['postcopy'] = null;
  memoryVerified: boolean | null = null;
  outcome: MigrationResult['outcome'] | null = null;
  error: string | null = null;
  vmLost = false;
  /** when it was given up (reverted or the VM lost) */
  gaveUpNs: Ns | null = null;
  /** reverted after pausing: when the VM ran again on the source */
  sourceResumeNs: Ns | null = null;
  /** post-copy: stream breaks recovered */
  recoveries = 0;
  /** set when the migration is stopped from outside */
  stop: Stop | null = null;
  /** what the process waits on now: fired early to wake it when stopped */
  gate: SimEvent<void> | null = null;
  /** the transfer under way, aborted when stopped, and the pages it carries */
  flow: SimEvent<boolean> | null = null;
  flowSet: SendSet | null = null;

  constructor(readonly spec: MigrationSpec) {
    this.from = spec.from;
    this.startNs = spec.atNs;
  }

  count(set: SendSet): void {
    this.pagesSent += set.pages;
    this.zeroPagesSent += set.zeroPages;
    this.bytesSent += set.bytes;
  }
}


export const ms = (ns: Ns): number => Math.round(ns) / 1e6;

/** Why the sim reports no memory verification for a reverted migration. */
const REVERTED_UNVERIFIED = "the sim's source copy is the guest's own memory, which a failed migration never writes: there is no second copy to check (the testbed checks real RAM; a retry's verification checks the sim)";

export function toResult(rec: MigrationRecord, mode: MigrationSpec['mode'], vmName: string): MigrationResult {
  const downtime = rec.switchoverNs !== null && rec.resumeNs !== null ? rec.resumeNs - rec.switchoverNs : null;
  const total = rec.endNs !== null ? rec.endNs - rec.startNs : null;
  return {
    vm: vmName,
    from: rec.from,
    to: rec.spec.to,
    mode,
    outcome: rec.outcome ?? 'failed',
    switchover: rec.switchover,
    startMs: ms(rec.startNs),
    switchoverMs: rec.switchoverNs === null ? null : ms(rec.switchoverNs),
    resumeMs: rec.resumeNs === null ? null : ms(rec.resumeNs),
    endMs: rec.endNs === null ? null : ms(rec.endNs),
    totalTimeMs: total === null ? null : ms(total),
    downtimeMs: rec.outcome === 'reverted' || downtime === null ? null : ms(downtime),
    rounds: rec.rounds,
    stopCopy: rec.stopCopy,
    pagesSent: Math.round(rec.pagesSent),
    bytesSent: Math.round(rec.bytesSent),
    memoryVerified: rec.memoryVerified,
    ...UNMEASURED_NETWORK,
    lowerBounds: [],
    zeroPagesSent: Math.round(rec.zeroPagesSent),
    throttlePct: rec.throttlePct,
    postcopy: rec.postcopy,
    error: rec.error,
    vmLost: rec.vmLost,
    gaveUpMs: rec.gaveUpNs === null ? null : ms(rec.gaveUpNs),
    sourcePauseMs: rec.sourceResumeNs !== null && rec.switchoverNs !== null ? ms(rec.sourceResumeNs - rec.switchoverNs) : null,
    unmeasured: rec.outcome === 'reverted' && rec.memoryVerified === null ? { memoryVerified: REVERTED_UNVERIFIED } : {},
  };
}
