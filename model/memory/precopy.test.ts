// AutoConverge's throttle sequence for given cpu-throttle-initial/-increment, checked against
// sequences worked out by hand, and QEMU's range (1..99, whole percents) for the two knobs.

import { describe, expect, it } from 'vitest';
import { isThrottleTuningPct } from '../scenario/types.js';
import { AutoConverge } from './precopy.js';

/** afterRound per round: `true` a round that dirtied more than half of what it sent, `false` one that did not. */
function throttles(ac: AutoConverge, hot: boolean[]): number[] {
  const sent = 1000;
  // 501 > 1000 × 0.5 triggers; exactly half (500) does not
  return hot.map((h) => ac.afterRound(h ? 501 : 500, sent));
}

const always = (n: number): boolean[] => Array.from({ length: n }, () => true);

describe('auto-converge throttle sequence', () => {
  it("QEMU's defaults: 20, then +10 a round, stopping at 99", () => {
    expect(throttles(new AutoConverge(), always(10))).toEqual([20, 30, 40, 50, 60, 70, 80, 90, 99, 99]);
  });

  it('initial 30, increment 25: 30, 55, 80, then the 99 cap', () => {
    expect(throttles(new AutoConverge(30, 25), always(5))).toEqual([30, 55, 80, 99, 99]);
  });

  it('the extremes of the range: initial 1 then +99 is capped at once; initial 99 stays', () => {
    expect(throttles(new AutoConverge(1, 99), always(3))).toEqual([1, 99, 99]);
    expect(throttles(new AutoConverge(99, 1), always(2))).toEqual([99, 99]);
    expect(throttles(new AutoConverge(5, 1), always(4))).toEqual([5, 6, 7, 8]);
  });

  it('a round that dirties no more than half of what it sent leaves the throttle as it was', () => {
    expect(throttles(new AutoConverge(30, 25), [false, true, false, false, true])).toEqual([0, 30, 30, 30, 55]);
  });

  it("refuses tuning outside QEMU's range or not a whole percent", () => {
    for (const [initial, increment] of [[0, 10], [100, 10], [20, 0], [20, 100], [12.5, 10], [20, Number.NaN], [-5, 10]] as const) {
      expect(() => new AutoConverge(initial, increment), `${initial}/${increment}`).toThrow(RangeError);
    }
    expect(isThrottleTuningPct(1)).toBe(true);
    expect(isThrottleTuningPct(99)).toBe(true);
    expect(isThrottleTuningPct(99.5)).toBe(false);
  });
});
