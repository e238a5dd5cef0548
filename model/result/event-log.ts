// The switch's log of what it did and why: the result file carries it, and the rebind
// metrics are read from it. Times are the run clock's ns.

import type { Ns } from '../time.js';

export type SwitchEvent =
  | { t: Ns; kind: 'vdp-request'; port: string; mode: string; vsi: string; mac: string | null; vid: number | null; migratedTo: boolean; migratedFrom: boolean }
  | { t: Ns; kind: 'vdp-response'; port: string; mode: string; vsi: string; error: number }
  | { t: Ns; kind: 'vdp-timeout'; port: string; vsi: string }
  | { t: Ns; kind: 'fdb-move'; mac: string; vlan: number; from: string | null; to: string; cause: 'vdp' | 'learned' }
  | { t: Ns; kind: 'binding-added'; mac: string; ip: string; vlan: number; port: string; leaseSeconds: number }
  | { t: Ns; kind: 'binding-moved'; mac: string; ip: string; from: string; to: string; evidence: 'ack' | 'leaseactive' }
  | { t: Ns; kind: 'binding-removed'; mac: string; ip: string; port: string; cause: 'release' | 'decline' | 'nak' | 'expired' }
  /** a binding placed again from the persistent snooping database after a restart */
  | { t: Ns; kind: 'binding-restored'; mac: string; ip: string; vlan: number; port: string; leaseSeconds: number }
  /** the switch came back from a restart (scenario fault `switch-restart`): its state was lost */
  | { t: Ns; kind: 'switch-restarted'; downMs: number; bindingsRestored: number }
  | { t: Ns; kind: 'migration-detected'; port: string; mac: string; from: string | null }
  | { t: Ns; kind: 'leasequery-sent'; mac: string; by: 'mac' | 'ip'; ip: string | null; attempt: number }
  | { t: Ns; kind: 'leasequery-reply'; mac: string; reply: string; ip: string | null }
  | { t: Ns; kind: 'leasequery-gave-up'; mac: string }
  | { t: Ns; kind: 'assist-sent'; port: string; mac: string; cause?: 'fallback' }
  | { t: Ns; kind: 'igmp-query-sent'; port: string; group: string; to: string; maxRespMs: number }
  | { t: Ns; kind: 'igmp-join'; port: string; group: string; vlan: number; mac: string }
  | { t: Ns; kind: 'igmp-leave'; port: string; group: string; vlan: number; cause: 'leave' | 'expired' }
  | { t: Ns; kind: 'malformed'; port: string; layer: string; reason: string }
  /** the switch's control-plane guards (docs/protocols.md 3.5): what it refused, from whom, why */
  | { t: Ns; kind: 'refused'; port: string; what: 'evb' | 'frame' | 'vdp'; reason: string; mac: string; detail: string };

type Kind = SwitchEvent['kind'];
export type EventOf<K extends Kind> = Extract<SwitchEvent, { kind: K }>;

/** A run of source-guard drops of one MAC at one instant. */
export interface DropRun {
  t: Ns;
  n: number;
}

/**
 * The switch's log, bounded (docs/architecture.md "The switch, in both engines"): it keeps
 * the first MAX_EVENTS events (and of those, malformed ones up to MAX_MALFORMED_LOGGED) and
 * counts the rest; `counts` holds an exact count per kind of everything logged, kept or not.
 * Source-guard drops are kept per MAC as runs (drops at one instant share a record), the
 * first MAX_DROP_RUNS runs in all; later drops are only counted. What the rebind metrics read
 * is therefore exact for any window that ends by `firstDroppedAt` / `firstUnrecordedDropAt`
 * (always, in the shipped scenarios); `sourceGuardDropsIn` says when it is not.
 */
export class EventLog {
  readonly events: SwitchEvent[] = [];
  /** events logged per kind, exact (kept or not) */
  readonly counts = new Map<Kind, number>();
  /** events not kept because the log was full (malformed ones beyond their own cap not included) */
  dropped = 0;
  /** the time of the first event not kept because the log was full */
  firstDroppedAt: Ns | null = null;
  /** source MAC → runs of frames IP source guard dropped, in time order */
  readonly sourceGuardDrops = new Map<string, DropRun[]>();
  /** every source-guard drop, exact */
  sourceGuardDropCount = 0;
  /** source-guard drops not recorded in `sourceGuardDrops` (the runs were at their limit), exact */
  sourceGuardDropsUnrecorded = 0;
  firstUnrecordedDropAt: Ns | null = null;
  private dropRuns = 0;
  malformedCount = 0;
  /** malformed frames are logged up to this many, then only counted */
  static readonly MAX_MALFORMED_LOGGED = 100;
  /** events kept */
  static readonly MAX_EVENTS = 100_000;
  /** source-guard drop runs kept, over all MACs */
  static readonly MAX_DROP_RUNS = 100_000;

  constructor(readonly maxEvents = EventLog.MAX_EVENTS, readonly maxDropRuns = EventLog.MAX_DROP_RUNS) {}

  add(e: SwitchEvent): void {
    this.counts.set(e.kind, (this.counts.get(e.kind) ?? 0) + 1);
    if (e.kind === 'malformed') {
      this.malformedCount++;
      if (this.malformedCount > EventLog.MAX_MALFORMED_LOGGED) return;
    }
    if (this.events.length >= this.maxEvents) {
      this.dropped++;
      this.firstDroppedAt ??= e.t;
      return;
    }
    this.events.push(e);
  }

  sourceGuardDrop(mac: string, t: Ns): void {
    this.sourceGuardDropCount++;
    const runs = this.sourceGuardDrops.get(mac);
    const last = runs?.at(-1);
    if (last && last.t === t) {
      last.n++;
      return;
    }
    if (this.dropRuns >= this.maxDropRuns) {
      this.sourceGuardDropsUnrecorded++;
      this.firstUnrecordedDropAt ??= t;
      return;
    }
    this.dropRuns++;
    if (runs) runs.push({ t, n: 1 });
    else this.sourceGuardDrops.set(mac, [{ t, n: 1 }]);
  }

  /**
   * Drops of `mac` in [from, until), and the first and last of them recorded (null when none);
   * `exact` false when drops in that span may have gone unrecorded.
   */
  sourceGuardDropsIn(mac: string, from: Ns, until: Ns): { count: number; exact: boolean; firstAt: Ns | null; lastAt: Ns | null } {
    let count = 0;
    let firstAt: Ns | null = null;
    let lastAt: Ns | null = null;
    for (const r of this.sourceGuardDrops.get(mac) ?? []) {
      if (r.t < from || r.t >= until) continue;
      count += r.n;
      firstAt ??= r.t;
      lastAt = r.t;
    }
    return { count, exact: this.firstUnrecordedDropAt === null || this.firstUnrecordedDropAt >= until, firstAt, lastAt };
  }

  /** source-guard drops recorded in `sourceGuardDrops` */
  get sourceGuardDropsRecorded(): number {
    return this.sourceGuardDropCount - this.sourceGuardDropsUnrecorded;
  }

  /** Is every event up to (not including) `until` kept? */
  completeUntil(until: Ns): boolean {
    return this.firstDroppedAt === null || this.firstDroppedAt >= until;
  }

  of<K extends Kind>(kind: K): EventOf<K>[] {
    return this.events.filter((e): e is EventOf<K> => e.kind === kind);
  }
}
