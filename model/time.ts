// Time as both engines count it: integer nanoseconds on the run's clock, and the clock and
// timer interfaces that the switch, the stations and the network actors are written against.
// The sim implements them with its event kernel, the testbed with monotonic wall time.

/** Nanoseconds on the run's clock. */
export type Ns = number;

/** A scheduled action that can be withdrawn before it runs. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): Ns;
  /** Run `fn` after `delayNs`; the returned handle withdraws it. */
  schedule(delayNs: Ns, fn: () => void): Timer;
}
