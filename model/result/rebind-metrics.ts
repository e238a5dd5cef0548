// The network side of a migration's result (DOC_EXAMPLE.md "Result file"), read from what the
// switch logged and what the VM and the probe observed. Every time is relative to the
// VM's resume on the destination: 0 when the thing was already done by then, null when
// it never happened within the run. A measure whose interval was still open at the end of
// the move's window is reported with what was seen (a lower bound) and named in
// `lowerBounds`: docs/result-format.md "lowerBounds". Both engines compute the fields here: the sim from its
// LAN's objects, the testbed from the Redis stream and the containers' logs
// (testbed/result.ts); hence the small structural types below.

import type { EventLog } from './event-log.js';
import type { LowerBoundField, MigrationResult } from './format.js';
import type { VmSpec } from '../scenario/types.js';
import type { Ns } from '../time.js';

export type RebindFields = Pick<
  MigrationResult,
  'dhcpRebindMs' | 'igmpRebindMs' | 'sourceGuardDrops' | 'multicastGapMs' | 'multicastLost' | 'serviceInterruptionMs' | 'lowerBounds' | 'networkTimes'
>;

/**
 * An echo sent, or a datagram sent, this close to the window's end may still be on its way:
 * it is neither a loss nor a reply (on the testbed a reply or datagram this late is stale).
 */
export const IN_FLIGHT_NS = 50e6;

/**
 * What the multicast sources sent: the highest sequence number of `group` sent before `t`
 * (−1: none yet), or null when that is not known (no source of that group, or `t` not recorded).
 */
export type SentBefore = (group: string, t: Ns) => number | null;

/** What the metrics need of a VM: its identity and the multicast datagrams it received. */
export interface ObservedVm {
  spec: Pick<VmSpec, 'name' | 'mac' | 'multicast'>;
  /** multicast datagrams received: group, seq, time */
  multicast: readonly { group: string; seq: number; t: Ns }[];
}

/** One probe echo to a VM: when it was sent, when its reply came back (null: never). */
export interface EchoRecord {
  sentAt: Ns;
  repliedAt: Ns | null;
}

/** What the metrics need of the probe: each target's echoes, in the order sent. */
export interface EchoLog {
  answeredAt(vm: string): readonly EchoRecord[];
}

export interface MoveWindow {
  vm: ObservedVm;
  /** the destination host (the switch port's name) */
  to: string;
  switchoverNs: Ns;
  resumeNs: Ns;
  /** the end of this move's window: the next migration of the VM, or the end of the run */
  untilNs: Ns;
  /**
   * what the sources sent, to count the datagrams of a stream that had not come back by the
   * window's end; without it such a gap stays null
   */
  sent?: SentBefore;
}

const ms = (ns: Ns): number => Math.round(ns) / 1e6;
const sinceResume = (t: Ns, resume: Ns): number => ms(Math.max(0, t - resume));

/** Resume → the switch binding the VM's MAC+IP to its new port. */
export function dhcpRebindMs(log: EventLog, w: MoveWindow): number | null {
  const mac = w.vm.spec.mac;
  const e = log.events.find((x) =>
    x.t >= w.switchoverNs && x.t < w.untilNs &&
    ((x.kind === 'binding-moved' && x.mac === mac && x.to === w.to) || (x.kind === 'binding-added' && x.mac === mac && x.port === w.to)));
  return e ? sinceResume(e.t, w.resumeNs) : null;
}

/**
 * Resume → the switch forwarding every one of the VM's groups to its new port. A membership
 * already alive on that port at the switchover (another VM there, or this one's from an
 * earlier stay) forwards the group at once.
 */
export function igmpRebindMs(log: EventLog, w: MoveWindow): number | null {
  const groups = w.vm.spec.multicast;
  if (groups.length === 0) return null;
  let last = -Infinity;
  for (const g of groups) {
    const here = (x: { port: string; group: string; t: Ns }) => x.port === w.to && x.group === g && x.t < w.untilNs;
    const joins = log.of('igmp-join').filter(here);
    const leaves = log.of('igmp-leave').filter(here);
    const alive = joins.some((j) => j.t < w.switchoverNs && !leaves.some((l) => l.t > j.t && l.t <= w.switchoverNs));
    const t = alive ? w.switchoverNs : joins.find((j) => j.t >= w.switchoverNs)?.t;
    if (t === undefined) return null;
    last = Math.max(last, t);
  }
  return sinceResume(last, w.resumeNs);
}

/** Frames of the VM that IP source guard dropped in [resume, window end). */
export function sourceGuardDrops(log: EventLog, w: MoveWindow): number {
  return log.sourceGuardDropsIn(w.vm.spec.mac, w.resumeNs, w.untilNs).count;
}

/**
 * The receive gap around the move: from the last datagram before the switchover to the
 * first after the resume, per group; the largest gap, and the datagrams lost across it.
 * What a receiver logs between the two does not count: a paused VM receives nothing (the
 * sim's), and the testbed freezes the VM's container a few ms after the source's pause.
 * A group whose stream had not come back by the window's end is still counted, as a lower
 * bound (`open`): its gap runs at least to the window's end, and every datagram its source
 * sent after the last one received before the switchover, up to IN_FLIGHT_NS before the
 * window's end, is lost.
 */
export function multicastGap(w: MoveWindow): { gapMs: number | null; lost: number | null; open: boolean; startNs: Ns | null } {
  const none = { gapMs: null, lost: null, open: false, startNs: null };
  if (w.vm.spec.multicast.length === 0) return none;
  let gap: number | null = null;
  let lost = 0;
  let open = false;
  // where the largest gap begins: the last datagram before the switchover of its group
  let startNs: Ns | null = null;
  const widest = (g: Ns, from: Ns): void => {
    if (gap === null || g > gap) startNs = from;
    gap = Math.max(gap ?? 0, g);
  };
  for (const g of w.vm.spec.multicast) {
    const rx = w.vm.multicast.filter((r) => r.group === g && r.t < w.untilNs);
    const before = rx.filter((r) => r.t <= w.switchoverNs).at(-1);
    // the stream never reached the VM before the move: there is no gap to measure
    if (!before) return none;
    const after = rx.find((r) => r.t > w.resumeNs);
    if (after) {
      widest(after.t - before.t, before.t);
      lost += Math.max(0, after.seq - before.seq - 1);
      continue;
    }
    const lastSent = w.sent?.(g, w.untilNs - IN_FLIGHT_NS) ?? null;
    if (lastSent === null) return none;
    open = true;
    widest(w.untilNs - before.t, before.t);
    lost += Math.max(0, lastSent - before.seq);
  }
  return { gapMs: gap === null ? null : ms(gap), lost, open, startNs };
}

/**
 * The longest run of unanswered probe echoes sent from just before the switchover to the
 * window's end, × the interval. `open`: that longest run is the one still going at the
 * window's end (no echo after it was answered), so the interruption lasted at least that.
 */
export function serviceInterruption(probe: EchoLog | null, w: MoveWindow, intervalNs: Ns): { ms: number | null; open: boolean; startNs: Ns | null } {
  if (!probe) return { ms: null, open: false, startNs: null };
  const echoes = probe.answeredAt(w.vm.spec.name).filter((e) => e.sentAt >= w.switchoverNs - intervalNs && e.sentAt < w.untilNs);
  if (echoes.length === 0) return { ms: null, open: false, startNs: null };
  const cutoff = w.untilNs - IN_FLIGHT_NS;
  let longest = 0;
  let run = 0;
  // the first echo of the current run and of the longest (the earliest of equally long ones)
  let runStart: Ns | null = null;
  let startNs: Ns | null = null;
  const close = (): void => {
    if (run > longest) startNs = runStart;
    longest = Math.max(longest, run);
    run = 0;
  };
  for (const e of echoes) {
    // an echo still in flight at the window's end is not a loss
    if (e.repliedAt === null && e.sentAt < cutoff) {
      if (run === 0) runStart = e.sentAt;
      run++;
    } else close();
  }
  close();
  // the run of unanswered echoes the window ends in (none if an echo in flight was answered)
  let trailing = 0;
  for (let i = echoes.length - 1; i >= 0; i--) {
    const e = echoes[i]!;
    if (e.sentAt >= cutoff) {
      if (e.repliedAt !== null) break;
      continue;
    }
    if (e.repliedAt !== null) break;
    trailing++;
  }
  return { ms: ms(longest * intervalNs), open: trailing > 0 && trailing === longest, startNs };
}

/** serviceInterruption's value alone. */
export function serviceInterruptionMs(probe: EchoLog | null, w: MoveWindow, intervalNs: Ns): number | null {
  return serviceInterruption(probe, w, intervalNs).ms;
}

/**
 * The six network fields of one move and which of them are lower bounds. `sourceGuardDrops`
 * is one when drops were counted and the binding had not reached the destination port by the
 * window's end (the guard was still dropping the VM's traffic). `dhcpRebindMs` and
 * `igmpRebindMs` are instants: one that did not happen within the window is null, never a bound.
 */
export function rebindFields(log: EventLog, probe: EchoLog | null, w: MoveWindow, probeIntervalNs: Ns): RebindFields {
  const mc = multicastGap(w);
  const si = serviceInterruption(probe, w, probeIntervalNs);
  const dhcp = dhcpRebindMs(log, w);
  const guard = log.sourceGuardDropsIn(w.vm.spec.mac, w.resumeNs, w.untilNs);
  const drops = guard.count;
  const lowerBounds: LowerBoundField[] = [];
  // also a lower bound when the log's drop records were full before the window's end (EventLog)
  if ((drops > 0 && dhcp === null) || !guard.exact) lowerBounds.push('sourceGuardDrops');
  if (mc.open) lowerBounds.push('multicastGapMs', 'multicastLost');
  if (si.open) lowerBounds.push('serviceInterruptionMs');
  return {
    dhcpRebindMs: dhcp,
    igmpRebindMs: igmpRebindMs(log, w),
    sourceGuardDrops: drops,
    multicastGapMs: mc.gapMs,
    multicastLost: mc.lost,
    serviceInterruptionMs: si.ms,
    networkTimes: {
      sourceGuardFirstDropMs: guard.firstAt === null ? null : ms(guard.firstAt),
      sourceGuardLastDropMs: guard.lastAt === null ? null : ms(guard.lastAt),
      multicastGapStartMs: mc.gapMs === null || mc.startNs === null ? null : ms(mc.startNs),
      serviceInterruptionStartMs: si.ms === null || si.startNs === null ? null : ms(si.startNs),
    },
    lowerBounds,
  };
}
