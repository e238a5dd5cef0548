// The stop / subscribe / ready order a testbed component process on the Redis bus follows
// (the switch, the host agent); StartupSignals covers the wait for its config before that.
// The steps and exit statuses: docs/control-protocol.md "Component lifecycle".

import type { Redis } from 'ioredis';
import type { RedisEventSink } from './event-stream.js';
import { quitRedis } from './redis-bus.js';
import { withTimeout } from '../runtime/process-kit.js';

/**
 * SIGTERM / SIGINT from the process's start: until `handOver`, a signal resolves `aborted`
 * (the start-up gives up waiting); after it, a signal calls the stop it was handed.
 */
export class StartupSignals {
  readonly aborted: Promise<{ aborted: string }>;
  private onSignal: (reason: string) => void = () => undefined;
  private readonly handlers = { SIGTERM: () => this.onSignal('SIGTERM'), SIGINT: () => this.onSignal('SIGINT') };

  constructor() {
    this.aborted = new Promise((resolve) => (this.onSignal = (reason) => resolve({ aborted: reason })));
    process.on('SIGTERM', this.handlers.SIGTERM);
    process.on('SIGINT', this.handlers.SIGINT);
  }

  /** From now on a signal stops the running component. */
  handOver(stop: (reason: string) => void): void {
    this.onSignal = stop;
  }

  /** Takes the handlers off. */
  readonly unlisten = (): void => {
    process.off('SIGTERM', this.handlers.SIGTERM);
    process.off('SIGINT', this.handlers.SIGINT);
  };
}

export interface LifecycleOptions {
  say: (line: string) => void;
  redis: Redis;
  sink: RedisEventSink;
  /** deletes this process's ready key */
  clearReady: () => Promise<unknown>;
  /** takes the signal handlers off */
  unlisten: () => void;
  /** the component's own teardown; its last events go out after it */
  teardown: (reason: string) => Promise<void>;
}

export class ComponentLifecycle {
  /** the exit status, once stopped */
  readonly done: Promise<number>;
  private resolveDone!: (code: number) => void;
  private stopping = false;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly o: LifecycleOptions) {
    this.done = new Promise<number>((r) => (this.resolveDone = r));
  }

  get stopped(): boolean {
    return this.stopping;
  }

  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    const { say, unlisten } = this.o;
    say(`stopping (${reason})`);
    void (async () => {
      await this.o.teardown(reason);
      const st = await this.o.sink.close();
      try {
        await withTimeout(this.o.clearReady(), 2000, 'DEL ready');
      } catch (e) {
        say((e as Error).message);
      }
      if (this.unsubscribe) await withTimeout(this.unsubscribe(), 2000, 'UNSUBSCRIBE').catch(() => undefined);
      await quitRedis(this.o.redis);
      const lost = st.lost + st.dropped + st.failed;
      say(`stopped: ${st.written} events written${lost > 0 ? `, ${lost} LOST (${st.failed} refused by Redis)` : ''}`);
      unlisten();
      this.resolveDone(lost > 0 ? 3 : 0);
    })().catch((e: unknown) => {
      say(`shutdown failed: ${(e as Error).message}`);
      unlisten();
      this.resolveDone(1);
    });
  }

  /**
   * Subscribes to the control channel (`subscribe` resolves with the unsubscribe function).
   * null: subscribed, go on; a number: the process is over (it could not subscribe, or a stop
   * came meanwhile), return that exit status.
   */
  async subscribe(subscribe: () => Promise<() => Promise<void>>, what: string): Promise<number | null> {
    try {
      this.unsubscribe = await withTimeout(subscribe(), 10_000, what);
    } catch (e) {
      this.o.say((e as Error).message);
      this.stop('could not subscribe to the control channel');
      await this.done;
      return 1;
    }
    if (this.stopping) {
      // a signal arrived while we were subscribing
      void this.unsubscribe?.().catch(() => undefined);
      return this.done;
    }
    return null;
  }

  /**
   * Ready: `emitReady` puts the ready event into the sink, which is flushed, then `setReady`
   * sets the ready key (failures are said, not fatal), then `onReady` unless stopping.
   * Resolves with the exit status once stopped.
   */
  async ready(what: string, emitReady: () => void, setReady: () => Promise<unknown>, onReady: () => void): Promise<number> {
    emitReady();
    try {
      await withTimeout(this.o.sink.flush(), 10_000, `XADD ${what}`);
      await withTimeout(setReady(), 10_000, 'SET ready');
    } catch (e) {
      this.o.say((e as Error).message);
    }
    if (!this.stopping) onReady();
    return this.done;
  }
}
