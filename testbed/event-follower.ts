// The orchestrator's live view of the run's event stream: one connection blocked in XREAD
// on `migsim:<run>:events`, every entry decoded (hosts/control/event-stream.ts's format) and kept in
// arrival order, and waiters woken by the entry they wait for. The orchestrator reacts to
// the agents this way (a switchover → move the VM's network identity; an assistance
// request → signal the guest), within the sinks' 2 ms flush plus one Redis round trip.

import type { Redis } from 'ioredis';
import { toStreamEvent, type StreamEvent } from '../hosts/control/event-stream.js';
import { runKeys } from '../hosts/control/redis-bus.js';

type Pred = (e: StreamEvent) => boolean;

interface Waiter {
  pred: Pred;
  resolve: (e: StreamEvent) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class EventFollower {
  /** every entry so far, in stream order */
  readonly events: StreamEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(e: StreamEvent) => void>();
  private stopped = false;
  private readonly loop: Promise<void>;

  /** `redis` becomes this follower's own (it blocks in XREAD); closed by stop(). */
  constructor(private readonly redis: Redis, run: string) {
    const key = runKeys(run).events;
    this.loop = this.follow(key);
  }

  private async follow(key: string): Promise<void> {
    let last = '0-0';
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', key, last)) as [string, [string, string[]][]][] | null;
      } catch {
        if (this.stopped) return;
        // the loop retries (ioredis reconnects); a bus that stays away is the bus watch's to
        // declare lost (bus-watch.ts), which stops this follower and fails every waiter
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, flat] of entries) {
          last = id;
          const e = toStreamEvent(id, flat);
          if (!e) continue;
          this.events.push(e);
          for (const l of this.listeners) l(e);
          for (const w of this.waiters) {
            if (w.pred(e)) {
              clearTimeout(w.timer);
              this.waiters.delete(w);
              w.resolve(e);
            }
          }
        }
      }
    }
  }

  /** The index the next entry will have: pass it to `waitFor` to see only what comes after. */
  mark(): number {
    return this.events.length;
  }

  /** Calls `cb` with every entry from now on; returns the function that stops it. */
  onEvent(cb: (e: StreamEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * The first entry (from index `from`) that matches, waiting up to `timeoutMs` for it. An
   * abort of `signal` gives up the wait (the promise rejects) and frees its timer.
   */
  waitFor(pred: Pred, timeoutMs: number, what: string, from = 0, signal?: AbortSignal): Promise<StreamEvent> {
    for (let i = from; i < this.events.length; i++) if (pred(this.events[i]!)) return Promise.resolve(this.events[i]!);
    if (signal?.aborted) return Promise.reject(new Error(`stopped waiting for ${what}`));
    if (this.stopped) return Promise.reject(new Error(`no ${what}: the event follower stopped`));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        reject(new Error(`stopped waiting for ${what}`));
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      const w: Waiter = {
        pred,
        resolve: (e) => {
          done();
          resolve(e);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer: setTimeout(() => {
          this.waiters.delete(w);
          done();
          const tail = this.events.slice(-12).map((e) => `  ${e.source} ${e.kind} ${JSON.stringify(e.data).slice(0, 160)}`);
          reject(new Error(`no ${what} within ${timeoutMs} ms; the stream's last entries:\n${tail.join('\n')}`));
        }, timeoutMs),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  private failWaiters(e: Error): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.failWaiters(new Error('the event follower stopped'));
    this.redis.disconnect();
    await this.loop.catch(() => undefined);
  }
}
