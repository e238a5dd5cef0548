// The sim's kernel as the Clock the switch and the network actors plug into, and as a clock
// driven by hand (the network actors' tests: sim/net/*.test.ts).
import type { Clock, Ns, Timer } from '../model/time.js';
import { Kernel } from './kernel.js';

export function kernelClock(kernel: Kernel): Clock {
  return { now: () => kernel.now, schedule: (delay, fn) => kernel.schedule(delay, fn) };
}

/**
 * A kernel of its own as a Clock, moved by hand: integer-ns virtual time, timers due at the
 * same instant run in the order they were set.
 */
export class ManualClock implements Clock {
  readonly kernel = new Kernel();
  private readonly clock: Clock = kernelClock(this.kernel);

  now(): Ns {
    return this.clock.now();
  }

  schedule(delayNs: Ns, fn: () => void): Timer {
    return this.clock.schedule(delayNs, fn);
  }

  /** Run every timer due within the next `ns`, then stand at now + ns. */
  advance(ns: Ns): void {
    this.runUntil(this.now() + ns);
  }

  /** Run every timer due by `t`, then stand at `t` (a `t` already past does nothing). */
  runUntil(t: Ns): void {
    if (t >= this.kernel.now) this.kernel.run(t);
  }
}
