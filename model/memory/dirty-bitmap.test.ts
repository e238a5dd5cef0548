// DirtyBitmap.complement: the pages post-copy finds on the destination after pre-copy rounds
// (every page but the dirty ones), including a last word only partly used.

import { describe, expect, it } from 'vitest';
import { DirtyBitmap } from './dirty-bitmap.js';

describe('DirtyBitmap.complement', () => {
  it('has exactly the pages not set, and counts them, with a partial last word', () => {
    const b = new DirtyBitmap(70); // 2 full words and 6 bits
    for (const p of [0, 31, 32, 69]) b.set(p);
    const c = b.complement();
    expect(c.count).toBe(66);
    for (let p = 0; p < 70; p++) expect(c.has(p), `page ${p}`).toBe(!b.has(p));
    const visited: number[] = [];
    expect(c.drain((p) => visited.push(p))).toBe(66);
    expect(visited).toEqual(Array.from({ length: 70 }, (_, p) => p).filter((p) => ![0, 31, 32, 69].includes(p)));
    // the original is untouched
    expect(b.count).toBe(4);
  });

  it('of a full bitmap is empty; of an empty one is full', () => {
    const full = new DirtyBitmap(64);
    full.setAll();
    expect(full.complement().count).toBe(0);
    const empty = new DirtyBitmap(33);
    const all = empty.complement();
    expect(all.count).toBe(33);
    const visited: number[] = [];
    all.drain((p) => visited.push(p));
    expect(visited).toEqual(Array.from({ length: 33 }, (_, p) => p));
  });
});
