// The sim's migration processes: pre-copy rounds, stop-and-copy, post-copy. The
// decisions (what a page costs, when to switch over, auto-converge) come from
// model/memory/precopy.ts; this file supplies time, the network and the guest's memory.
// A migration can be stopped from outside (`stopMigration`: a cancel, its timeout, a crashed
// peer): it then reverts, or the VM is lost — the rules are in docs/faults.md.

import { AutoConverge, canSwitchOver, transferNs } from '../model/memory/precopy.js';
import { pageWireBytes, wireBytes } from '../model/page-cost.js';
import type { MigratingMemory, SendSet } from './migrating-memory.js';
import type { Kernel, Process, SimEvent } from './kernel.js';
import type { SimLan } from './lan.js';
import type { MigrationNics } from './migration-nics.js';
import type { MigrationResult } from '../model/result/format.js';
import type { Switchover } from '../model/scenario/expectable.js';
import type { Ns } from '../model/time.js';
import { type MigrationRecord, ms, type SimVm, type Stop } from './migration-record.js';
import { TCP_GIVE_UP_NS, TCP_RETRIES2 } from './tcp-stall.js';
import { timeoutReason } from '../model/result/fault-words.js';

/** Thrown inside a migration process to unwind it when it was stopped. */
class Stopped extends Error {
  constructor(readonly stop: Stop) {
    super(stop.why);
  }
}

export interface MigrationContext {
  kernel: Kernel;
  net: MigrationNics;
  /** the data network, when the scenario has one: told when the VM starts moving, pauses, resumes */
  lan: SimLan | null;
  /** why a host is down (it crashed), or null when it is up */
  crashed?: (host: string) => string | null;
}

/** While a broken post-copy waits for its link: how often libvirt tries to reconnect. */
const RECOVERY_POLL_NS = 100e6;

/** Pages per post-copy push chunk: about a millisecond of the link, so faults see the push advance. */
function pushChunkPages(linkBps: number, pageSize: number): number {
  return Math.max(1, Math.floor((linkBps / 8 / 1000) / pageWireBytes(pageSize)));
}

export function* migrate(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord): Process<void> {
  const { kernel } = ctx;
  const m = rec.spec;
  rec.startNs = kernel.now;
  rec.from = vm.host;
  if (vm.lost) return fail(rec, `${m.vm} was lost before this migration should start`);
  if (vm.migrating) return fail(rec, `${m.vm} is still migrating when this migration should start`);
  if (vm.host === m.to) return fail(rec, `${m.vm} is already on ${m.to} (an earlier migration did not complete)`);
  const down = ctx.crashed?.(m.to) ?? null;
  if (down !== null) return fail(rec, `${m.to} is down (${down}): the destination cannot be reached`);
  vm.migrating = true;
  vm.current = rec;
  if (m.timeoutNs !== null) {
    kernel.schedule(m.timeoutNs, () => {
      if (rec.phase !== 'done' && rec.resumeNs === null) stopMigration(ctx, rec, { kind: 'revert', why: timeoutReason(m) });
    });
  }
  ctx.lan?.migrationStarted(m.vm, m.to);
  vm.memory.advanceTo(kernel.now);
  try {
    if (m.mode === 'precopy') yield* precopy(ctx, vm, rec);
    else if (m.mode === 'stopcopy') yield* stopAndCopy(ctx, vm, rec, vm.memory.beginPrecopy(), 'immediate');
    else if (m.postcopyAfterRounds > 0) yield* precopy(ctx, vm, rec); // its live rounds, then post-copy
    else yield* postcopy(ctx, vm, rec, 'immediate');
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    if (e.stop.kind === 'lost') loseVm(ctx, vm, rec, e.stop.why);
    else revert(ctx, vm, rec, e.stop.why);
  }
  vm.migrating = false;
  vm.current = null;
}

/**
 * Stop a migration from outside. Before the destination runs the VM, `revert` gives it back
 * to the source; after, only `lost` applies (a post-copy cannot be undone). False when the
 * migration is past stopping (done, or a revert asked after the destination took over).
 */
export function stopMigration(ctx: MigrationContext, rec: MigrationRecord, stop: Stop): boolean {
  if (rec.phase === 'done' || rec.phase === 'waiting' || rec.stop !== null) return false;
  if (stop.kind === 'revert' && rec.resumeNs !== null) return false;
  rec.stop = stop;
  if (rec.flow && rec.flowSet) countPartial(rec, rec.flowSet, ctx.net.abort(rec.flow));
  rec.flow = null;
  rec.flowSet = null;
  if (rec.gate && !rec.gate.triggered) rec.gate.succeed();
  return true;
}

/** Wait for `ev` unless the migration is stopped first (then unwind with Stopped). */
function* wait<T>(ctx: MigrationContext, rec: MigrationRecord, ev: SimEvent<T>): Process<T> {
  if (rec.stop) throw new Stopped(rec.stop);
  const gate = ctx.kernel.event<void>();
  rec.gate = gate;
  ev.onFire(() => {
    if (!gate.triggered) gate.succeed();
  });
  yield gate;
  rec.gate = null;
  if (rec.stop) throw new Stopped(rec.stop);
  return ev.value;
}

/** Send `bytes` over the migration link; a connection that breaks stops the migration (pre-copy) or is returned false (post-copy recovers). */
function* send(ctx: MigrationContext, rec: MigrationRecord, from: string, to: string, set: SendSet, capBps: number | null): Process<boolean> {
  const flow = ctx.net.transfer(from, to, set.bytes, capBps);
  rec.flow = flow;
  rec.flowSet = set;
  const ok = yield* wait(ctx, rec, flow);
  rec.flow = null;
  rec.flowSet = null;
  if (!ok) countPartial(rec, set, ctx.net.sentBeforeBreak(flow));
  return ok;
}

/** A transfer cut short: what had crossed the wire counts as sent — its bytes, and its pages pro rata. */
function countPartial(rec: MigrationRecord, set: SendSet, sentBytes: number): void {
  if (set.bytes > 0) {
    const share = Math.min(1, sentBytes / set.bytes);
    rec.pagesSent += Math.floor(set.pages * share);
    rec.zeroPagesSent += Math.floor(set.zeroPages * share);
  }
  rec.bytesSent += sentBytes;
}

/** A pre-copy transfer: a broken connection fails the migration, which the source survives. */
function* sendOrRevert(ctx: MigrationContext, rec: MigrationRecord, from: string, to: string, set: SendSet, capBps: number | null): Process<void> {
  if (!(yield* send(ctx, rec, from, to, set, capBps))) {
    throw new Stopped({ kind: 'revert', why: `the migration connection ${from} → ${to} broke: TCP gave up after ${TCP_RETRIES2} retransmissions` });
  }
}

/** Given up before the destination ran the VM: the source keeps it, with its own memory. */
function revert(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord, why: string): void {
  const now = ctx.kernel.now;
  const wasPaused = rec.phase === 'paused' || (rec.phase === 'postcopy' && rec.resumeNs === null);
  vm.memory.abort();
  if (wasPaused) {
    vm.memory.resume(now);
    rec.sourceResumeNs = now;
  }
  ctx.lan?.reverted(rec.spec.vm, rec.spec.to, wasPaused);
  rec.phase = 'done';
  rec.outcome = 'reverted';
  rec.gaveUpNs = now;
  rec.error = why;
}

/** The VM's only up-to-date copy is gone with a failed host. */
function loseVm(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord, why: string): void {
  vm.memory.abort();
  vm.lost = true;
  ctx.lan?.lost(rec.spec.vm);
  rec.phase = 'done';
  rec.outcome = 'failed';
  rec.vmLost = true;
  rec.gaveUpNs = ctx.kernel.now;
  rec.error = why;
}

function fail(rec: MigrationRecord, why: string): void {
  rec.phase = 'done';
  rec.outcome = 'failed';
  rec.error = why;
}

function* precopy(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord): Process<void> {
  const { kernel } = ctx;
  const m = rec.spec;
  const mem = vm.memory;
  const autoConverge = m.autoConverge ? new AutoConverge(m.throttleInitialPct, m.throttleIncrementPct) : null;
  // post-copy after N rounds: N live rounds, then the switch (QEMU: migrate-start-postcopy after N iterations)
  const maxRounds = m.mode === 'postcopy' ? m.postcopyAfterRounds : m.maxRounds;
  rec.phase = 'live';
  let set = mem.beginPrecopy();
  let decided: Switchover;
  for (let index = 0; ; index++) {
    const t0 = kernel.now;
    yield* sendOrRevert(ctx, rec, vm.host, m.to, set, m.bandwidthBps);
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
      startMs: ms(t0),
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
    if (fits || index + 1 >= maxRounds) {
      decided = fits ? 'converged' : 'forced';
      break;
    }
    if (autoConverge) {
      mem.setThrottlePct(autoConverge.afterRound(pendingBytes, set.bytes));
      rec.throttlePct = autoConverge.throttlePct;
    }
    set = mem.takeDirty();
  }
  // a post-copy whose rounds converged completes as a pre-copy, as QEMU does before migrate-start-postcopy
  if (m.mode === 'postcopy' && decided === 'forced') yield* postcopy(ctx, vm, rec, decided);
  else yield* stopAndCopy(ctx, vm, rec, null, decided);
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
  yield* sendOrRevert(ctx, rec, vm.host, m.to, { ...set, bytes }, null);
  const sendNs = kernel.now - pausedAt;
  yield* wait(ctx, rec, kernel.timeout(net.latencyNs));
  rec.count(set);
  rec.bytesSent += m.deviceStateBytes;
  rec.stopCopy = { pagesSent: Math.round(set.pages), bytesSent: Math.round(bytes), durationMs: ms(sendNs), startMs: ms(pausedAt) };
  if (!finish(kernel.now, vm, rec)) {
    // the destination discards a copy that fails verification: the VM goes on at the source
    rec.sourceResumeNs = kernel.now;
    rec.error += `; the VM resumed on ${rec.from}`;
    vm.memory.resume(kernel.now);
    ctx.lan?.reverted(m.vm, m.to, true);
    return;
  }
  rec.resumeNs = kernel.now;
  vm.memory.resume(kernel.now);
  ctx.lan?.resumed(m.vm, m.to);
}

/** Post-copy from the start (`immediate`), or after its live rounds (`forced`: the pages they left dirty are the ones still to move). */
function* postcopy(ctx: MigrationContext, vm: SimVm, rec: MigrationRecord, why: Switchover): Process<void> {
  const { kernel, net } = ctx;
  const m = rec.spec;
  const mem = vm.memory;
  const source = vm.host;
  pauseAtSwitchover(ctx, vm, rec, why);
  // auto-converge throttled the source's vCPUs; the destination's run free
  mem.setThrottlePct(0);
  yield* sendOrRevert(ctx, rec, source, m.to, { pages: 0, zeroPages: 0, bytes: m.deviceStateBytes }, null);
  yield* wait(ctx, rec, kernel.timeout(net.latencyNs));
  rec.bytesSent += m.deviceStateBytes;
  rec.resumeNs = kernel.now;
  rec.phase = 'postcopy';
  const linkBps = net.link.bandwidthBps;
  // a fault costs the vCPU a request across and the page back
  const faultCostNs = 2 * net.latencyNs + transferNs(pageWireBytes(mem.pageSize), linkBps);
  mem.beginPostcopy(faultCostNs, (t) => net.pathResumesAt(source, m.to, t));
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
    yield* pushOrRecover(ctx, rec, source, { pages: 0, zeroPages: 0, bytes: (chunk?.bytes ?? 0) + faultBytes });
    mem.advanceTo(kernel.now);
    if (chunk) {
      mem.landPushChunk();
      rec.count(chunk);
    }
  }
  yield* wait(ctx, rec, kernel.timeout(net.latencyNs));
  rec.postcopy = postcopyResult(rec, mem);
  finish(kernel.now, vm, rec);
}

function postcopyResult(rec: MigrationRecord, mem: MigratingMemory): MigrationResult['postcopy'] {
  const stats = mem.postcopyStats();
  return {
    faults: Math.round(stats.faults),
    faultLatencyMs: ms(stats.faultWaitNs),
    pagesPushed: Math.round(stats.pagesPushed),
    outageWaitMs: ms(stats.outageWaitNs),
    recoveries: rec.recoveries,
  };
}

/**
 * One post-copy push: if the connection breaks, QEMU pauses post-copy (the guest waits on its
 * faults) and libvirt recovers it once the link carries again: a new connection (a round trip)
 * and the chunk sent again.
 */
function* pushOrRecover(ctx: MigrationContext, rec: MigrationRecord, source: string, set: SendSet): Process<void> {
  const { kernel, net } = ctx;
  const to = rec.spec.to;
  while (!(yield* send(ctx, rec, source, to, set, rec.spec.bandwidthBps))) {
    const brokeAt = kernel.now;
    while (!net.isUp(source) || !net.isUp(to)) yield* wait(ctx, rec, kernel.timeout(RECOVERY_POLL_NS));
    yield* wait(ctx, rec, kernel.timeout(2 * net.latencyNs));
    // the guest's faults waited from the cut (TCP's whole give-up before the break) to the recovery
    net.addOutage(source, brokeAt - TCP_GIVE_UP_NS, kernel.now);
    rec.recoveries++;
  }
}

/**
 * The destination holds the VM's memory now: verify it. A copy that checks out (or cannot be
 * checked, at fluid) hands the VM over; one that fails keeps it on the source — unless post-copy
 * already runs it on the destination. Returns whether the VM is the destination's.
 */
function finish(now: Ns, vm: SimVm, rec: MigrationRecord): boolean {
  const check = vm.memory.complete();
  rec.endNs = now;
  rec.phase = 'done';
  rec.memoryVerified = check === null ? null : check.ok;
  const ok = !check || check.ok;
  // post-copy: the destination already runs the VM (resumed), whatever the check says
  if (ok || rec.resumeNs !== null) vm.host = rec.spec.to;
  if (ok) {
    rec.outcome = 'completed';
  } else {
    rec.outcome = 'failed';
    rec.error = `memory verification failed: ${check.mismatched} page(s) on ${rec.spec.to} differ from the source's last write (first: page ${check.firstPage})`;
  }
  return ok;
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
    if (rec.phase === 'paused') rec.sourceResumeNs = endNs;
    rec.gaveUpNs = endNs;
    rec.outcome = 'reverted';
    rec.error = `cancelled: the run ended at ${at} before the migration finished`;
  }
  rec.phase = 'done';
  vm.migrating = false;
  vm.current = null;
}
