// What a migration's timeline shows (docs/reports.md "Timeline"), read from its result entry and
// the switch's event log: the migration's instants and rounds, the VDP exchanges, the rebind
// by leasequery, assistance or IGMP query, and the data plane's losses. Times are the run
// clock's ms. Pure: the chart (migration-charts.ts) and the tests read the same items.

import type { MigrationResult, RunResult } from '../model/result/format.js';

/** The rows of the timeline, top to bottom. */
export const LANES = ['migration', 'VDP', 'forwarding', 'DHCP snooping', 'IGMP snooping', 'source guard', 'probe', 'multicast'] as const;
export type Lane = (typeof LANES)[number];

export interface TimelineItem {
  lane: Lane;
  /** the kind of thing, the chart's colour: `live round`, `VDP associate`, … */
  kind: string;
  /** what exactly, for the table under the chart */
  label: string;
  startMs: number;
  /** a span's end; null for an instant */
  endMs: number | null;
}

type Event = NonNullable<RunResult['network']>['events'][number];

/** The run-clock span in which this migration's events are looked for: after the VM's previous migration ended, before its next one starts. */
export function eventWindow(r: RunResult, index: number): { from: number; until: number } {
  const m = r.migrations[index]!;
  const same = r.migrations.filter((x, i) => i !== index && x.vm === m.vm);
  const before = same.filter((x) => x.startMs < m.startMs).map((x) => x.endMs ?? x.gaveUpMs ?? x.startMs);
  const after = same.filter((x) => x.startMs > m.startMs).map((x) => x.startMs);
  return { from: before.length > 0 ? Math.max(...before) : -Infinity, until: after.length > 0 ? Math.min(...after) : Infinity };
}

const str = (e: Event, k: string): string | null => (typeof e[k] === 'string' ? (e[k] as string) : null);

function migrationItems(m: MigrationResult): TimelineItem[] {
  const out: TimelineItem[] = [];
  const at = (kind: string, label: string, t: number | null): void => {
    if (t !== null) out.push({ lane: 'migration', kind, label, startMs: t, endMs: null });
  };
  at('start', `migration starts (${m.from} → ${m.to}, ${m.mode})`, m.startMs);
  for (const round of m.rounds) {
    if (typeof round.startMs !== 'number') continue;
    out.push({
      lane: 'migration', kind: 'live round', startMs: round.startMs, endMs: round.startMs + round.durationMs,
      label: `round ${round.index}: ${round.pagesSent.toLocaleString('en-US')} pages sent, ${round.dirtyPagesAtEnd.toLocaleString('en-US')} dirty at its end`,
    });
  }
  if (m.stopCopy && typeof m.stopCopy.startMs === 'number') {
    out.push({ lane: 'migration', kind: 'paused transfer', label: `stop-and-copy: ${m.stopCopy.pagesSent.toLocaleString('en-US')} pages and the device state`, startMs: m.stopCopy.startMs, endMs: m.stopCopy.startMs + m.stopCopy.durationMs });
  }
  at('pause', `VM paused on ${m.from} (switchover${m.switchover ? `: ${m.switchover}` : ''})`, m.switchoverMs);
  at('resume', `VM resumed on ${m.to}`, m.resumeMs);
  at('end', `${m.from} released the VM`, m.endMs);
  at('given up', `migration given up (${m.outcome})`, m.gaveUpMs ?? null);
  return out;
}

/** The switch's events about this VM in the window: the first of each step of the move, and every leasequery attempt. */
function switchItems(m: MigrationResult, events: readonly Event[], mac: string, w: { from: number; until: number }): TimelineItem[] {
  // after the previous move's end (its last steps may share that instant), before the next one's start
  const mine = events.filter((e) => typeof e.t === 'number' && e.t > w.from && e.t < w.until);
  const out: TimelineItem[] = [];
  const after = m.switchoverMs ?? m.startMs;
  const first = (lane: Lane, kind: string, label: (e: Event) => string, test: (e: Event) => boolean): void => {
    const e = mine.find(test);
    if (e) out.push({ lane, kind, label: label(e), startMs: e.t, endMs: null });
  };
  const vdp = (mode: string, port: string | null) => (e: Event) => e.kind === 'vdp-request' && e.mac === mac && e.mode === mode && (port === null || e.port === port);
  first('VDP', 'VDP pre-associate', (e) => `pre-associate on ${str(e, 'port')}`, vdp('preassoc', m.to));
  first('VDP', 'VDP associate', (e) => `associate on ${str(e, 'port')}${e.migratedTo === true ? ' (M-bit: migrated to)' : ''}`, (e) => vdp('assoc', m.to)(e) && e.t >= after);
  first('VDP', 'VDP de-associate', (e) => `de-associate on ${str(e, 'port')}${e.migratedFrom === true ? ' (S-bit: migrated from)' : ''}`, vdp('deassoc', null));
  first('forwarding', 'FDB move', (e) => `forwarding entry moved ${str(e, 'from') ?? '—'} → ${str(e, 'to')} (${str(e, 'cause')})`, (e) => e.kind === 'fdb-move' && e.mac === mac && e.to === m.to && e.t >= after);
  for (const e of mine.filter((x) => x.kind === 'leasequery-sent' && x.mac === mac && x.t >= after)) {
    out.push({ lane: 'DHCP snooping', kind: 'leasequery sent', label: `leasequery by ${str(e, 'by')} (attempt ${String(e.attempt)})`, startMs: e.t, endMs: null });
  }
  first('DHCP snooping', 'leasequery reply', (e) => `leasequery reply: ${str(e, 'reply')}`, (e) => e.kind === 'leasequery-reply' && e.mac === mac && e.t >= after);
  first('DHCP snooping', 'leasequery gave up', () => 'leasequery gave up', (e) => e.kind === 'leasequery-gave-up' && e.mac === mac && e.t >= after);
  first('DHCP snooping', 'assistance request', (e) => `assistance request to the station on ${str(e, 'port')}${e.cause === 'fallback' ? ' (fallback)' : ''}`, (e) => e.kind === 'assist-sent' && e.mac === mac && e.t >= after);
  first('DHCP snooping', 'binding moved', (e) => (e.kind === 'binding-moved' ? `binding ${str(e, 'ip')} moved ${str(e, 'from')} → ${str(e, 'to')} (${str(e, 'evidence')})` : `binding ${str(e, 'ip')} added on ${str(e, 'port')}`),
    (e) => e.mac === mac && e.t >= after && ((e.kind === 'binding-moved' && e.to === m.to) || (e.kind === 'binding-added' && e.port === m.to)));
  first('IGMP snooping', 'IGMP query', (e) => `IGMP query for ${str(e, 'group')} to the VM on ${str(e, 'port')}`, (e) => e.kind === 'igmp-query-sent' && e.to === mac && e.port === m.to && e.t >= after);
  const groups = new Set<string>();
  for (const e of mine.filter((x) => x.kind === 'igmp-join' && x.mac === mac && x.port === m.to && x.t >= after)) {
    const g = str(e, 'group') ?? '';
    if (groups.has(g)) continue;
    groups.add(g);
    out.push({ lane: 'IGMP snooping', kind: 'IGMP report (join)', label: `report: ${g} joined on ${str(e, 'port')}`, startMs: e.t, endMs: null });
  }
  return out;
}

/** The data plane's losses, where the result places them (`networkTimes`); a lower bound says so. */
function dataPlaneItems(m: MigrationResult): TimelineItem[] {
  const nt = m.networkTimes;
  if (!nt) return [];
  const out: TimelineItem[] = [];
  const atLeast = (f: string): string => ((m.lowerBounds ?? []).includes(f as never) ? 'at least ' : '');
  if (m.sourceGuardDrops !== null && m.sourceGuardDrops > 0 && nt.sourceGuardFirstDropMs !== null && nt.sourceGuardLastDropMs !== null) {
    out.push({ lane: 'source guard', kind: 'source-guard drops', label: `${atLeast('sourceGuardDrops')}${m.sourceGuardDrops} frames dropped, first to last`, startMs: nt.sourceGuardFirstDropMs, endMs: nt.sourceGuardLastDropMs });
  }
  if (m.serviceInterruptionMs !== null && m.serviceInterruptionMs > 0 && nt.serviceInterruptionStartMs !== null) {
    out.push({ lane: 'probe', kind: 'service interruption', label: `${atLeast('serviceInterruptionMs')}${m.serviceInterruptionMs} ms of unanswered echoes`, startMs: nt.serviceInterruptionStartMs, endMs: nt.serviceInterruptionStartMs + m.serviceInterruptionMs });
  }
  if (m.multicastGapMs !== null && nt.multicastGapStartMs !== null) {
    out.push({ lane: 'multicast', kind: 'multicast gap', label: `${atLeast('multicastGapMs')}${m.multicastGapMs} ms without a datagram (${m.multicastLost ?? '?'} lost)`, startMs: nt.multicastGapStartMs, endMs: nt.multicastGapStartMs + m.multicastGapMs });
  }
  return out;
}

export interface Timeline {
  items: TimelineItem[];
  /** why part of it cannot be drawn from this result (an older result without the times) */
  notes: string[];
}

/** Everything the timeline of migration `index` of `r` shows, in time order. */
export function timelineOf(r: RunResult, index: number): Timeline {
  const m = r.migrations[index]!;
  const notes: string[] = [];
  const items = migrationItems(m);
  if (m.rounds.some((x) => typeof x.startMs !== 'number')) notes.push('this result does not record when its rounds started (a result written before round startMs): the rounds are not drawn');
  if (r.network) {
    const mac = r.network.macs?.[m.vm];
    if (mac) items.push(...switchItems(m, r.network.events, mac, eventWindow(r, index)));
    else notes.push(`this result does not name ${m.vm}'s MAC (network.macs): the switch's events are not placed`);
    if (m.networkTimes) items.push(...dataPlaneItems(m));
    else notes.push('this result does not place the data-plane losses in time (networkTimes): they are not drawn');
  }
  items.sort((a, b) => a.startMs - b.startMs || LANES.indexOf(a.lane) - LANES.indexOf(b.lane));
  return { items, notes };
}
