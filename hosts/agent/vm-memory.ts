// A VM's RAM on a testbed host, real bytes in a SharedArrayBuffer shared with the workload
// worker, plus KVM-style dirty logging and the control words. Layout and the write/take
// ordering pre-copy relies on: docs/control-protocol.md ("The guest's RAM and vCPU").

import { Random, vmStreams } from '../../model/random.js';
import { startsZero, zeroPageLimit } from '../../model/memory/zero-page.js';

/** control words (Int32Array over `control`) */
export const CONTROL = {
  /** 1 while dirty logging is on */
  LOGGING: 0,
  /** writes done by the workload worker (wraps at 2^31) */
  WRITES: 1,
  /** 1 while the workload is paused (written by the worker) */
  PAUSED: 2,
  LENGTH: 4,
} as const;

/** bytes of the control buffer: CONTROL's Int32 words, then one BigInt64 (the pause request instant) */
const CONTROL_BYTES = CONTROL.LENGTH * 4 + 8;

export interface VmGeometry {
  memoryBytes: number;
  pageSize: number;
}

/** What a worker needs to attach to the same memory. */
export interface VmMemoryShared {
  ram: SharedArrayBuffer;
  dirty: SharedArrayBuffer;
  control: SharedArrayBuffer;
  pageSize: number;
  pageCount: number;
}

export interface VmContentOptions {
  /** share of pages that start all-zero, 0..1 (as the scenario's `zeroPages`) */
  zeroPages: number;
  /** the scenario seed; with `name`, picks the zero pages and the fill bytes */
  seed: number;
  name: string;
}

function checkGeometry(g: VmGeometry): number {
  const { memoryBytes, pageSize } = g;
  if (!Number.isInteger(pageSize) || pageSize < 64 || (pageSize & (pageSize - 1)) !== 0) {
    throw new RangeError(`page size ${pageSize} is not a power of two ≥ 64`);
  }
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % pageSize !== 0) {
    throw new RangeError(`memory of ${memoryBytes} bytes is not a positive multiple of the ${pageSize}-byte page`);
  }
  return memoryBytes / pageSize;
}

export class VmMemory {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly memoryBytes: number;
  /** the RAM, byte view */
  readonly bytes: Uint8Array;
  /** the RAM, 32-bit word view (the worker writes through this) */
  readonly words: Int32Array;
  readonly dirtyWords: Int32Array;
  readonly control: Int32Array;
  /**
   * [0]: CLOCK_MONOTONIC ns at which the guest is to stop (0n: no pause requested). The
   * worker runs the workload up to that instant and no further, so a pause takes effect
   * in guest time when it is asked for, however late the worker thread gets to run.
   */
  readonly pauseAt: BigInt64Array;
  /** the RAM as a Buffer (for copy/compare without a view per page) */
  readonly buffer: Buffer;
  private readonly zeroRef: Buffer;
  private readonly perPage: number;

  private constructor(readonly shared: VmMemoryShared) {
    this.pageSize = shared.pageSize;
    this.pageCount = shared.pageCount;
    this.memoryBytes = shared.pageSize * shared.pageCount;
    this.bytes = new Uint8Array(shared.ram);
    this.words = new Int32Array(shared.ram);
    this.dirtyWords = new Int32Array(shared.dirty);
    this.control = new Int32Array(shared.control, 0, CONTROL.LENGTH);
    this.pauseAt = new BigInt64Array(shared.control, CONTROL.LENGTH * 4, 1);
    this.buffer = Buffer.from(shared.ram);
    this.zeroRef = Buffer.alloc(this.pageSize);
    this.perPage = this.pageSize >>> 2;
  }

  /** All-zero RAM of this geometry (a destination's copy before the stream fills it). */
  static allocate(g: VmGeometry): VmMemory {
    const pageCount = checkGeometry(g);
    return new VmMemory({
      ram: new SharedArrayBuffer(g.memoryBytes),
      dirty: new SharedArrayBuffer(Math.ceil(pageCount / 32) * 4),
      control: new SharedArrayBuffer(CONTROL_BYTES),
      pageSize: g.pageSize,
      pageCount,
    });
  }

  /**
   * A booted guest's RAM: `zeroPages` of the pages all-zero (picked by the sim's salted hash,
   * model/memory/zero-page.ts), the rest pseudo-random bytes (a 32-bit LCG per word, seeded from `seed`).
   * Every byte is written, so the resident size is the VM's size.
   */
  static create(g: VmGeometry, content: VmContentOptions): VmMemory {
    const mem = VmMemory.allocate(g);
    // the same streams and zero pages as the sim's first VM (model/random.ts vmStreams)
    const { zeroSalt, fill } = vmStreams(new Random(content.seed), content.name, { fill: true });
    const zeroLimit = zeroPageLimit(content.zeroPages);
    const words = mem.words;
    const perPage = mem.pageSize >>> 2;
    let x = fill | 1;
    for (let p = 0; p < mem.pageCount; p++) {
      if (startsZero(p, zeroSalt, zeroLimit)) continue;
      const base = p * perPage;
      const end = base + perPage;
      for (let i = base; i < end; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) | 0;
        words[i] = x;
      }
      // an LCG run cannot be all zero over a page, but make the page's first word say so anyway
      if (words[base] === 0) words[base] = 1;
    }
    return mem;
  }

  /**
   * Fault every page of RAM in (write a zero to each 4 KiB page of it), `slicePages` OS pages
   * at a time with the event loop served in between, until done or `stop()` says so. A
   * first write to fresh anonymous memory costs a page fault that takes several times the
   * memcpy of the page (on this machine type ~0.55 ms a MiB against 0.09): a destination
   * whose RAM is faulted in before the stream arrives takes pages at the socket's pace, as a
   * destination QEMU started with -mem-prealloc does. Only for RAM nobody has written yet:
   * it writes zeros.
   */
  async prefault(stop: () => boolean = () => false, slicePages = 4096): Promise<boolean> {
    const b = this.bytes;
    const step = 4096;
    for (let off = 0; off < b.length; ) {
      if (stop()) return false;
      const end = Math.min(b.length, off + slicePages * step);
      for (; off < end; off += step) b[off] = 0;
      if (off < b.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return true;
  }

  /** The same memory, seen from another thread. */
  static attach(shared: VmMemoryShared): VmMemory {
    return new VmMemory(shared);
  }

  page(p: number): Uint8Array {
    const off = p * this.pageSize;
    return this.bytes.subarray(off, off + this.pageSize);
  }

  isZeroPage(p: number): boolean {
    const base = p * this.perPage;
    // almost every non-zero page fails on its first or last word
    if (this.words[base] !== 0 || this.words[base + this.perPage - 1] !== 0) return false;
    const off = p * this.pageSize;
    return this.buffer.compare(this.zeroRef, 0, this.pageSize, off, off + this.pageSize) === 0;
  }

  /** Copy pages `first .. first + count` into `target` at `at` (one memcpy). */
  copyPagesTo(first: number, count: number, target: Uint8Array, at: number): void {
    const off = first * this.pageSize;
    this.buffer.copy(target, at, off, off + count * this.pageSize);
  }

  /** Pages `first .. first + count` as a view on the RAM itself (no copy). */
  view(first: number, count: number): Buffer {
    const off = first * this.pageSize;
    return this.buffer.subarray(off, off + count * this.pageSize);
  }

  // ---- dirty logging ----

  get logging(): boolean {
    return Atomics.load(this.control, CONTROL.LOGGING) === 1;
  }

  /** Clear the bitmap, then log every write from now on. */
  startLogging(): void {
    for (let i = 0; i < this.dirtyWords.length; i++) Atomics.store(this.dirtyWords, i, 0);
    Atomics.store(this.control, CONTROL.LOGGING, 1);
  }

  stopLogging(): void {
    Atomics.store(this.control, CONTROL.LOGGING, 0);
    for (let i = 0; i < this.dirtyWords.length; i++) Atomics.store(this.dirtyWords, i, 0);
  }

  /** The writer's side: the page's bytes have changed. */
  markDirty(p: number): void {
    if (Atomics.load(this.control, CONTROL.LOGGING) === 1) Atomics.or(this.dirtyWords, p >>> 5, 1 << (p & 31));
  }

  /** Pages dirty now (not cleared). */
  dirtyCount(): number {
    let n = 0;
    for (let i = 0; i < this.dirtyWords.length; i++) n += popcount(Atomics.load(this.dirtyWords, i));
    return n;
  }

  /** Take and clear the dirty set, word by word with Atomics.exchange; pages in ascending order. */
  takeDirty(): Uint32Array {
    const words = this.dirtyWords;
    let pages = new Uint32Array(256);
    let n = 0;
    for (let i = 0; i < words.length; i++) {
      if (Atomics.load(words, i) === 0) continue;
      let w = Atomics.exchange(words, i, 0);
      const base = i << 5;
      while (w !== 0) {
        const low = w & -w;
        if (n === pages.length) {
          const grown = new Uint32Array(pages.length * 2);
          grown.set(pages);
          pages = grown;
        }
        pages[n++] = base + 31 - Math.clz32(low);
        w ^= low;
      }
    }
    return pages.slice(0, n);
  }

  /** Writes the workload has done so far (mod 2^31). */
  get writes(): number {
    return Atomics.load(this.control, CONTROL.WRITES);
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Union of two ascending page lists, ascending, no duplicates. */
export function mergePages(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x < y) out[n++] = a[i++]!;
    else if (y < x) out[n++] = b[j++]!;
    else {
      out[n++] = a[i++]!;
      j++;
    }
  }
  return out.slice(0, n);
}
