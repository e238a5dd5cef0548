import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';

const join = (t: number) => ({ t, kind: 'igmp-join' as const, port: 'h1', group: '239.1.1.1', vlan: 1, mac: '02:00:00:00:00:01' });

describe('EventLog bounds', () => {
  it('keeps the first N events and counts every kind exactly', () => {
    const log = new EventLog(10);
    for (let t = 0; t < 25; t++) log.add(join(t));
    for (let t = 0; t < 150; t++) log.add({ t: 100 + t, kind: 'malformed', port: 'h1', layer: 'ethernet', reason: 'short' });
    expect(log.events).toHaveLength(10);
    expect(log.events.at(-1)!.t).toBe(9);
    expect(log.counts.get('igmp-join')).toBe(25);
    expect(log.counts.get('malformed')).toBe(150);
    expect(log.malformedCount).toBe(150);
    // 15 joins + the 100 malformed the malformed cap would have kept
    expect(log.dropped).toBe(115);
    expect(log.firstDroppedAt).toBe(10);
    expect(log.completeUntil(10)).toBe(true);
    expect(log.completeUntil(11)).toBe(false);
  });

  it('source-guard drops: runs per instant, bounded, counts exact, windows flagged when not exact', () => {
    const log = new EventLog(10, 3);
    const A = '02:00:00:00:00:0a';
    for (let i = 0; i < 1000; i++) log.sourceGuardDrop(A, 5); // one run
    log.sourceGuardDrop(A, 6);
    log.sourceGuardDrop('02:00:00:00:00:0b', 6);
    for (let t = 7; t < 20; t++) log.sourceGuardDrop(A, t); // beyond the runs' limit
    expect(log.sourceGuardDropCount).toBe(1015);
    expect(log.sourceGuardDropsUnrecorded).toBe(13);
    expect(log.sourceGuardDropsRecorded).toBe(1002);
    expect(log.sourceGuardDrops.get(A)).toEqual([{ t: 5, n: 1000 }, { t: 6, n: 1 }]);
    expect(log.sourceGuardDropsIn(A, 0, 7)).toEqual({ count: 1001, exact: true, firstAt: 5, lastAt: 6 });
    expect(log.sourceGuardDropsIn(A, 6, 8)).toEqual({ count: 1, exact: false, firstAt: 6, lastAt: 6 });
    expect(log.sourceGuardDropsIn(A, 7, 20)).toEqual({ count: 0, exact: false, firstAt: null, lastAt: null });
  });

  it('the default bounds', () => {
    expect(new EventLog().maxEvents).toBe(100_000);
    expect(new EventLog().maxDropRuns).toBe(100_000);
  });
});
