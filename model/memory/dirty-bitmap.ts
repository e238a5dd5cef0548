// One bit per guest page, as KVM's dirty log: set on write, taken and cleared per round.
// Keeps a count of set bits so "how much is pending" costs nothing.

export class DirtyBitmap {
  readonly words: Uint32Array;
  private setBits = 0;

  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  get count(): number {
    return this.setBits;
  }

  set(page: number): void {
    const i = page >>> 5;
    const m = 1 << (page & 31);
    const w = this.words[i]!;
    if ((w & m) === 0) {
      this.words[i] = w | m;
      this.setBits++;
    }
  }

  has(page: number): boolean {
    return (this.words[page >>> 5]! & (1 << (page & 31))) !== 0;
  }

  setAll(): void {
    this.words.fill(0xffffffff);
    const tail = this.size & 31;
    if (tail !== 0) this.words[this.words.length - 1] = (1 << tail) - 1;
    this.setBits = this.size;
  }

  /** A new bitmap with exactly the pages this one does not have set. */
  complement(): DirtyBitmap {
    const out = new DirtyBitmap(this.size);
    for (let i = 0; i < this.words.length; i++) out.words[i] = ~this.words[i]! >>> 0;
    const tail = this.size & 31;
    const last = out.words.length - 1;
    if (tail !== 0) out.words[last] = out.words[last]! & ((1 << tail) - 1);
    out.setBits = this.size - this.setBits;
    return out;
  }

  /** Visit every set page in ascending order and clear the bitmap. Returns how many. */
  drain(visit: (page: number) => void): number {
    const words = this.words;
    for (let i = 0; i < words.length; i++) {
      let w = words[i]!;
      if (w === 0) continue;
      words[i] = 0;
      const base = i << 5;
      while (w !== 0) {
        const low = w & -w;
        visit(base + 31 - Math.clz32(low));
        w ^= low;
      }
    }
    const n = this.setBits;
    this.setBits = 0;
    return n;
  }
}
