// Discrete-event kernel in the style of SimPy: processes are generators that yield
// events (timeouts, other processes, hand-made events) and resume when they fire.
// One ordered queue keyed by (integer virtual time in ns, insertion order); no wall clock.

import type { Ns, Timer } from '../model/time.js';

type Action = () => void;

interface Entry {
  at: Ns;
  seq: number;
  action: Action;
  cancelled: boolean;
}


export class SimEvent<T = void> {
  private waiters: ((value: T) => void)[] = [];
  private fired = false;
  private result: T | undefined;

  constructor(private readonly kernel: Kernel) {}

  get triggered(): boolean {
    return this.fired;
  }

  get value(): T {
    if (!this.fired) throw new Error('event has not fired yet');
    return this.result as T;
  }

  /** Fire now; waiters run from the queue at the current time, after what is already due. */
  succeed(value: T): this {
    if (this.fired) throw new Error('event fired twice');
    this.fired = true;
    this.result = value;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) this.kernel.schedule(0, () => w(value));
    return this;
  }

  onFire(waiter: (value: T) => void): void {
    if (this.fired) {
      const v = this.result as T;
      this.kernel.schedule(0, () => waiter(v));
    } else {
      this.waiters.push(waiter);
    }
  }
}

export type Process<R = void> = Generator<SimEvent<any>, R, any>;

export class Kernel {
  private heap: Entry[] = [];
  private seq = 0;
  private clock: Ns = 0;

  get now(): Ns {
    return this.clock;
  }

  /** Run `action` after `delay` ns (rounded up to a whole ns). */
  schedule(delay: Ns, action: Action): Timer {
    if (!(delay >= 0)) throw new Error(`negative or invalid delay ${delay}`);
    const entry: Entry = { at: this.clock + Math.ceil(delay), seq: this.seq++, action, cancelled: false };
    this.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  event<T = void>(): SimEvent<T> {
    return new SimEvent<T>(this);
  }

  timeout(delay: Ns): SimEvent<void> {
    const ev = new SimEvent<void>(this);
    this.schedule(delay, () => ev.succeed());
    return ev;
  }

  /** Start a process now; the returned event fires with the generator's return value. */
  process<R>(body: Process<R>): SimEvent<R> {
    const done = new SimEvent<R>(this);
    const step = (input: unknown): void => {
      const r = body.next(input);
      if (r.done) done.succeed(r.value);
      else r.value.onFire(step);
    };
    this.schedule(0, () => step(undefined));
    return done;
  }

  /** Fires when every event has fired, with their values in order. */
  all<T>(events: SimEvent<T>[]): SimEvent<T[]> {
    const done = new SimEvent<T[]>(this);
    const values: T[] = new Array(events.length);
    let left = events.length;
    if (left === 0) done.succeed(values);
    events.forEach((ev, i) =>
      ev.onFire((v) => {
        values[i] = v;
        if (--left === 0) done.succeed(values);
      }),
    );
    return done;
  }

  /** Process the queue until it is empty or the next entry lies beyond `until`. Returns the end time. */
  run(until: Ns | null = null): Ns {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) break;
      if (until !== null && top.at > until) {
        this.clock = until;
        return until;
      }
      this.pop();
      if (top.cancelled) continue;
      this.clock = top.at;
      top.action();
    }
    if (until !== null && until > this.clock) this.clock = until;
    return this.clock;
  }

  get pending(): number {
    return this.heap.length;
  }

  // binary min-heap on (at, seq)
  private before(x: Entry, y: Entry): boolean {
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
