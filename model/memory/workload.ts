// Guest write streams: which page each write hits, and when (guest time, ns).
// Writes are generated in slices on demand — the caller asks for the writes of an
// interval — so a 200k writes/s guest costs no event per write. Counts per slice are
// the rate times the slice (fractions carried over), pages independent and identically
// distributed per kind, so slicing does not change the statistics.
// No kernel import: the testbed's host agent drives the same generators in a worker.

import type { Random } from '../random.js';
import type { PageTrace, WorkloadSpec } from '../scenario/types.js';

export type WriteSink = (page: number, tNs: number) => void;

export interface Workload {
  readonly kind: WorkloadSpec['kind'];
  /** full-speed writes per second; for a trace, its mean rate */
  readonly writeRate: number;
  /** 0 = full speed … 0.99: the share of guest CPU time taken away (auto-converge) */
  throttle: number;
  /** Emit the writes that fall in guest time (fromNs, toNs], in time order. Returns how many. */
  advance(fromNs: number, toNs: number, sink: WriteSink): number;
}

/** Rate-driven kinds share the slicing; each supplies how to pick a page. */
abstract class RateWorkload implements Workload {
  abstract readonly kind: WorkloadSpec['kind'];
  throttle = 0;
  private carry = 0;

  constructor(readonly writeRate: number) {}

  protected abstract pick(): number;

  advance(fromNs: number, toNs: number, sink: WriteSink): number {
    const span = toNs - fromNs;
    if (span <= 0 || this.writeRate === 0) return 0;
    const exact = this.carry + (this.writeRate * (1 - this.throttle) * span) / 1e9;
    const n = Math.floor(exact);
    this.carry = exact - n;
    const step = span / n;
    for (let i = 1; i <= n; i++) sink(this.pick(), fromNs + step * i);
    return n;
  }
}

class IdleWorkload implements Workload {
  readonly kind = 'idle' as const;
  readonly writeRate = 0;
  throttle = 0;
  advance(): number {
    return 0;
  }
}

/**
 * Writes uniformly over the first `pages` pages: all of RAM for `uniform`; for `hotset`, the
 * working set, which sits at the bottom of RAM.
 */
class UniformOverWorkload extends RateWorkload {
  constructor(
    readonly kind: 'uniform' | 'hotset',
    rate: number,
    private readonly pages: number,
    private readonly rng: Random,
  ) {
    super(rate);
  }
  protected pick(): number {
    return Math.floor(this.rng.next() * this.pages);
  }
}

/** A scan over all pages at `writeRate` pages per second, wrapping at the end. */
class SequentialWorkload extends RateWorkload {
  readonly kind = 'sequential' as const;
  private position = 0;
  constructor(rate: number, private readonly pages: number) {
    super(rate);
  }
  protected pick(): number {
    const p = this.position;
    this.position = p + 1 === this.pages ? 0 : p + 1;
    return p;
  }
}

/**
 * Zipf over ranks 1..n (page = rank − 1): P(k) ∝ k^−s. Sampled in O(1) by
 * rejection-inversion (Hörmann & Derflinger, 1996), so large n costs no table.
 */
export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly threshold: number;

  constructor(private readonly n: number, private readonly s: number, private readonly rng: Random) {
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.threshold = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  sample(): number {
    for (;;) {
      const u = this.hN + this.rng.next() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.round(x);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.threshold || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }
  /** ∫ x^−s dx, written to stay accurate as s → 1 */
  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return expm1OverX((1 - this.s) * lx) * lx;
  }
  private hIntegralInverse(y: number): number {
    let t = y * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(log1pOverX(t) * y);
  }
}

function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6;
}
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3;
}

class ZipfWorkload extends RateWorkload {
  readonly kind = 'zipf' as const;
  private readonly sampler: ZipfSampler;
  constructor(rate: number, pages: number, skew: number, rng: Random) {
    super(rate);
    this.sampler = new ZipfSampler(pages, skew, rng);
  }
  protected pick(): number {
    return this.sampler.sample() - 1;
  }
}

/**
 * Replays a trace. A throttled guest runs the trace slower: trace time advances at
 * (1 − throttle) of guest time. With `loop`, the trace repeats every `spanNs`.
 */
class TraceWorkload implements Workload {
  readonly kind = 'trace' as const;
  readonly writeRate: number;
  throttle = 0;
  private traceClock = 0;
  private cursor = 0;
  private lap = 0;

  constructor(private readonly trace: PageTrace, private readonly loop: boolean) {
    const n = trace.pages.length;
    this.writeRate = n > 0 && trace.spanNs > 0 ? (n / trace.spanNs) * 1e9 : 0;
  }

  advance(fromNs: number, toNs: number, sink: WriteSink): number {
    const speed = 1 - this.throttle;
    const start = this.traceClock;
    const end = start + (toNs - fromNs) * speed;
    this.traceClock = end;
    const { timesNs, pages, spanNs } = this.trace;
    const n = pages.length;
    if (n === 0) return 0;
    let count = 0;
    for (;;) {
      if (this.cursor === n) {
        if (!this.loop || spanNs <= 0) break;
        this.cursor = 0;
        this.lap++;
      }
      const t = timesNs[this.cursor]! + this.lap * spanNs;
      if (t > end) break;
      // writes are emitted once, in order: the cursor never moves back
      sink(pages[this.cursor]!, fromNs + Math.max(0, t - start) / speed);
      count++;
      this.cursor++;
    }
    return count;
  }
}

export function createWorkload(spec: WorkloadSpec, pageCount: number, pageSize: number, rng: Random): Workload {
  switch (spec.kind) {
    case 'idle':
      return new IdleWorkload();
    case 'uniform':
      return new UniformOverWorkload('uniform', spec.writeRate, pageCount, rng);
    case 'hotset':
      return new UniformOverWorkload('hotset', spec.writeRate, Math.max(1, Math.floor(spec.hotsetBytes / pageSize)), rng);
    case 'zipf':
      return new ZipfWorkload(spec.writeRate, pageCount, spec.skew, rng);
    case 'sequential':
      return new SequentialWorkload(spec.writeRate, pageCount);
    case 'trace':
      return new TraceWorkload(spec.trace, spec.loop);
  }
}
