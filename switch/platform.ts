// What an engine plugs into the switch (and into the shared station logic): a clock with
// timers and a way to put a frame on a port. The sim plugs in its kernel and simulated
// links; the testbed, monotonic time and libpcap ports. Nothing here imports an engine.

/** Nanoseconds on the run's clock. */
export type Ns = number;

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): Ns;
  /** Run `fn` after `delayNs`; the returned handle withdraws it. */
  schedule(delayNs: Ns, fn: () => void): Timer;
}

/** Sends one Ethernet frame out of a port. */
export type FrameSink = (frame: Uint8Array) => void;

/** A deterministic source of randomness (a seeded generator in both engines). */
export interface RandomSource {
  /** uniform in [0, 1) */
  next(): number;
}
