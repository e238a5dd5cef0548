// The network side of a migration's result (DOC_EXAMPLE.md "Result file"), read from what the
// switch logged and what the VM and the probe observed. Every time is relative to the
// VM's resume on the destination: 0 when the thing was already done by then, null when
// it never happened within the run. Both engines compute the fields here: the sim from its
// LAN's objects, the testbed from the Redis stream and the containers' logs
// (testbed/result.ts); hence the small structural types below.

import type { EventLog } from './event-log.js';
import type { MigrationResult } from './format.js';
import type { VmSpec } from '../scenario/types.js';
import type { Ns } from '../time.js';

export type RebindFields = Pick<
  MigrationResult,
  'dhcpRebindMs' | 'igmpRebindMs' | 'sourceGuardDrops' | 'multicastGapMs' | 'multicastLost' | 'serviceInterruptionMs'
>;

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

export function sourceGuardDrops(log: EventLog, w: MoveWindow): number {
  const times = log.sourceGuardDrops.get(w.vm.spec.mac) ?? [];
  return times.filter((t) => t >= w.resumeNs && t < w.untilNs).length;
}

/**
 * The receive gap around the move: from the last datagram before the switchover to the
 * first after the resume, per group; the largest gap, and the datagrams lost across it.
 * What a receiver logs between the two does not count: a paused VM receives nothing (the
 * sim's), and the testbed freezes the VM's container a few ms after the source's pause.
 */
export function multicastGap(w: MoveWindow): { gapMs: number | null; lost: number | null } {
  if (w.vm.spec.multicast.length === 0) return { gapMs: null, lost: null };
  let gap: number | null = null;
  let lost = 0;
  for (const g of w.vm.spec.multicast) {
    const rx = w.vm.multicast.filter((r) => r.group === g && r.t < w.untilNs);
    const before = rx.filter((r) => r.t <= w.switchoverNs).at(-1);
    const after = rx.find((r) => r.t > w.resumeNs);
    if (!before || !after) return { gapMs: null, lost: null };
    gap = Math.max(gap ?? 0, after.t - before.t);
    lost += Math.max(0, after.seq - before.seq - 1);
  }
  return { gapMs: gap === null ? null : ms(gap), lost };
}

/** The longest run of unanswered probe echoes sent from just before the switchover to the window's end. */
export function serviceInterruptionMs(probe: EchoLog | null, w: MoveWindow, intervalNs: Ns): number | null {
  if (!probe) return null;
  const echoes = probe.answeredAt(w.vm.spec.name).filter((e) => e.sentAt >= w.switchoverNs - intervalNs && e.sentAt < w.untilNs);
  if (echoes.length === 0) return null;
  let longest = 0;
  let run = 0;
  for (const e of echoes) {
    // an echo still in flight at the window's end is not a loss
    if (e.repliedAt === null && e.sentAt < w.untilNs - 50e6) run++;
    else {
      longest = Math.max(longest, run);
      run = 0;
    }
  }
  longest = Math.max(longest, run);
  return ms(longest * intervalNs);
}

export function rebindFields(log: EventLog, probe: EchoLog | null, w: MoveWindow, probeIntervalNs: Ns): RebindFields {
  const mc = multicastGap(w);
  return {
    dhcpRebindMs: dhcpRebindMs(log, w),
    igmpRebindMs: igmpRebindMs(log, w),
    sourceGuardDrops: sourceGuardDrops(log, w),
    multicastGapMs: mc.gapMs,
    multicastLost: mc.lost,
    serviceInterruptionMs: serviceInterruptionMs(probe, w, probeIntervalNs),
  };
}
