// Pre-copy decisions shared by both engines: when to switch over, and how auto-converge
// throttles the guest (what a page costs on the wire is model/page-cost.ts). Pure functions
// of numbers; the engines bring time, transport and memory.

import { isThrottleTuningPct } from '../scenario/types.js';

/** Time to send `bytes` at `bps`, in ns (not rounded). */
export function transferNs(bytes: number, bps: number): number {
  return ((bytes * 8) / bps) * 1e9;
}

export interface SwitchoverInput {
  /** bytes still dirty after the round, as they would go on the wire */
  pendingBytes: number;
  deviceStateBytes: number;
  /** the rate the last round ran at */
  rateBps: number;
  downtimeLimitNs: number;
}

/**
 * QEMU's stop rule: switch over when what is left, plus device state, would cross at
 * the rate the rounds ran at within the downtime limit.
 */
export function canSwitchOver(x: SwitchoverInput): boolean {
  return transferNs(x.pendingBytes + x.deviceStateBytes, x.rateBps) <= x.downtimeLimitNs;
}

/**
 * QEMU-like auto-converge: when a round dirties more than half of what it sent, the
 * guest is throttled — `initialPct` the first time, `incrementPct` more each time after,
 * at most 99 %. The defaults are QEMU's (cpu-throttle-initial 20, cpu-throttle-increment
 * 10, throttle-trigger-threshold 50, max-cpu-throttle 99); the scenario's `throttleInitial`
 * and `throttleIncrement` set the first two, whole percents in QEMU's range 1..99.
 */
export class AutoConverge {
  static readonly INITIAL_PCT = 20;
  static readonly INCREMENT_PCT = 10;
  static readonly MAX_PCT = 99;
  static readonly TRIGGER_SHARE = 0.5;

  private pct = 0;

  constructor(
    readonly initialPct: number = AutoConverge.INITIAL_PCT,
    readonly incrementPct: number = AutoConverge.INCREMENT_PCT,
  ) {
    for (const [name, v] of [['initialPct', initialPct], ['incrementPct', incrementPct]] as const) {
      if (!isThrottleTuningPct(v)) throw new RangeError(`auto-converge ${name} must be a whole percent from 1 to 99, got ${v}`);
    }
  }

  get throttlePct(): number {
    return this.pct;
  }

  /** After a round: returns the throttle (percent) to apply from now on. */
  afterRound(bytesDirtied: number, bytesSent: number): number {
    if (bytesDirtied > bytesSent * AutoConverge.TRIGGER_SHARE) {
      this.pct = this.pct === 0
        ? this.initialPct
        : Math.min(AutoConverge.MAX_PCT, this.pct + this.incrementPct);
    }
    return this.pct;
  }
}
