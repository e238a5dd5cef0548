// The timeline's items from a hand-made result: the first of each step of the move for this
// VM only (not another VM's, not a keep-alive's re-associate, not the next migration's), every
// leasequery attempt, the data-plane spans where the result places them, and what an older
// result without the times leaves out (said in a note, not guessed).

import { describe, expect, it } from 'vitest';
import { failedMigration, type MigrationResult } from '../model/result/format.js';
import { EVENTS, move, result } from './run-fixture.js';
import { timelineOf } from './timeline.js';

describe('the timeline of a move', () => {
  const back = move({ from: 'h2', to: 'h1', startMs: 20_000, switchoverMs: 20_290, resumeMs: 20_300, endMs: 20_300, rounds: [], stopCopy: null, networkTimes: { sourceGuardFirstDropMs: null, sourceGuardLastDropMs: null, multicastGapStartMs: null, serviceInterruptionStartMs: null }, sourceGuardDrops: 0, multicastGapMs: null, serviceInterruptionMs: 0 });
  const r = result([move({}), back], EVENTS);

  it('marks what happened to this VM in this move, each at its time', () => {
    const items = timelineOf(r, 0).items.map((i) => [i.lane, i.kind, i.startMs, i.endMs]);
    expect(items).toEqual([
      ['migration', 'start', 1000, null],
      ['migration', 'live round', 1000, 1200],
      ['VDP', 'VDP pre-associate', 1000, null],
      ['migration', 'live round', 1200, 1300],
      ['multicast', 'multicast gap', 1295, 1415],
      ['migration', 'paused transfer', 1300, 1309],
      ['migration', 'pause', 1300, null],
      ['probe', 'service interruption', 1302, 1322],
      ['migration', 'resume', 1310, null],
      ['migration', 'end', 1310, null],
      ['VDP', 'VDP associate', 1310, null],
      ['VDP', 'VDP de-associate', 1310, null],
      ['forwarding', 'FDB move', 1310, null],
      ['DHCP snooping', 'leasequery sent', 1310, null],
      ['IGMP snooping', 'IGMP query', 1310, null],
      ['DHCP snooping', 'leasequery sent', 1311, null],
      ['source guard', 'source-guard drops', 1311, 1312],
      ['DHCP snooping', 'leasequery reply', 1312, null],
      ['DHCP snooping', 'binding moved', 1312, null],
      ['IGMP snooping', 'IGMP report (join)', 1400, null],
    ]);
    expect(timelineOf(r, 0).notes).toEqual([]);
  });

  it('the next move of the VM gets its own steps, after the first ended', () => {
    const items = timelineOf(r, 1).items.filter((i) => i.lane === 'VDP').map((i) => [i.kind, i.startMs, i.label]);
    expect(items).toEqual([['VDP pre-associate', 20_000, 'pre-associate on h1'], ['VDP associate', 20_300, 'associate on h1 (M-bit: migrated to)']]);
    // nothing lost, no gap: no data-plane spans
    expect(timelineOf(r, 1).items.some((i) => ['source guard', 'probe', 'multicast'].includes(i.lane))).toBe(false);
  });

  it('a lower bound says "at least"', () => {
    const open = result([move({ lowerBounds: ['sourceGuardDrops'], dhcpRebindMs: null })], EVENTS);
    expect(timelineOf(open, 0).items.find((i) => i.lane === 'source guard')!.label).toBe('at least 4 frames dropped, first to last');
  });

  it('an older result (no round starts, no MAC map, no networkTimes) draws what it has and says what it cannot', () => {
    const { networkTimes: _, ...noTimes } = move({ rounds: [{ index: 0, pagesSent: 1, bytesSent: 1, durationMs: 1, dirtyPagesAtEnd: 0 } as never] });
    const old = result([noTimes as MigrationResult], EVENTS, null);
    const t = timelineOf(old, 0);
    expect(t.items.map((i) => i.kind)).toEqual(['start', 'paused transfer', 'pause', 'resume', 'end']);
    expect(t.notes).toHaveLength(3);
    expect(t.notes.join(' ')).toMatch(/rounds.*MAC.*data-plane/);
  });

  it('a failed migration that never got going: only its start', () => {
    const failed = result([failedMigration('vm1', 'h1', 'h2', 'precopy', 'vm1 is already on h2', 5)], []);
    expect(timelineOf(failed, 0).items.map((i) => [i.kind, i.startMs])).toEqual([['start', 5]]);
  });
});
