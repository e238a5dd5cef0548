// The source's writing half of the migration stream (wire/page-stream.ts): batches, zero
// pages and control records out of the socket, paced, with large runs sent from guest RAM
// without a copy. Details: docs/control-protocol.md "The host agent's data path".

import type { Socket } from 'node:net';
import { wireBytes, ZERO_PAGE_BYTES } from '../../model/page-cost.js';
import { sleep } from '../runtime/process-kit.js';
import { nowNs } from './events.js';
import { MAX_BATCH_PAGES, pagesHeaderBytes, putPagesHeader, putZeroRecord } from '../../wire/page-stream.js';
import type { VmMemory } from './vm-memory.js';

/** runs at least this long go from guest RAM as they are; shorter ones are copied (a write per run costs more) */
export const VIEW_MIN_BYTES = 64 * 1024;
/** zero markers gathered before they are written */
const ZERO_BATCH = 4096;
/** Extra pacing depth beyond one write: absorbs timer lateness without letting a round burst. */
const BUCKET_SLACK_NS = 4e6;

export class Aborted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Aborted';
  }
}

/** A token bucket on bytes written; empty at each reset, so a round starts unburst. */
export class TokenBucket {
  private tokens = 0;
  private last = nowNs();
  private readonly capacity: number;

  constructor(readonly rateBps: number, burstBytes: number) {
    this.capacity = burstBytes + (rateBps / 8) * (BUCKET_SLACK_NS / 1e9);
  }

  reset(): void {
    this.tokens = 0;
    this.last = nowNs();
  }

  private refill(): void {
    const now = nowNs();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1e9) * (this.rateBps / 8));
    this.last = now;
  }

  /**
   * Resolves when `bytes` may go (they are taken from the bucket). Timers are late by up to
   * a millisecond or so; in the middle of a phase the tokens that piled up meanwhile make up
   * for it, but the last write of a phase ends the phase, so `precise` waits out the final
   * fraction of a millisecond by yielding to the event loop instead of sleeping.
   */
  async take(bytes: number, abort: Promise<never>, precise = false): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= bytes || this.tokens >= this.capacity) {
        this.tokens -= bytes;
        return;
      }
      const waitMs = (((bytes - this.tokens) * 8) / this.rateBps) * 1e3;
      if (!precise) await Promise.race([sleep(Math.max(1, Math.ceil(waitMs))), abort]);
      else if (waitMs > 1.5) await Promise.race([sleep(Math.floor(waitMs - 1)), abort]);
      else await Promise.race([new Promise<void>((resolve) => setImmediate(resolve)), abort]);
    }
  }
}

export interface PageWriterOptions {
  /** bytes per write: a batch holds this much of pages (at most MAX_BATCH_PAGES) */
  batchBytes: number;
  /** bytes written but not yet taken by the kernel before the writer waits */
  backlogBytes: number;
  /** rejects when the migration is given up; every wait races it */
  abort: Promise<never>;
  /** the reason it was given up, once it was */
  aborted: () => string | null;
  /** test-only: this page is counted as sent but never goes on the wire */
  skipPage?: number;
}

export class PageWriter {
  /** every byte handed to the socket, control records included */
  streamBytes = 0;
  /** of the sendPages under way (or cut short): pages and zero pages handed to the socket so far */
  partial = { pages: 0, zeros: 0 };
  readonly batchPages: number;
  private readonly idx: Uint32Array;
  private readonly stageBytes: number;
  private readonly pool: Buffer[] = [];
  private readonly inflight: { bytes: number; done: Promise<void> }[] = [];
  private inflightBytes = 0;

  constructor(private readonly socket: Socket, private readonly memory: VmMemory, private readonly opts: PageWriterOptions) {
    this.batchPages = Math.max(1, Math.min(MAX_BATCH_PAGES, Math.floor(opts.batchBytes / memory.pageSize)));
    this.idx = new Uint32Array(this.batchPages);
    this.stageBytes = pagesHeaderBytes(this.batchPages) + this.batchPages * memory.pageSize;
  }

  /** A control record (or any bytes), paced; `last`: it ends a phase (see TokenBucket.take). */
  async write(data: Uint8Array, pacer: TokenBucket | null, last = false): Promise<void> {
    if (pacer) await pacer.take(data.length, this.opts.abort, last);
    await this.send([data], null);
  }

  /** Resolves once everything written has been handed to the kernel. */
  async flushed(): Promise<void> {
    while (this.inflight.length > 0) await this.oldestDone();
  }

  /**
   * Send `pages` (ascending; null: every page, in order) as PAGES batches and ZERO markers.
   * `endsPhase`: the last write is paced precisely. Returns what the sim's accounting
   * charges for them (wireBytes of model/page-cost.ts).
   */
  async sendPages(pages: Uint32Array | null, pacer: TokenBucket | null, endsPhase: boolean): Promise<{ pages: number; zeros: number; bytes: number }> {
    const { memory } = this;
    const skip = this.opts.skipPage ?? -1;
    const total = pages ? pages.length : memory.pageCount;
    let zeros = 0;
    let n = 0;
    let zeroBuf: Buffer | null = null;
    let zeroPos = 0;
    let zerosQueued = 0;
    const part = (this.partial = { pages: 0, zeros: 0 });
    for (let i = 0; i < total; i++) {
      const page = pages ? pages[i]! : i;
      if (memory.isZeroPage(page)) {
        zeros++;
        if (page === skip) continue;
        zeroBuf ??= Buffer.allocUnsafeSlow(ZERO_BATCH * ZERO_PAGE_BYTES);
        zeroPos += putZeroRecord(zeroBuf, zeroPos, page);
        zerosQueued++;
        if (zeroPos === zeroBuf.length) {
          await this.write(zeroBuf, pacer);
          part.pages += zerosQueued;
          part.zeros += zerosQueued;
          zerosQueued = 0;
          zeroBuf = null;
          zeroPos = 0;
        }
        continue;
      }
      if (page === skip) continue;
      this.idx[n++] = page;
      if (n === this.batchPages) {
        await this.sendBatch(n, pacer, false);
        part.pages += n;
        n = 0;
      }
    }
    if (n > 0) await this.sendBatch(n, pacer, endsPhase && zeroPos === 0);
    part.pages += n;
    if (zeroBuf && zeroPos > 0) await this.write(zeroBuf.subarray(0, zeroPos), pacer, endsPhase);
    part.pages += zerosQueued;
    part.zeros += zerosQueued;
    await this.flushed();
    this.partial = { pages: 0, zeros: 0 };
    return { pages: total, zeros, bytes: wireBytes(total, zeros, memory.pageSize) };
  }

  /** One PAGES batch of idx[0 .. n): header and scattered pages staged, long runs from RAM. */
  private async sendBatch(n: number, pacer: TokenBucket | null, last: boolean): Promise<void> {
    const { memory, idx } = this;
    const ps = memory.pageSize;
    if (pacer) await pacer.take(pagesHeaderBytes(n) + n * ps, this.opts.abort, last);
    const stage = this.pool.pop() ?? Buffer.allocUnsafeSlow(this.stageBytes);
    let pos = putPagesHeader(stage, 0, idx, 0, n);
    const parts: Uint8Array[] = [];
    let staged = 0; // start of the staged bytes not yet in `parts`
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && idx[j] === idx[j - 1]! + 1) j++;
      if ((j - i) * ps >= VIEW_MIN_BYTES) {
        if (pos > staged) parts.push(stage.subarray(staged, pos));
        parts.push(memory.view(idx[i]!, j - i));
        staged = pos;
      } else {
        memory.copyPagesTo(idx[i]!, j - i, stage, pos);
        pos += (j - i) * ps;
      }
      i = j;
    }
    if (pos > staged) parts.push(stage.subarray(staged, pos));
    await this.send(parts, stage);
  }

  /** Hand `parts` to the socket as one gathered write; `stage` returns to the pool once the kernel has it. */
  private async send(parts: Uint8Array[], stage: Buffer | null): Promise<void> {
    const why = this.opts.aborted();
    if (why !== null) throw new Aborted(why);
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.streamBytes += bytes;
    const done = new Promise<void>((resolve) => {
      const sock = this.socket;
      if (parts.length > 1) sock.cork();
      for (let k = 0; k < parts.length - 1; k++) sock.write(parts[k]!);
      sock.write(parts[parts.length - 1]!, (err) => {
        if (stage && !err && this.pool.length < 8) this.pool.push(stage);
        resolve();
      });
      if (parts.length > 1) sock.uncork();
    });
    this.inflight.push({ bytes, done });
    this.inflightBytes += bytes;
    while (this.inflightBytes > this.opts.backlogBytes) await this.oldestDone();
  }

  private async oldestDone(): Promise<void> {
    const w = this.inflight[0]!;
    await Promise.race([w.done, this.opts.abort]);
    this.inflight.shift();
    this.inflightBytes -= w.bytes;
  }
}
