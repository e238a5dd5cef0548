// The network metrics on hand-built windows: which values are lower bounds (an interval still
// open at the window's end) and what a stream that never came back counts. Every expected
// number is worked out by hand from the inputs below.

import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';
import { IN_FLIGHT_NS, multicastGap, rebindFields, serviceInterruption, type EchoRecord, type MoveWindow, type SentBefore } from './rebind-metrics.js';

const ms = 1e6;
const MAC = '02:00:00:00:01:01';
const G = '239.1.1.1';

/** Datagram k of a 100/s stream is sent at 10·k ms and received 0.1 ms later, except in [from, to). */
function stream(fromMs: number, toMs: number, endMs: number): { group: string; seq: number; t: number }[] {
  const out = [];
  for (let k = 0; 10 * k + 0.1 < endMs; k++) {
    const t = 10 * k + 0.1;
    if (t < fromMs || t >= toMs) out.push({ group: G, seq: k, t: t * ms });
  }
  return out;
}
/** The 100/s source: the highest seq sent before t (sent at 10·k ms). */
const sent100: SentBefore = (group, t) => (group === G ? Math.ceil(t / (10 * ms)) - 1 : null);

function window(over: Partial<MoveWindow> & { rx?: { group: string; seq: number; t: number }[] } = {}): MoveWindow {
  const { rx = [], ...rest } = over;
  return {
    vm: { spec: { name: 'vm1', mac: MAC, multicast: [G] }, multicast: rx },
    to: 'h2', switchoverNs: 1000 * ms, resumeNs: 1050 * ms, untilNs: 5000 * ms,
    ...rest,
  };
}

/** A probe at 100/s from 0: echo k at 10·k ms, answered 0.3 ms later unless `lost(tMs)`. */
function probe(lost: (tMs: number) => boolean, endMs: number) {
  const echoes: EchoRecord[] = [];
  for (let t = 0; t < endMs; t += 10) echoes.push({ sentAt: t * ms, repliedAt: lost(t) ? null : (t + 0.3) * ms });
  return { answeredAt: () => echoes };
}

describe('the multicast gap', () => {
  it('closed: the stream came back; the value is a measurement', () => {
    // last received at or before the switchover (1000): seq 99 at 990.1; first after the
    // resume (1050) and the outage (to 1055): seq 106 at 1060.1; lost 100..105 = 6
    const g = multicastGap(window({ rx: stream(1000, 1055, 5000), sent: sent100 }));
    expect(g.open).toBe(false);
    expect(g.lost).toBe(6);
    expect(g.gapMs).toBeCloseTo(1060.1 - 990.1, 6);
    // it begins at that last datagram before the switchover
    expect(g.startNs).toBeCloseTo(990.1 * ms, 0);
  });

  it('of several groups, the gap starts where the widest one does', () => {
    const G2 = '239.1.1.2';
    // G: 990.1 → 1060.1 (70 ms); G2: received at 985 and next at 1200 (215 ms), the widest
    const rx = [...stream(1000, 1055, 5000), { group: G2, seq: 0, t: 985 * ms }, { group: G2, seq: 1, t: 1200 * ms }];
    const g = multicastGap({ ...window({ rx, sent: sent100 }), vm: { spec: { name: 'vm1', mac: MAC, multicast: [G, G2] }, multicast: rx } });
    expect(g.gapMs).toBeCloseTo(215, 6);
    expect(g.startNs).toBe(985 * ms);
  });

  it('open: never came back by the window end; counted to the end less what may be in flight, as a lower bound', () => {
    const g = multicastGap(window({ rx: stream(1000, Infinity, 5000), sent: sent100 }));
    expect(g.open).toBe(true);
    // sent before 5000 − 50 = 4950 ms: seqs up to 494; lost 100..494 = 395 = 100/s × (4950 − 990) ms, within one
    expect(g.lost).toBe(395);
    expect(Math.abs(g.lost! - 100 * (4950 - 990) / 1000)).toBeLessThanOrEqual(1);
    expect(IN_FLIGHT_NS).toBe(50 * ms);
    // the gap is at least from the last datagram to the window's end
    expect(g.gapMs).toBeCloseTo(5000 - 990.1, 6);
    expect(g.startNs).toBeCloseTo(990.1 * ms, 0);
  });

  it('open without a record of what was sent: null, not a guess', () => {
    const g = multicastGap(window({ rx: stream(1000, Infinity, 5000) }));
    expect(g).toEqual({ gapMs: null, lost: null, open: false, startNs: null });
  });

  it('nothing received before the switchover: null (there is no gap to measure)', () => {
    const g = multicastGap(window({ rx: stream(0, Infinity, 5000), sent: sent100 }));
    expect(g).toEqual({ gapMs: null, lost: null, open: false, startNs: null });
  });
});

describe('the service interruption', () => {
  it('closed: the echoes were answered again; the value is a measurement', () => {
    // lost 1000..1090: 10 echoes = 100 ms
    const si = serviceInterruption(probe((t) => t >= 1000 && t < 1100, 5000), window(), 10 * ms);
    expect(si).toEqual({ ms: 100, open: false, startNs: 1000 * ms });
  });

  it('open: unanswered to the end; the echoes in flight (last 50 ms) are not counted, the rest is a lower bound', () => {
    // counted from 990 (one interval before the switchover); lost 1000..4940 (4950.. in flight): 395 echoes
    const si = serviceInterruption(probe((t) => t >= 1000, 5000), window(), 10 * ms);
    expect(si).toEqual({ ms: 3950, open: true, startNs: 1000 * ms });
  });

  it('a short run open at the end is not the longest: the longest, closed, is a measurement', () => {
    const si = serviceInterruption(probe((t) => (t >= 1000 && t < 1500) || (t >= 4900 && t < 4950), 5000), window(), 10 * ms);
    // the longest run, 1000..1490, not the short one from 4900
    expect(si).toEqual({ ms: 500, open: false, startNs: 1000 * ms });
  });

  it('an echo in flight that was answered closes the run', () => {
    const si = serviceInterruption(probe((t) => t >= 1000 && t < 4960, 5000), window(), 10 * ms);
    expect(si).toEqual({ ms: 3950, open: false, startNs: 1000 * ms });
  });
});

describe('lowerBounds', () => {
  const log = new EventLog();
  for (let t = 1051; t < 5000; t += 10) log.sourceGuardDrop(MAC, t * ms);

  it('a window that ends in an outage: drops, gap, lost and interruption are lower bounds; the rebinds that never happened are null', () => {
    const f = rebindFields(log, probe((t) => t >= 1000, 5000), window({ rx: stream(1000, Infinity, 5000), sent: sent100 }), 10 * ms);
    expect(f.dhcpRebindMs).toBeNull();
    expect(f.igmpRebindMs).toBeNull();
    expect(f.sourceGuardDrops).toBe(395); // 1051, 1061, … 4991
    expect(f.lowerBounds).toEqual(['sourceGuardDrops', 'multicastGapMs', 'multicastLost', 'serviceInterruptionMs']);
    // the drops counted run from 1051 to 4991; the gap from the last datagram before the
    // switchover (990.1); the interruption from the first unanswered echo (1000)
    expect(f.networkTimes).toEqual({ sourceGuardFirstDropMs: 1051, sourceGuardLastDropMs: 4991, multicastGapStartMs: 990.1, serviceInterruptionStartMs: 1000 });
  });

  it('once the binding moved, the drops before it are a measurement', () => {
    const moved = new EventLog();
    moved.sourceGuardDrop(MAC, 1051 * ms);
    moved.add({ t: 1060 * ms, kind: 'binding-moved', mac: MAC, ip: '10.0.0.5', from: 'h1', to: 'h2', evidence: 'ack' });
    const f = rebindFields(moved, probe((t) => t >= 1000 && t < 1060, 5000), window({ rx: stream(1000, 1055, 5000), sent: sent100 }), 10 * ms);
    expect(f.dhcpRebindMs).toBe(10);
    expect(f.sourceGuardDrops).toBe(1);
    expect(f.lowerBounds).toEqual([]);
    expect(f.networkTimes).toEqual({ sourceGuardFirstDropMs: 1051, sourceGuardLastDropMs: 1051, multicastGapStartMs: 990.1, serviceInterruptionStartMs: 1000 });
  });

  it('nothing dropped, no gap, no interruption: no instants', () => {
    const f = rebindFields(new EventLog(), probe(() => false, 5000), window({ vm: { spec: { name: 'vm1', mac: MAC, multicast: [] }, multicast: [] } }), 10 * ms);
    expect(f.sourceGuardDrops).toBe(0);
    expect(f.serviceInterruptionMs).toBe(0);
    expect(f.networkTimes).toEqual({ sourceGuardFirstDropMs: null, sourceGuardLastDropMs: null, multicastGapStartMs: null, serviceInterruptionStartMs: null });
  });
});
