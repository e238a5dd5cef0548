// The sim's kernel as the Clock the switch and the network actors plug into.
import type { Clock } from '../model/time.js';
import type { Kernel } from './kernel.js';

export function kernelClock(kernel: Kernel): Clock {
  return { now: () => kernel.now, schedule: (delay, fn) => kernel.schedule(delay, fn) };
}
