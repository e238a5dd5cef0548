// The sim DHCP server's lease store (dhcp-server.ts), modelled on ISC dhcpd 4.4: a lease
// object per pool address once used, who it belongs to, which address a new client gets,
// and the dhcp-cache-threshold reuse test. No messages here, only the bookkeeping.

import { type Ipv4, type Mac, u32ToIp } from '../../model/address.js';
import type { Ns } from '../../model/time.js';
import type { RelayAgentInfo } from '../../wire/dhcp.js';
import { bytesEqual, inSubnet, type Subnet } from './frames.js';

export interface DhcpLease {
  mac: string;
  ip: string;
  clientId: Uint8Array | null;
  /** ns */
  start: number;
  end: number;
  lastTransaction: number;
}

/** ISC's DEFAULT_CACHE_THRESHOLD (dhcp-cache-threshold), percent of a lease's length. */
export const CACHE_THRESHOLD_PCT = 25;

type Binding = 'free' | 'active' | 'released' | 'abandoned';

/** ISC keeps a lease object for every pool address; this is one, created when first used. */
export interface LeaseRecord {
  word: number;
  ip: Ipv4;
  binding: Binding;
  /** the client it belongs or last belonged to (null: nobody, or abandoned) */
  mac: Mac | null;
  htype: number;
  hlen: number;
  clientId: Uint8Array | null;
  start: Ns;
  end: Ns;
  cltt: Ns;
  /** an OFFER reserves the address for `mac`/`clientId` until then */
  offerUntil: Ns;
  agentInfo: RelayAgentInfo | null;
}

export interface Client {
  mac: Mac;
  htype: number;
  clientId: Uint8Array | null;
}

/** ISC's clock: time(NULL), whole seconds. The sim's t = 0 is the epoch. */
export function sec(t: Ns): number {
  return Math.floor(t / 1e9);
}

export class LeaseStore {
  private readonly records = new Map<number, LeaseRecord>();

  /** Words of the server's address, its subnet and the pool's ends (checked by the server). */
  constructor(
    private readonly serverWord: number,
    private readonly subnet: Subnet,
    private readonly poolFirst: number,
    private readonly poolLast: number,
  ) {}

  get(w: number): LeaseRecord | undefined {
    return this.records.get(w);
  }

  /** Every lease object, in the order they were created. */
  all(): LeaseRecord[] {
    return [...this.records.values()];
  }

  /** The active (bound, unexpired) leases, by address. */
  active(now: Ns): DhcpLease[] {
    return this.all()
      .filter((r) => this.isActive(r, now))
      .sort((a, b) => a.word - b.word)
      .map((r) => ({ mac: r.mac!, ip: r.ip, clientId: r.clientId ? r.clientId.slice() : null, start: r.start, end: r.end, lastTransaction: r.cltt }));
  }

  isActive(r: LeaseRecord, now: Ns): boolean {
    return r.binding === 'active' && r.end > now;
  }

  inPool(w: number): boolean {
    return w >= this.poolFirst && w <= this.poolLast && w !== this.serverWord && w !== this.subnet.network && w !== this.subnet.broadcast;
  }

  inSubnet(w: number): boolean {
    return inSubnet(this.subnet, w);
  }

  sameClient(r: LeaseRecord, c: Client): boolean {
    if (r.mac === null) return false;
    if (c.clientId !== null && r.clientId !== null) return bytesEqual(r.clientId, c.clientId);
    return r.mac === c.mac && r.htype === c.htype;
  }

  setClient(r: LeaseRecord, c: Client): void {
    r.mac = c.mac;
    r.htype = c.htype;
    r.hlen = 6;
    r.clientId = c.clientId === null ? null : c.clientId.slice();
  }

  /**
   * reuse_lease's test: the client's own active lease, no older (whole seconds, ISC's clock)
   * than CACHE_THRESHOLD_PCT of its length.
   */
  reusable(rec: LeaseRecord, client: Client, now: Ns): boolean {
    if (!this.isActive(rec, now) || !this.sameClient(rec, client)) return false;
    const length = sec(rec.end) - sec(rec.start);
    return sec(now) - sec(rec.start) <= Math.floor((length * CACHE_THRESHOLD_PCT) / 100);
  }

  /** What an unaltered lease has left: ISC's offered_expiry − cur_time. */
  remainingSec(rec: LeaseRecord, now: Ns): number {
    return sec(rec.end) - sec(now);
  }

  /** get_newest_lease: the active one with the latest transaction, else the one that ended last. */
  newest(list: LeaseRecord[], now: Ns): LeaseRecord | null {
    let best: LeaseRecord | null = null;
    for (const r of list) {
      if (!best) best = r;
      else if (this.isActive(best, now)) {
        if (this.isActive(r, now) && r.cltt > best.cltt) best = r;
      } else if (this.isActive(r, now) || r.end > best.end) best = r;
    }
    return best;
  }

  /** The client's own lease: active (latest transaction) first, then a pending offer, then the latest ended. */
  clientRecord(c: Client, now: Ns): LeaseRecord | null {
    let best: LeaseRecord | null = null;
    let bestRank = -1;
    for (const r of this.records.values()) {
      if (r.binding === 'abandoned' || !this.sameClient(r, c)) continue;
      const rank = this.isActive(r, now) ? 2 : r.offerUntil > now ? 1 : 0;
      const key = rank === 2 ? r.cltt : r.end;
      const bestKey = best === null ? -Infinity : bestRank === 2 ? best.cltt : best.end;
      if (rank > bestRank || (rank === bestRank && key > bestKey)) {
        best = r;
        bestRank = rank;
      }
    }
    return best;
  }

  /**
   * How free an address is for a new client: 0 never held (or held by nobody now), 1 let go by
   * another client (kept for its return as long as possible), 2 abandoned; −1 taken (an active
   * lease or a pending offer).
   */
  tier(r: LeaseRecord, now: Ns): number {
    if (r.binding === 'abandoned') return 2;
    if (this.isActive(r, now) || r.offerUntil > now) return -1;
    return r.mac === null ? 0 : 1;
  }

  availableTo(r: LeaseRecord, c: Client, now: Ns): boolean {
    if (r.binding !== 'abandoned' && this.sameClient(r, c)) return true;
    const t = this.tier(r, now);
    return t === 0 || t === 1;
  }

  /** The lowest address of the best tier, or null when the pool is exhausted. */
  allocate(now: Ns): LeaseRecord | null {
    let fallback: [number, number] | null = null; // [tier, word]
    for (let w = this.poolFirst; w <= this.poolLast; w++) {
      if (!this.inPool(w)) continue;
      const r = this.records.get(w);
      const t = r ? this.tier(r, now) : 0;
      if (t === 0) return this.record(w);
      if (t > 0 && (fallback === null || t < fallback[0])) fallback = [t, w];
    }
    if (fallback === null) return null;
    const r = this.record(fallback[1]);
    if (r.binding === 'abandoned') r.binding = 'free';
    return r;
  }

  /** The lease object of an address, created (free) when first used. */
  record(w: number): LeaseRecord {
    let r = this.records.get(w);
    if (!r) {
      r = this.phantom(w);
      this.records.set(w, r);
    }
    return r;
  }

  /** A free lease object for an address, not stored. */
  phantom(w: number): LeaseRecord {
    return {
      word: w, ip: u32ToIp(w), binding: 'free', mac: null, htype: 1, hlen: 6, clientId: null,
      start: 0, end: 0, cltt: 0, offerUntil: -1, agentInfo: null,
    };
  }
}
