// The forwarding database: (VLAN, MAC) → port. Entries from VDP associations are static
// (the station said where the VSI is) and win over learning; learned entries age out: a
// lookup ignores (and drops) an entry older than the ageing time, and `sweep` — run by the
// switch every FDB_SWEEP_NS on its clock — removes every such entry without waiting for a
// lookup. Learning is limited per port (FDB_MAX_LEARNED_PER_PORT): beyond it a new source
// is not learned (counted in `limitDrops`); its frames are still forwarded as before.

import type { Ns } from '../model/time.js';

export const FDB_AGING_NS = 300e9; // 802.1Q default ageing time
/** how often the switch sweeps aged entries: a learned entry lives at most 1.5 × the ageing time */
export const FDB_SWEEP_NS = FDB_AGING_NS / 2;
/** learned entries per port; static (VDP) entries do not count and are never refused */
export const FDB_MAX_LEARNED_PER_PORT = 1024;

export interface FdbEntry {
  port: number;
  isStatic: boolean;
  seen: Ns;
}

const key = (vlan: number, mac: string) => `${vlan}/${mac}`;

export class ForwardingTable {
  private readonly entries = new Map<string, FdbEntry>();
  /** port → learned entries on it */
  private readonly learnedOn = new Map<number, number>();
  /** source MACs not learned because their port was at the limit (exact) */
  limitDrops = 0;
  /** learned entries removed by `sweep` (exact) */
  aged = 0;

  constructor(readonly maxLearnedPerPort = FDB_MAX_LEARNED_PER_PORT, readonly agingNs: Ns = FDB_AGING_NS) {}

  lookup(vlan: number, mac: string, now: Ns): number | null {
    const k = key(vlan, mac);
    const e = this.entries.get(k);
    if (!e) return null;
    if (!e.isStatic && now - e.seen > this.agingNs) {
      this.delete(k, e);
      return null;
    }
    return e.port;
  }

  /** Learn from a frame's source; returns the previous port when the MAC moved. */
  learn(vlan: number, mac: string, port: number, now: Ns): { moved: boolean; from: number | null } {
    const k = key(vlan, mac);
    const e = this.entries.get(k);
    if (e?.isStatic) return { moved: false, from: null };
    if (e && e.port === port) {
      e.seen = now;
      return { moved: false, from: null };
    }
    if ((this.learnedOn.get(port) ?? 0) >= this.maxLearnedPerPort) {
      // not learned; an entry on another port is stale now, so it goes (frames to the MAC flood)
      this.limitDrops++;
      if (e) this.delete(k, e);
      return { moved: false, from: null };
    }
    if (e) this.count(e.port, -1);
    this.entries.set(k, { port, isStatic: false, seen: now });
    this.count(port, +1);
    return { moved: e !== undefined, from: e ? e.port : null };
  }

  /** A VDP associate's MAC/VID filter: the VSI is behind `port` now. */
  pin(vlan: number, mac: string, port: number, now: Ns): number | null {
    const k = key(vlan, mac);
    const prev = this.entries.get(k);
    if (prev && !prev.isStatic) this.count(prev.port, -1);
    this.entries.set(k, { port, isStatic: true, seen: now });
    return prev && prev.port !== port ? prev.port : null;
  }

  /** A de-associate removes the pin only if it still points at that port (the VSI may have moved on). */
  unpin(vlan: number, mac: string, port: number): void {
    const k = key(vlan, mac);
    const e = this.entries.get(k);
    if (e && e.isStatic && e.port === port) this.entries.delete(k);
  }

  /** Remove every learned entry older than the ageing time; static entries stay. */
  sweep(now: Ns): void {
    for (const [k, e] of this.entries) {
      if (!e.isStatic && now - e.seen > this.agingNs) {
        this.delete(k, e);
        this.aged++;
      }
    }
  }

  /** learned entries on `port` */
  learnedCount(port: number): number {
    return this.learnedOn.get(port) ?? 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(k: string, e: FdbEntry): void {
    this.entries.delete(k);
    if (!e.isStatic) this.count(e.port, -1);
  }

  private count(port: number, delta: number): void {
    const n = (this.learnedOn.get(port) ?? 0) + delta;
    if (n === 0) this.learnedOn.delete(port);
    else this.learnedOn.set(port, n);
  }
}
