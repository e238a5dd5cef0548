// Output pacing for the switch process: a token bucket per port in front of libpcap's send,
// link-local control frames (ECP/VDP, LLDP) queued apart and sent first, tail drop beyond a
// queue limit. The policy and why it is there: docs/switch-process.md "Pacing".

export interface PaceOptions {
  /** sustained frames per second */
  rateFps: number;
  /** frames that may go back to back (the bucket's depth) */
  burst: number;
  /** frames each queue (control, data) holds before tail drop */
  queueLimit: number;
}

export const PACE_DEFAULTS: PaceOptions = { rateFps: 50_000, burst: 64, queueLimit: 4096 };

export interface PacerClock {
  /** ns, monotonic */
  now(): number;
  later(fn: () => void, ms: number): { cancel(): void };
}

const realPacerClock: PacerClock = {
  now: () => Number(process.hrtime.bigint()),
  later(fn, ms) {
    const h = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(h) };
  },
};

/** Link-local control: a destination in 01:80:c2:00:00:00–0f (ECP/VDP, LLDP, …). */
export function isControlFrame(f: Uint8Array): boolean {
  return f.length >= 6 && f[0] === 0x01 && f[1] === 0x80 && f[2] === 0xc2 && f[3] === 0 && f[4] === 0 && (f[5]! & 0xf0) === 0;
}

/** A FIFO without Array.shift's O(n). */
class FrameQueue {
  private items: (Uint8Array | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(f: Uint8Array): void {
    this.items.push(f);
  }

  shift(): Uint8Array | undefined {
    if (this.head >= this.items.length) return undefined;
    const f = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }

  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }
}

export interface PaceStats {
  /** frames handed to the port */
  sent: number;
  /** … of which went out at once */
  immediate: number;
  /** … of which waited in a queue */
  delayed: number;
  /** data frames dropped: queue full, or still queued at close */
  dropped: number;
  controlDropped: number;
  /** the longest the two queues together have been */
  maxQueued: number;
  /** exceptions from the port's send (caught) */
  sendErrors: number;
}

/** One port's token bucket and queues (docs/switch-process.md "Pacing"). */
export class PortPacer {
  readonly stats: PaceStats = { sent: 0, immediate: 0, delayed: 0, dropped: 0, controlDropped: 0, maxQueued: 0, sendErrors: 0 };
  private readonly opts: PaceOptions;
  private tokens: number;
  private last: number;
  private readonly control = new FrameQueue();
  private readonly data = new FrameQueue();
  private timer: { cancel(): void } | null = null;
  private closed = false;

  constructor(private readonly out: (frame: Uint8Array) => void, options: Partial<PaceOptions> = {}, private readonly clock: PacerClock = realPacerClock) {
    this.opts = { ...PACE_DEFAULTS, ...options };
    if (!(this.opts.rateFps > 0) || !(this.opts.burst >= 1) || !(this.opts.queueLimit >= 0)) {
      throw new RangeError(`pacing: rate > 0, burst ≥ 1, queue ≥ 0 expected, got ${JSON.stringify(this.opts)}`);
    }
    this.tokens = this.opts.burst;
    this.last = clock.now();
  }

  get queued(): number {
    return this.control.length + this.data.length;
  }

  send(frame: Uint8Array): void {
    if (this.closed) {
      if (isControlFrame(frame)) this.stats.controlDropped++;
      else this.stats.dropped++;
      return;
    }
    if (this.queued === 0) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.stats.immediate++;
        this.emit(frame);
        return;
      }
    }
    const control = isControlFrame(frame);
    const q = control ? this.control : this.data;
    if (q.length >= this.opts.queueLimit) {
      if (control) this.stats.controlDropped++;
      else this.stats.dropped++;
      return;
    }
    q.push(frame);
    this.stats.delayed++;
    if (this.queued > this.stats.maxQueued) this.stats.maxQueued = this.queued;
    this.arm();
  }

  /** Stop: what is still queued is dropped (and counted). Returns how many frames that was. */
  close(): number {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    const c = this.control.clear();
    const d = this.data.clear();
    this.stats.controlDropped += c;
    this.stats.dropped += d;
    return c + d;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.last) * this.opts.rateFps) / 1e9);
    this.last = now;
  }

  private drain(): void {
    this.timer = null;
    this.refill();
    while (this.tokens >= 1 && this.queued > 0) {
      const f = this.control.length > 0 ? this.control.shift()! : this.data.shift()!;
      this.tokens -= 1;
      this.emit(f);
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null || this.closed || this.queued === 0) return;
    const waitNs = ((1 - this.tokens) * 1e9) / this.opts.rateFps;
    this.timer = this.clock.later(() => this.drain(), Math.max(1, Math.ceil(waitNs / 1e6)));
  }

  private emit(f: Uint8Array): void {
    try {
      this.out(f);
      this.stats.sent++;
    } catch {
      this.stats.sendErrors++;
    }
  }
}
