// The UDP end of a traffic process (msource, probe): binding its address, which may not be
// on an interface yet, and reporting send failures without flooding the log.

import { createSocket, type Socket } from 'node:dgram';
import { sleep } from '../runtime/process-kit.js';
import type { NdjsonLog } from '../runtime/ndjson-log.js';

/** A UDP socket bound to ip:port, retried every 100 ms while the address is not (yet) on an interface. */
export async function bindUdp(ip: string, port: number, waitMs: number): Promise<Socket> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: ip, port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      return socket;
    } catch (e) {
      socket.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRNOTAVAIL' || Date.now() >= deadline) throw e;
      await sleep(100);
    }
  }
}

/**
 * bindUdp for a process whose run ends if it cannot: on failure, says why on stderr
 * (prefixed with `who`) and as the log's `stop` line (`zeroCounts` and the reason), closes
 * the log and returns null, and the process exits 1.
 */
export async function bindUdpOrStop(
  log: NdjsonLog,
  who: string,
  ip: string,
  port: number,
  waitMs: number,
  zeroCounts: Record<string, number>,
  setUp: (s: Socket) => void = () => undefined,
): Promise<Socket | null> {
  try {
    const socket = await bindUdp(ip, port, waitMs);
    setUp(socket);
    return socket;
  } catch (e) {
    const why = (e as Error).message;
    process.stderr.write(`${who}: cannot use ${ip}:${port}: ${why}\n`);
    log.write('stop', { ...zeroCounts, reason: `socket: ${why}` });
    log.close();
    return null;
  }
}

/**
 * Send failures, as `send-error` lines at most one a second: each line carries the failure
 * that wrote it and `count`, the failures since the previous line (that one included).
 */
export class SendErrorReport {
  /** failures in all */
  total = 0;
  private sinceLine = 0;
  private lastLineMs = -Infinity;

  constructor(
    private readonly log: NdjsonLog,
    private readonly minGapMs = 1000,
  ) {}

  failed(fields: Record<string, unknown>, error: Error): void {
    this.total++;
    this.sinceLine++;
    const now = Date.now();
    if (now - this.lastLineMs < this.minGapMs) return;
    this.log.write('send-error', { ...fields, error: error.message, count: this.sinceLine });
    this.sinceLine = 0;
    this.lastLineMs = now;
  }
}
