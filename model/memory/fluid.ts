// Closed forms for `fidelity: fluid`: expected distinct pages hit by W writes of a
// workload, with no per-page state. A workload is a set of segments of pages, each
// receiving a share of the writes uniformly; W writes then touch, in expectation,
// Σ count·(1 − e^(−W·share/count)) distinct pages (each page a Poisson process).

import type { WorkloadSpec } from '../scenario/types.js';

export interface Segment {
  first: number;
  count: number;
  /** share of all writes that land in this segment, uniformly over its pages */
  share: number;
}

export interface FluidProfile {
  /** expected distinct pages written by `writes` writes */
  distinct(writes: number): number;
  /** expected pages of [from, to) touched by the next `writes` writes, `scanStart` = writes already made */
  touchedIn(from: number, to: number, writes: number, scanStart: number): number;
  /**
   * Post-copy: the chance that the next write hits a page of [from, N) not yet touched
   * in the `writes` writes since resume (each such write is a fault).
   */
  faultsPerWrite(from: number, writes: number, scanStart: number): number;
}

/** Buckets of ranks in geometric steps: within one, Zipf probabilities differ by < ~7 %. */
function zipfSegments(pages: number, skew: number): Segment[] {
  const edges: number[] = [];
  const steps = 256;
  const ratio = Math.pow(pages, 1 / steps);
  let lo = 1;
  while (lo <= pages) {
    const hi = Math.min(pages, Math.max(lo, Math.floor(lo * ratio)));
    edges.push(lo, hi);
    lo = hi + 1;
  }
  let norm = 0;
  const segs: Segment[] = [];
  for (let i = 0; i < edges.length; i += 2) {
    const a = edges[i]!;
    const b = edges[i + 1]!;
    // Σ_{k=a}^{b} k^−s by the midpoint integral: exact enough for bucket weights
    const w = a === b ? Math.pow(a, -skew) : integralPow(a - 0.5, b + 0.5, skew);
    segs.push({ first: a - 1, count: b - a + 1, share: w });
    norm += w;
  }
  for (const s of segs) s.share /= norm;
  return segs;
}

function integralPow(x0: number, x1: number, s: number): number {
  if (Math.abs(s - 1) < 1e-12) return Math.log(x1 / x0);
  return (Math.pow(x1, 1 - s) - Math.pow(x0, 1 - s)) / (1 - s);
}

class SegmentProfile implements FluidProfile {
  constructor(private readonly segments: Segment[]) {}

  distinct(writes: number): number {
    let sum = 0;
    for (const s of this.segments) if (s.share > 0) sum += s.count * -Math.expm1((-writes * s.share) / s.count);
    return sum;
  }

  touchedIn(from: number, to: number, writes: number): number {
    let sum = 0;
    for (const s of this.segments) {
      const overlap = Math.min(to, s.first + s.count) - Math.max(from, s.first);
      if (overlap > 0 && s.share > 0) sum += overlap * -Math.expm1((-writes * s.share) / s.count);
    }
    return sum;
  }

  faultsPerWrite(from: number, writes: number): number {
    let sum = 0;
    for (const s of this.segments) {
      const overlap = s.first + s.count - Math.max(from, s.first);
      if (overlap > 0 && s.share > 0) {
        const perPage = s.share / s.count;
        sum += overlap * perPage * Math.exp(-writes * perPage);
      }
    }
    return sum;
  }
}

/** A wrapping scan: W writes touch min(N, W) pages, starting where the scan is. */
class ScanProfile implements FluidProfile {
  constructor(private readonly pages: number) {}

  distinct(writes: number): number {
    return Math.min(this.pages, writes);
  }

  touchedIn(from: number, to: number, writes: number, scanStart: number): number {
    if (writes >= this.pages) return to - from;
    const a = scanStart % this.pages;
    const b = a + writes;
    const overlap = (x0: number, x1: number) => Math.max(0, Math.min(to, x1) - Math.max(from, x0));
    return overlap(a, Math.min(b, this.pages)) + (b > this.pages ? overlap(0, b - this.pages) : 0);
  }

  faultsPerWrite(from: number, writes: number, scanStart: number): number {
    if (writes >= this.pages) return 0; // a whole pass since resume: every page is there
    return (scanStart + writes) % this.pages >= from ? 1 : 0;
  }
}

export function fluidProfile(spec: WorkloadSpec, pageCount: number, pageSize: number): FluidProfile {
  switch (spec.kind) {
    case 'idle':
      return new SegmentProfile([]);
    case 'uniform':
      return new SegmentProfile([{ first: 0, count: pageCount, share: 1 }]);
    case 'hotset':
      return new SegmentProfile([
        { first: 0, count: Math.max(1, Math.floor(spec.hotsetBytes / pageSize)), share: 1 },
      ]);
    case 'zipf':
      return new SegmentProfile(zipfSegments(pageCount, spec.skew));
    case 'sequential':
      return new ScanProfile(pageCount);
    case 'trace':
      throw new Error('a trace has no closed form');
  }
}
