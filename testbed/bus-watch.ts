// The orchestrator's watch on the control bus (Redis): a connection of its own sends PING
// every BUS_PING_MS; when Redis has answered none for BUS_LOST_MS (and at least 3 pings went
// unanswered) the bus is declared lost, once. Paused (`docker pause`: the connection stays,
// nothing answers) and killed (the connection drops, reconnects fail) look the same here.
// The bounds and what the run does then: docs/testbed-wiring.md "When things fail".

import { Redis } from 'ioredis';

/** How often the bus is pinged (ms). */
export const BUS_PING_MS = 500;
/** Each command on the orchestrator's connections gives up after this long (ioredis commandTimeout, ms). */
export const BUS_COMMAND_TIMEOUT_MS = 2000;
/** No answer for this long (ms) ⇒ the bus is lost: declared at most BUS_LOST_MS + BUS_PING_MS after Redis's last answer. */
export const BUS_LOST_MS = 5000;

export class BusWatch {
  /** CLOCK_MONOTONIC ns of Redis's last answer */
  lastAnswerNs = process.hrtime.bigint();
  private unanswered = 0;
  private lost = false;
  private readonly timer: NodeJS.Timeout;
  private readonly redis: Redis;

  constructor(host: string, port: number, private readonly onLost: (lastAnswerNs: bigint, detectedNs: bigint) => void) {
    this.redis = new Redis({
      host, port, lazyConnect: false, commandTimeout: BUS_COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 1,
      connectTimeout: BUS_COMMAND_TIMEOUT_MS, retryStrategy: (times) => Math.min(100 * times, 500),
    });
    this.redis.on('error', () => undefined); // what matters is whether PING is answered
    this.timer = setInterval(() => this.tick(), BUS_PING_MS);
  }

  private tick(): void {
    if (this.lost) return;
    const now = process.hrtime.bigint();
    if (this.unanswered >= 3 && now - this.lastAnswerNs > BigInt(BUS_LOST_MS) * 1_000_000n) {
      this.lost = true;
      this.stop();
      this.onLost(this.lastAnswerNs, now);
      return;
    }
    this.unanswered++;
    this.redis.ping().then(
      () => {
        this.lastAnswerNs = process.hrtime.bigint();
        this.unanswered = 0;
      },
      () => undefined,
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.redis.disconnect();
  }
}

/**
 * The documented bound from Redis's last answer to the end of `migsim run`: the loss declared
 * (≤ BUS_LOST_MS + BUS_PING_MS), traffic stopped and its logs read (≤ 3 s), the result written,
 * the topology removed (a few seconds on 2 cores).
 */
export const BUS_LOST_EXIT_MS = 15_000;
