// The forwarding database: (VLAN, MAC) → port. Entries from VDP associations are static
// (the station said where the VSI is) and win over learning; learned entries age out.

import type { Ns } from '../model/time.js';

export const FDB_AGING_NS = 300e9; // 802.1Q default ageing time

export interface FdbEntry {
  port: number;
  isStatic: boolean;
  seen: Ns;
}

const key = (vlan: number, mac: string) => `${vlan}/${mac}`;

export class ForwardingTable {
  private readonly entries = new Map<string, FdbEntry>();

  lookup(vlan: number, mac: string, now: Ns): number | null {
    const e = this.entries.get(key(vlan, mac));
    if (!e) return null;
    if (!e.isStatic && now - e.seen > FDB_AGING_NS) {
      this.entries.delete(key(vlan, mac));
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
    this.entries.set(k, { port, isStatic: false, seen: now });
    return { moved: e !== undefined, from: e ? e.port : null };
  }

  /** A VDP associate's MAC/VID filter: the VSI is behind `port` now. */
  pin(vlan: number, mac: string, port: number, now: Ns): number | null {
    const k = key(vlan, mac);
    const prev = this.entries.get(k);
    this.entries.set(k, { port, isStatic: true, seen: now });
    return prev && prev.port !== port ? prev.port : null;
  }

  /** A de-associate removes the pin only if it still points at that port (the VSI may have moved on). */
  unpin(vlan: number, mac: string, port: number): void {
    const k = key(vlan, mac);
    const e = this.entries.get(k);
    if (e && e.isStatic && e.port === port) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
