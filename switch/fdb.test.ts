import { describe, expect, it } from 'vitest';
import { FDB_AGING_NS, ForwardingTable } from './fdb.js';

const mac = (i: number) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

describe('ForwardingTable bounds', () => {
  it('sweep removes aged learned entries without a lookup; static entries stay', () => {
    const f = new ForwardingTable();
    f.learn(1, mac(1), 0, 0);
    f.pin(1, mac(2), 1, 0);
    f.sweep(FDB_AGING_NS); // not older than the ageing time yet
    expect(f.size).toBe(2);
    f.sweep(FDB_AGING_NS + 1);
    expect(f.size).toBe(1);
    expect(f.aged).toBe(1);
    expect(f.lookup(1, mac(2), 10 * FDB_AGING_NS)).toBe(1);
    expect(f.learnedCount(0)).toBe(0);
  });

  it('per-port limit: a new source beyond it is not learned and is counted; other ports and static entries unaffected', () => {
    const f = new ForwardingTable(4);
    for (let i = 0; i < 6; i++) f.learn(1, mac(i), 0, 0);
    expect(f.learnedCount(0)).toBe(4);
    expect(f.limitDrops).toBe(2);
    expect(f.lookup(1, mac(5), 1)).toBeNull();
    // a known source refreshes, it is not refused
    expect(f.learn(1, mac(0), 0, 5)).toEqual({ moved: false, from: null });
    expect(f.limitDrops).toBe(2);
    // another port learns freely; a pin is never refused and frees a learned slot when it replaces one
    f.learn(1, mac(9), 1, 0);
    expect(f.lookup(1, mac(9), 1)).toBe(1);
    f.pin(1, mac(0), 0, 0);
    expect(f.learnedCount(0)).toBe(3);
    f.learn(1, mac(7), 0, 0);
    expect(f.lookup(1, mac(7), 1)).toBe(0);
  });

  it('a move onto a full port is not learned and drops the stale entry', () => {
    const f = new ForwardingTable(1);
    f.learn(1, mac(1), 0, 0);
    f.learn(1, mac(2), 1, 0);
    expect(f.learn(1, mac(1), 1, 1)).toEqual({ moved: false, from: null });
    expect(f.lookup(1, mac(1), 1)).toBeNull();
    expect(f.learnedCount(0)).toBe(0);
    expect(f.limitDrops).toBe(1);
    // the move to a port with room is a move
    expect(f.learn(1, mac(2), 0, 2)).toEqual({ moved: true, from: 1 });
    expect(f.learnedCount(1)).toBe(0);
  });
});
