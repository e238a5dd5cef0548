// The real-time platform for the switch outside the sim (the interop test, the Docker
// testbed): monotonic time from process.hrtime and timers from setTimeout. Never imported
// by shared logic or the sim, which run on the kernel's virtual clock.

import type { Clock, Ns, Timer } from '../../model/time.js';

/** Monotonic nanoseconds since an arbitrary origin (a Number: exact to ~104 days of uptime). */
function now(): Ns {
  return Number(process.hrtime.bigint());
}

export const wallClock: Clock = {
  now,
  schedule(delayNs: Ns, fn: () => void): Timer {
    // setTimeout has ms resolution: round up so a timer never fires before its deadline.
    const ms = Math.max(0, Math.ceil(delayNs / 1e6));
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};
