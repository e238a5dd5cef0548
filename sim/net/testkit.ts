// Test support for the network actors (used only by sim/net/*.test.ts): a clock that is a
// sorted queue of timers, and a hub that hands every frame to every other endpoint a fixed
// latency later and keeps a log of what was sent. No switch: the actors' own address
// filters decide what they take.

import type { FrameSink } from '../../switch/platform.js';
import type { Clock, Ns, Timer } from '../../model/time.js';
import { readInbound, type Inbound } from './frames.js';

interface Entry {
  at: Ns;
  seq: number;
  fn: () => void;
  dead: boolean;
}

/** Integer-ns virtual time; timers due at the same instant run in the order they were set (as the sim kernel). */
export class TestClock implements Clock {
  private t: Ns = 0;
  private seq = 0;
  private readonly queue: Entry[] = [];

  now(): Ns {
    return this.t;
  }

  schedule(delayNs: Ns, fn: () => void): Timer {
    if (!(delayNs >= 0)) throw new Error(`negative or invalid delay ${delayNs}`);
    const e: Entry = { at: this.t + Math.ceil(delayNs), seq: this.seq++, fn, dead: false };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.queue[mid]!;
      if (m.at < e.at || (m.at === e.at && m.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, e);
    return { cancel: () => { e.dead = true; } };
  }

  /** Run every timer due within the next `ns`, then stand at now + ns. */
  advance(ns: Ns): void {
    this.runUntil(this.t + ns);
  }

  runUntil(t: Ns): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= t) {
      const e = this.queue.shift()!;
      this.t = e.at;
      if (!e.dead) e.fn();
    }
    if (t > this.t) this.t = t;
  }

  /** Timers not yet run (cancelled ones included). */
  get pending(): number {
    return this.queue.filter((e) => !e.dead).length;
  }
}

export interface Sent {
  t: Ns;
  from: string;
  frame: Uint8Array;
}

/** A shared segment: every frame goes to every other endpoint `latencyNs` later, unless `drop` says otherwise. */
export class Hub {
  readonly log: Sent[] = [];
  private readonly ends: { name: string; receive: (frame: Uint8Array) => void }[] = [];
  drop: ((s: Sent) => boolean) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly latencyNs: Ns = 0,
  ) {}

  /** Connect an endpoint; the sink it sends with. */
  connect(name: string, receive: (frame: Uint8Array) => void): FrameSink {
    this.ends.push({ name, receive });
    return (frame) => this.send(name, frame);
  }

  send(from: string, frame: Uint8Array): void {
    const s: Sent = { t: this.clock.now(), from, frame };
    this.log.push(s);
    if (this.drop?.(s)) return;
    this.clock.schedule(this.latencyNs, () => {
      for (const e of this.ends) if (e.name !== from) e.receive(frame);
    });
  }

  /** What `from` sent, decoded (frames the codecs reject are left out). */
  sentBy(from: string, since: Ns = 0): (Inbound & { t: Ns })[] {
    const out: (Inbound & { t: Ns })[] = [];
    for (const s of this.log) {
      if (s.from !== from || s.t < since) continue;
      const d = readInbound(s.frame);
      if (d) out.push({ ...d, t: s.t });
    }
    return out;
  }
}

/** A RandomSource from a seed (sfc32 via the sim's generator would do too; this keeps the tests self-contained). */
export function seededRandom(seed: number): { next(): number } {
  let s = seed >>> 0 || 1;
  return {
    next() {
      // xorshift32
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 4294967296;
    },
  };
}

/** The option codes of a DHCP message in wire order (Pad skipped, End stops), to check exactly what was sent. */
export function dhcpOptionCodes(payload: Uint8Array): number[] {
  const codes: number[] = [];
  let i = 240;
  while (i < payload.length) {
    const c = payload[i]!;
    if (c === 0) {
      i++;
      continue;
    }
    if (c === 255) break;
    codes.push(c);
    i += 2 + (payload[i + 1] ?? 0);
  }
  return codes;
}
