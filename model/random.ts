// Seeded PRNG for the sim: sfc32 (small fast counter), seeded by splitmix32.
// Every random choice in the sim comes from one of these; never Math.random.

/** A deterministic source of randomness (a seeded generator in both engines). */
export interface RandomSource {
  /** uniform in [0, 1) */
  next(): number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** 32-bit FNV-1a, to derive independent streams from labels. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const mix = splitmix32(seed >>> 0 ^ Math.floor(seed / 0x100000000));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** An independent stream for a named part of the model, so adding a VM does not perturb another's. */
  fork(label: string): Random {
    return new Random((this.u32() ^ hash32(label)) >>> 0);
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n), n ≤ 2^32. */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A VM's random streams, forked from the run's root generator (see vmStreams). */
export interface VmStreams {
  /** drives the VM's page writes (createWorkload) */
  workload: Random;
  /** salts the zero-page hash (model/memory/zero-page.ts) */
  zeroSalt: number;
}

/**
 * A VM's streams from `root`, in a fixed order: fork `workload:<vm>`, then `zero:<vm>`, then
 * (only when asked, so the sim's later forks stay where they were) `fill:<vm>` for the
 * testbed agent's RAM bytes. The sim forks them from its one root VM after VM; the testbed
 * agent from a fresh `new Random(seed)`, so a scenario's first VM gets the sim's pages and writes.
 */
export function vmStreams(root: Random, vm: string): VmStreams;
export function vmStreams(root: Random, vm: string, opts: { fill: true }): VmStreams & { fill: number };
export function vmStreams(root: Random, vm: string, opts?: { fill: true }): VmStreams & { fill?: number } {
  const workload = root.fork(`workload:${vm}`);
  const zeroSalt = root.fork(`zero:${vm}`).u32();
  if (!opts?.fill) return { workload, zeroSalt };
  return { workload, zeroSalt, fill: root.fork(`fill:${vm}`).u32() };
}
