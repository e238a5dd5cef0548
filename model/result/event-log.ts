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
  | { t: Ns; kind: 'migration-detected'; port: string; mac: string; from: string | null }
  | { t: Ns; kind: 'leasequery-sent'; mac: string; by: 'mac' | 'ip'; ip: string | null; attempt: number }
  | { t: Ns; kind: 'leasequery-reply'; mac: string; reply: string; ip: string | null }
  | { t: Ns; kind: 'leasequery-gave-up'; mac: string }
  | { t: Ns; kind: 'assist-sent'; port: string; mac: string }
  | { t: Ns; kind: 'igmp-query-sent'; port: string; group: string; to: string; maxRespMs: number }
  | { t: Ns; kind: 'igmp-join'; port: string; group: string; vlan: number; mac: string }
  | { t: Ns; kind: 'igmp-leave'; port: string; group: string; vlan: number; cause: 'leave' | 'expired' }
  | { t: Ns; kind: 'malformed'; port: string; layer: string; reason: string };

type Kind = SwitchEvent['kind'];
export type EventOf<K extends Kind> = Extract<SwitchEvent, { kind: K }>;

/** Keeps every event but the frequent ones, which are counted (drops keep their times for metrics). */
export class EventLog {
  readonly events: SwitchEvent[] = [];
  /** source MAC → times of frames IP source guard dropped */
  readonly sourceGuardDrops = new Map<string, Ns[]>();
  malformedCount = 0;
  /** malformed frames are logged up to this many, then only counted */
  static readonly MAX_MALFORMED_LOGGED = 100;

  add(e: SwitchEvent): void {
    if (e.kind === 'malformed') {
      this.malformedCount++;
      if (this.malformedCount > EventLog.MAX_MALFORMED_LOGGED) return;
    }
    this.events.push(e);
  }

  sourceGuardDrop(mac: string, t: Ns): void {
    let times = this.sourceGuardDrops.get(mac);
    if (!times) this.sourceGuardDrops.set(mac, (times = []));
    times.push(t);
  }

  of<K extends Kind>(kind: K): EventOf<K>[] {
    return this.events.filter((e): e is EventOf<K> => e.kind === kind);
  }
}
