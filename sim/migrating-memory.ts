// A guest's RAM as the sim migrates it: one interface, two models (PagesMemory for
// `fidelity: pages`, FluidMemory for `fluid`), so the migration process is written once.
// The models and the guest's clock: docs/architecture.md ("The sim engine").

import { DirtyBitmap } from '../model/memory/dirty-bitmap.js';
import { wireBytes } from '../model/page-cost.js';
import { startsZero, zeroPageLimit } from '../model/memory/zero-page.js';
import type { FluidProfile } from '../model/memory/fluid.js';
import type { Ns } from '../model/time.js';
import type { Workload } from '../model/memory/workload.js';

export interface SendSet {
  pages: number;
  zeroPages: number;
  bytes: number;
}

export interface Verification {
  ok: boolean;
  mismatched: number;
  firstPage: number | null;
}

export interface PostcopyStats {
  faults: number;
  faultWaitNs: number;
  pagesPushed: number;
  /** of faultWaitNs: the part spent waiting for a cut migration link to carry the request */
  outageWaitNs: number;
}

/** When a page request made at real time `t` gets through (t itself unless the link was cut then). */
export type PathResumes = (t: Ns) => Ns;

export interface MigratingMemory {
  readonly pageCount: number;
  readonly pageSize: number;
  /** Run the guest up to real time `t`. */
  advanceTo(t: Ns): void;
  pause(t: Ns): void;
  resume(t: Ns): void;
  setThrottlePct(pct: number): void;
  /** Round 0: every page goes; the dirty log starts now. */
  beginPrecopy(): SendSet;
  /** Distinct pages written since the dirty set was last taken. */
  pendingPages(): number;
  /** Take and clear the dirty set; its pages go to the destination copy. */
  takeDirty(): SendSet;
  /**
   * The guest now runs on the destination, pulling absent pages on fault at `faultCostNs` each;
   * a fault while the link is cut waits until `resumes` says it gets through (pages model only).
   * Absent: every page, or after pre-copy rounds (beginPrecopy called) the pages dirtied since
   * the last take (QEMU's discard bitmap at the switch); the rest are there already.
   */
  beginPostcopy(faultCostNs: Ns, resumes?: PathResumes): void;
  /** Next pages of the background push, in page order, skipping those already there; null when done. */
  nextPushChunk(maxPages: number): SendSet | null;
  /** The chunk handed out last has arrived. */
  landPushChunk(): void;
  postcopyStats(): PostcopyStats;
  /** Migration done: check the destination copy (null when the model keeps no pages). */
  complete(): Verification | null;
  /** Migration abandoned: the source copy stays the guest's memory. */
  abort(): void;
}

const ABSENT = 0xffffffff;
/** Post-copy advances the guest in slices this long so faults stall it in order. */
const POSTCOPY_SLICE_NS = 100_000;

/**
 * The guest's vCPUs against real time, for both memory models: paused they write nothing,
 * and advanceTo accounts only for the running time since it was last called.
 */
abstract class GuestRunState {
  private lastReal = 0;
  private running = true;

  abstract advanceTo(t: Ns): void;

  /** Real ns the guest ran for between the last call and `t` (0 while paused). */
  protected ranUntil(t: Ns): Ns {
    const delta = t - this.lastReal;
    this.lastReal = t;
    return this.running && delta > 0 ? delta : 0;
  }

  pause(t: Ns): void {
    this.advanceTo(t);
    this.running = false;
  }

  resume(t: Ns): void {
    this.lastReal = t;
    this.running = true;
  }
}

export class PagesMemory extends GuestRunState implements MigratingMemory {
  readonly pageCount: number;
  private truth: Uint32Array;
  private dest: Uint32Array | null = null;
  private dirty: DirtyBitmap | null = null;
  private present: DirtyBitmap | null = null;
  private inFlight: number[] = [];
  private pushCursor = 0;
  private postcopy = false;
  private faultCostNs = 0;
  private resumes: PathResumes = (t) => t;
  private stats: PostcopyStats = { faults: 0, faultWaitNs: 0, pagesPushed: 0, outageWaitNs: 0 };
  private stallDebtNs = 0;
  /** post-copy: the real time at the start of the slice being run */
  private realCursor = 0;
  private guestClock = 0;
  private readonly zeroLimit: number;
  /** Fault injection for tests: the engine "forgets" to send this page. */
  forgetPage: number | null = null;

  constructor(
    readonly pageSize: number,
    pageCount: number,
    zeroShare: number,
    private readonly zeroSalt: number,
    private readonly workload: Workload,
  ) {
    super();
    this.pageCount = pageCount;
    this.truth = new Uint32Array(pageCount);
    this.zeroLimit = zeroPageLimit(zeroShare);
  }

  private isZero(page: number): boolean {
    return this.truth[page] === 0 && startsZero(page, this.zeroSalt, this.zeroLimit);
  }

  private readonly plainSink = (p: number): void => {
    this.truth[p]!++;
  };

  private readonly loggingSink = (p: number): void => {
    this.truth[p]!++;
    this.dirty!.set(p);
  };

  private readonly postcopySink = (p: number): void => {
    const dest = this.dest!;
    if (!this.present!.has(p)) {
      // the vCPU stops until the page is pulled from the source
      dest[p] = this.truth[p]!;
      this.present!.set(p);
      const outage = this.resumes(this.realCursor) - this.realCursor;
      this.stats.faults++;
      this.stats.faultWaitNs += this.faultCostNs + outage;
      this.stats.outageWaitNs += outage;
      this.stallDebtNs += this.faultCostNs + outage;
    }
    this.truth[p]!++;
    dest[p]!++;
  };

  advanceTo(t: Ns): void {
    const delta = this.ranUntil(t);
    if (delta === 0) return;
    if (!this.postcopy) {
      const from = this.guestClock;
      this.guestClock += delta;
      this.workload.advance(from, this.guestClock, this.dirty ? this.loggingSink : this.plainSink);
      return;
    }
    // real time is spent either running or stalled on a fault
    this.realCursor = t - delta + this.stallDebtNs;
    let budget = delta - this.stallDebtNs;
    this.stallDebtNs = 0;
    while (budget > 0) {
      const step = Math.min(budget, POSTCOPY_SLICE_NS);
      const from = this.guestClock;
      this.guestClock += step;
      this.workload.advance(from, this.guestClock, this.postcopySink);
      budget -= step + this.stallDebtNs;
      this.realCursor += step + this.stallDebtNs;
      this.stallDebtNs = 0;
    }
    this.stallDebtNs = -budget;
  }

  setThrottlePct(pct: number): void {
    this.workload.throttle = pct / 100;
  }

  beginPrecopy(): SendSet {
    this.dest = this.truth.slice();
    this.dirty = new DirtyBitmap(this.pageCount);
    let zeros = 0;
    if (this.zeroLimit > 0) for (let p = 0; p < this.pageCount; p++) if (this.isZero(p)) zeros++;
    if (this.forgetPage !== null) this.dest[this.forgetPage] = ABSENT;
    return this.sendSet(this.pageCount, zeros);
  }

  pendingPages(): number {
    return this.dirty ? this.dirty.count : 0;
  }

  takeDirty(): SendSet {
    const dest = this.dest!;
    const truth = this.truth;
    let zeros = 0;
    const pages = this.dirty!.drain((p) => {
      if (p !== this.forgetPage) dest[p] = truth[p]!;
      if (this.isZero(p)) zeros++;
    });
    return this.sendSet(pages, zeros);
  }

  beginPostcopy(faultCostNs: Ns, resumes: PathResumes = (t) => t): void {
    this.postcopy = true;
    this.faultCostNs = faultCostNs;
    this.resumes = resumes;
    const stale = this.dirty;
    this.dirty = null;
    if (stale && this.dest) {
      // after pre-copy rounds: the destination keeps what they sent; only the dirty pages are absent
      const dest = this.dest;
      this.present = stale.complement();
      stale.drain((p) => {
        dest[p] = ABSENT;
      });
    } else {
      this.dest = new Uint32Array(this.pageCount).fill(ABSENT);
      this.present = new DirtyBitmap(this.pageCount);
    }
    this.pushCursor = 0;
    this.stats = { faults: 0, faultWaitNs: 0, pagesPushed: 0, outageWaitNs: 0 };
  }

  nextPushChunk(maxPages: number): SendSet | null {
    const present = this.present!;
    if (this.pushCursor >= this.pageCount) return null;
    this.inFlight = [];
    let zeros = 0;
    while (this.pushCursor < this.pageCount && this.inFlight.length < maxPages) {
      const p = this.pushCursor++;
      if (present.has(p)) continue;
      this.inFlight.push(p);
      if (this.isZero(p)) zeros++;
    }
    return this.sendSet(this.inFlight.length, zeros);
  }

  landPushChunk(): void {
    const present = this.present!;
    const dest = this.dest!;
    for (const p of this.inFlight) {
      if (present.has(p)) continue; // pulled by a fault meanwhile; the push copy is stale
      if (p !== this.forgetPage) dest[p] = this.truth[p]!;
      present.set(p);
      this.stats.pagesPushed++;
    }
    this.inFlight = [];
  }

  postcopyStats(): PostcopyStats {
    return { ...this.stats };
  }

  complete(): Verification {
    const dest = this.dest!;
    const truth = this.truth;
    let mismatched = 0;
    let firstPage: number | null = null;
    for (let p = 0; p < this.pageCount; p++) {
      if (dest[p] !== truth[p]) {
        if (firstPage === null) firstPage = p;
        mismatched++;
      }
    }
    this.endMigration();
    return { ok: mismatched === 0, mismatched, firstPage };
  }

  abort(): void {
    this.endMigration();
  }

  private endMigration(): void {
    this.dest = null;
    this.dirty = null;
    this.present = null;
    this.inFlight = [];
    this.postcopy = false;
    this.stallDebtNs = 0;
    this.workload.throttle = 0;
  }

  private sendSet(pages: number, zeroPages: number): SendSet {
    return { pages, zeroPages, bytes: wireBytes(pages, zeroPages, this.pageSize) };
  }
}

/**
 * Expected values only. Writes are counted as a fluid (rate × guest time); the dirty
 * set after W writes is the profile's distinct(W). Post-copy faults are the expected
 * pages touched before their push arrives, and each stalls the guest as in PagesMemory
 * (the stall is linearized over one push chunk, about a millisecond).
 */
export class FluidMemory extends GuestRunState implements MigratingMemory {
  private writes = 0;
  private writesAtTake = 0;
  private logging = false;
  private throttle = 0;
  private postcopy = false;
  private writesAtResume = 0;
  private pushCursor = 0;
  private chunk: [number, number] = [0, 0];
  private zeroShareAtStart = 0;
  private faultCostNs = 0;
  private stats: PostcopyStats = { faults: 0, faultWaitNs: 0, pagesPushed: 0, outageWaitNs: 0 };

  constructor(
    readonly pageSize: number,
    readonly pageCount: number,
    private readonly zeroShare: number,
    private readonly writeRate: number,
    private readonly profile: FluidProfile,
  ) {
    super();
  }

  advanceTo(t: Ns): void {
    const delta = this.ranUntil(t);
    if (delta === 0) return;
    const rate = this.writeRate * (1 - this.throttle);
    if (rate === 0) return;
    if (!this.postcopy) {
      this.writes += (rate * delta) / 1e9;
      return;
    }
    // a write takes 1/rate of guest time plus, with chance φ, a fault's wait
    const phi = this.profile.faultsPerWrite(this.chunk[0], this.writes - this.writesAtResume, this.writesAtResume);
    this.writes += delta / (1e9 / rate + phi * this.faultCostNs);
  }

  setThrottlePct(pct: number): void {
    this.throttle = pct / 100;
  }

  /** Zero pages are spread uniformly, so the never-written ones keep the zero share. */
  private zeroPagesNow(): number {
    return this.zeroShare * (this.pageCount - this.profile.distinct(this.writes));
  }

  beginPrecopy(): SendSet {
    this.logging = true;
    this.writesAtTake = this.writes;
    return this.sendSet(this.pageCount, this.zeroPagesNow());
  }

  pendingPages(): number {
    return this.logging ? this.profile.distinct(this.writes - this.writesAtTake) : 0;
  }

  takeDirty(): SendSet {
    const pages = this.pendingPages();
    this.writesAtTake = this.writes;
    return this.sendSet(pages, 0);
  }

  beginPostcopy(faultCostNs: Ns): void {
    // the closed forms start post-copy with every page on the source (support.ts refuses the rest)
    if (this.logging) throw new Error('fidelity fluid: post-copy after pre-copy rounds has no closed form; use fidelity pages');
    this.postcopy = true;
    this.logging = false;
    this.faultCostNs = faultCostNs;
    this.writesAtResume = this.writes;
    this.pushCursor = 0;
    this.chunk = [0, 0];
    this.zeroShareAtStart = this.zeroPagesNow() / this.pageCount;
    this.stats = { faults: 0, faultWaitNs: 0, pagesPushed: 0, outageWaitNs: 0 };
  }

  private touched(from: number, to: number): number {
    return this.profile.touchedIn(from, to, this.writes - this.writesAtResume, this.writesAtResume);
  }

  nextPushChunk(maxPages: number): SendSet | null {
    const from = this.pushCursor;
    if (from >= this.pageCount) return null;
    const to = Math.min(this.pageCount, from + maxPages);
    this.pushCursor = to;
    this.chunk = [from, to];
    // pages a fault already brought are skipped, as PagesMemory does
    const pages = to - from - this.touched(from, to);
    return this.sendSet(pages, pages * this.zeroShareAtStart);
  }

  landPushChunk(): void {
    const [from, to] = this.chunk;
    const faulted = this.touched(from, to);
    this.stats.faults += faulted;
    this.stats.faultWaitNs += faulted * this.faultCostNs;
    this.stats.pagesPushed += to - from - faulted;
  }

  postcopyStats(): PostcopyStats {
    return { ...this.stats };
  }

  complete(): null {
    this.reset();
    return null;
  }

  abort(): void {
    this.reset();
  }

  private reset(): void {
    this.logging = false;
    this.postcopy = false;
    this.throttle = 0;
  }

  private sendSet(pages: number, zeroPages: number): SendSet {
    return { pages, zeroPages, bytes: wireBytes(pages, zeroPages, this.pageSize) };
  }
}
