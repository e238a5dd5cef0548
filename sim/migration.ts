// The sim's migration processes: pre-copy rounds, stop-and-copy, post-copy. The
// decisions (what a page costs, when to switch over, auto-converge) come from
// model/memory/precopy.ts; this file supplies time, the network and the guest's memory.

import { AutoConverge, canSwitchOver, transferNs } from '../model/memory/precopy.js';
import { pageWireBytes, wireBytes } from '../model/page-cost.js';
import type { MigratingMemory, SendSet } from './migrating-memory.js';
import type { Kernel, Process } from './kernel.js';
import type { SimLan } from './lan.js';
import type { MigrationNics } from './migration-nics.js';
import { UNMEASURED_NETWORK, type MigrationResult, type RoundResult } from '../model/result/format.js';
import type { Switchover } from '../model/scenario/expectable.js';
import type { MigrationSpec, VmSpec } from '../model/scenario/types.js';
import type { Ns } from '../model/time.js';

export interface SimVm {
  spec: VmSpec;
  memory: MigratingMemory;
  host: string;
  migrating: boolean;
}

type Phase = 'waiting' | 'live' | 'paused' | 'postcopy' | 'done';

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

export interface MigrationContext {
  kernel: Kernel;
  net: MigrationNics;
  /** the data network, when the scenario has one: told when the VM starts moving, pauses, resumes */
  lan: SimLan | null;
}

const ms = (ns: Ns): number => Math.round(ns) / 1e6;

/** Pages per post-copy push chunk: about a millisecond of the link, so faults see the push advance. */
function pushChunkPages(linkBps: number, pageSize: number): number {
  return Math.max(1, Math.floor((linkBps / 8 / 1000) / pageWireBytes(pageSize)));
}

export function* migrate(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord): Process<void> {
  const { kernel } = ctx;
  const m = rec.spec;
  rec.startNs = kernel.now;
  rec.from = vm.host;
  if (vm.migrating) return fail(rec, `${m.vm} is still migrating when this migration should start`);
  if (vm.host === m.to) return fail(rec, `${m.vm} is already on ${m.to} (an earlier migration did not complete)`);
  vm.migrating = true;
  ctx.lan?.migrationStarted(m.vm, m.to);
  vm.memory.advanceTo(kernel.now);
  if (m.mode === 'precopy') yield* precopy(ctx, vm, rec);
  else if (m.mode === 'stopcopy') yield* stopAndCopy(ctx, vm, rec, vm.memory.beginPrecopy(), 'immediate');
  else yield* postcopy(ctx, vm, rec);
  vm.migrating = false;
}

function fail(rec: MigrationRecord, why: string): void {
  rec.phase = 'done';
  rec.outcome = 'failed';
  rec.error = why;
}

function* precopy(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord): Process<void> {
  const { kernel, net } = ctx;
  const m = rec.spec;
  const mem = vm.memory;
  const autoConverge = m.autoConverge ? new AutoConverge() : null;
  rec.phase = 'live';
  let set = mem.beginPrecopy();
  let decided: Switchover;
  for (let index = 0; ; index++) {
    const t0 = kernel.now;
    yield net.transfer(vm.host, m.to, set.bytes, m.bandwidthBps);
    mem.advanceTo(kernel.now);
    const durationNs = kernel.now - t0;
    const dirty = mem.pendingPages();
    rec.count(set);
    rec.rounds.push({
      index,
      pagesSent: Math.round(set.pages),
      bytesSent: Math.round(set.bytes),
      durationMs: ms(durationNs),
      dirtyPagesAtEnd: Math.round(dirty),
    });
    const pendingBytes = wireBytes(dirty, 0, mem.pageSize);
    const rateBps = (set.bytes * 8) / (durationNs / 1e9);
    const fits = canSwitchOver({
      pendingBytes,
      deviceStateBytes: m.deviceStateBytes,
      rateBps,
      downtimeLimitNs: m.downtimeLimitNs,
    });
    // the rest fits the downtime limit (converged), or the rounds are used up (forced)
    if (fits || index + 1 >= m.maxRounds) {
      decided = fits ? 'converged' : 'forced';
      break;
    }
    if (autoConverge) {
      mem.setThrottlePct(autoConverge.afterRound(pendingBytes, set.bytes));
      rec.throttlePct = autoConverge.throttlePct;
    }
    set = mem.takeDirty();
  }
  yield* stopAndCopy(ctx, vm, rec, null, decided);
}

/** The switchover: the VM's vCPUs stop on the source (the downtime starts), and the network hears of it. */
function pauseAtSwitchover(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord, why: Switchover): Ns {
  const now = ctx.kernel.now;
  rec.phase = 'paused';
  rec.switchoverNs = now;
  rec.switchover = why;
  vm.memory.pause(now);
  ctx.lan?.paused(rec.spec.vm);
  return now;
}

/** Pause, send what is left (`first`, or the dirty set) plus device state at full link rate, resume on the destination. */
function* stopAndCopy(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord, first: SendSet | null, why: Switchover): Process<void> {
  const { kernel, net } = ctx;
  const m = rec.spec;
  const mem = vm.memory;
  const pausedAt = pauseAtSwitchover(ctx, vm, rec, why);
  const set = first ?? mem.takeDirty();
  const bytes = set.bytes + m.deviceStateBytes;
  yield net.transfer(vm.host, m.to, bytes, null);
  const sendNs = kernel.now - pausedAt;
  yield kernel.timeout(net.latencyNs);
  rec.count(set);
  rec.bytesSent += m.deviceStateBytes;
  rec.stopCopy = { pagesSent: Math.round(set.pages), bytesSent: Math.round(bytes), durationMs: ms(sendNs) };
  finish(kernel.now, vm, rec);
  rec.resumeNs = kernel.now;
  vm.memory.resume(kernel.now);
  ctx.lan?.resumed(m.vm, m.to);
}

function* postcopy(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord): Process<void> {
  const { kernel, net } = ctx;
  const m = rec.spec;
  const mem = vm.memory;
  const source = vm.host;
  pauseAtSwitchover(ctx, vm, rec, 'immediate');
  yield net.transfer(source, m.to, m.deviceStateBytes, null);
  yield kernel.timeout(net.latencyNs);
  rec.bytesSent += m.deviceStateBytes;
  rec.resumeNs = kernel.now;
  rec.phase = 'postcopy';
  const linkBps = net.link.bandwidthBps;
  // a fault costs the vCPU a request across and the page back
  const faultCostNs = 2 * net.latencyNs + transferNs(pageWireBytes(mem.pageSize), linkBps);
  mem.beginPostcopy(faultCostNs);
  mem.resume(kernel.now);
  vm.host = m.to;
  ctx.lan?.resumed(m.vm, m.to);
  const chunkPages = pushChunkPages(linkBps, mem.pageSize);
  // pages pulled by faults cross the same link as the push: charge them to the stream
  let faultsCharged = 0;
  const unchargedFaultBytes = (): number => {
    const faults = mem.postcopyStats().faults;
    const bytes = (faults - faultsCharged) * pageWireBytes(mem.pageSize);
    rec.pagesSent += faults - faultsCharged;
    rec.bytesSent += bytes;
    faultsCharged = faults;
    return bytes;
  };
  for (;;) {
    const chunk = mem.nextPushChunk(chunkPages);
    const faultBytes = unchargedFaultBytes();
    if (chunk === null && faultBytes === 0) break;
    yield net.transfer(source, m.to, (chunk?.bytes ?? 0) + faultBytes, m.bandwidthBps);
    mem.advanceTo(kernel.now);
    if (chunk) {
      mem.landPushChunk();
      rec.count(chunk);
    }
  }
  yield kernel.timeout(net.latencyNs);
  const stats = mem.postcopyStats();
  rec.postcopy = {
    faults: Math.round(stats.faults),
    faultLatencyMs: ms(stats.faultWaitNs),
    pagesPushed: Math.round(stats.pagesPushed),
  };
  finish(kernel.now, vm, rec);
}

/** The destination holds the VM now: verify its memory and hand the VM over. */
function finish(now: Ns, vm: SimVm, rec: MigrationRecord): void {
  const check = vm.memory.complete();
  vm.host = rec.spec.to;
  rec.endNs = now;
  rec.phase = 'done';
  rec.memoryVerified = check === null ? null : check.ok;
  if (check && !check.ok) {
    rec.outcome = 'failed';
    rec.error = `memory verification failed: ${check.mismatched} page(s) on ${rec.spec.to} differ from the source's last write (first: page ${check.firstPage})`;
  } else {
    rec.outcome = 'completed';
  }
}

/** The run ended (scenario `duration`) while this migration was still going. */
export function cutShort(rec: MigrationRecord, vm: SimVm, endNs: Ns, lan: SimLan | null): void {
  if (rec.phase === 'done' || rec.phase === 'waiting') return;
  const at = `${ms(endNs) / 1000}s`;
  if (rec.phase === 'postcopy') {
    rec.outcome = 'failed';
    rec.error = `post-copy had not finished when the run ended at ${at}: the guest's memory is split between ${rec.from} and ${rec.spec.to}`;
  } else {
    // a live or paused pre-copy is cancelled and the guest goes on running on the source
    vm.memory.abort();
    vm.memory.resume(endNs);
    lan?.reverted(rec.spec.vm, rec.spec.to, rec.phase === 'paused');
    rec.outcome = 'reverted';
    rec.error = `cancelled: the run ended at ${at} before the migration finished`;
  }
  rec.phase = 'done';
  vm.migrating = false;
}

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
    vmLost: false,
    unmeasured: {},
  };
}
