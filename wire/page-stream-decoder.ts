// The migration page stream's incremental decoder: TCP chunks of any size in, records out,
// a PAGES batch's page bytes handed out as they arrive (never buffered whole).

import { DEFAULT_LIMITS, HEADER_BYTES, parseRecord, type Direction, type Hello, type ParseContext, type StreamLimits, type StreamRecord } from './page-stream.js';
/**
 * Feeds on TCP chunks of any size: records split across chunks are reassembled (only the
 * split record is copied; whole records in a chunk are handed out as views), and a PAGES
 * batch's pages are handed out as `pageData` views of the chunks they arrive in, so RAM is
 * written straight from the socket's buffers. The first bad record stops the decoder for
 * good; `push` returns its reason from then on. The handler may return a reason to reject a
 * record that is well-formed but out of place.
 */
export class StreamDecoder {
  private hello: Hello | null = null;
  private pending = new Uint8Array(0);
  private pendingLen = 0;
  /** the PAGES batch whose pages are arriving: `at` of `total` bytes handed out */
  private batch: { pages: Uint32Array; at: number; total: number } | null = null;
  private failure: string | null = null;
  private doneSeen = false;
  /** bytes taken in so far */
  bytesIn = 0;
  /** complete records so far (a PAGES batch counts once its index list is in) */
  records = 0;
  private readonly ctx: ParseContext;

  constructor(
    readonly direction: Direction,
    limits: StreamLimits = DEFAULT_LIMITS,
  ) {
    this.ctx = { direction, hello: null, limits };
  }

  get error(): string | null {
    return this.failure;
  }

  /** The HELLO, once seen. */
  get header(): Hello | null {
    return this.hello;
  }

  /** DONE was seen (forward): nothing may follow. */
  get done(): boolean {
    return this.doneSeen;
  }

  /** Whether a partial record (or a batch's pages) is still expected. */
  get midRecord(): boolean {
    return this.pendingLen > 0 || this.batch !== null;
  }

  push(chunk: Uint8Array, onRecord: (r: StreamRecord) => string | void): string | null {
    if (this.failure) return this.failure;
    this.bytesIn += chunk.length;
    let off = 0;
    if (this.pendingLen > 0) {
      for (;;) {
        const step = parseRecord(this.pending.subarray(0, this.pendingLen), this.ctx);
        if (step.kind === 'reject') return this.fail(step.reason);
        if (step.kind === 'record') {
          this.pendingLen = 0;
          const bad = this.deliver(step.record, onRecord);
          if (bad) return this.fail(bad);
          break;
        }
        const take = Math.min(step.bytes - this.pendingLen, chunk.length - off);
        this.reserve(step.bytes);
        this.pending.set(chunk.subarray(off, off + take), this.pendingLen);
        this.pendingLen += take;
        off += take;
        if (this.pendingLen < step.bytes) return null;
      }
    }
    while (off < chunk.length) {
      if (this.batch) {
        const used = this.feedBatch(this.batch, chunk, off, onRecord);
        if (this.failure) return this.failure;
        off += used;
        continue;
      }
      if (this.doneSeen && this.direction === 'forward') return this.fail(`${chunk.length - off} bytes after DONE`);
      const step = parseRecord(chunk.subarray(off), this.ctx);
      if (step.kind === 'reject') return this.fail(step.reason);
      if (step.kind === 'need') {
        const rest = chunk.length - off;
        this.reserve(Math.max(step.bytes, HEADER_BYTES));
        this.pending.set(chunk.subarray(off), 0);
        this.pendingLen = rest;
        return null;
      }
      off += step.length;
      const bad = this.deliver(step.record, onRecord);
      if (bad) return this.fail(bad);
    }
    return null;
  }

  /** The peer closed: null if the stream ended on a record boundary, else why not. */
  end(): string | null {
    if (this.failure) return this.failure;
    if (this.batch) return this.fail(`stream ended inside a PAGES batch (${this.batch.at} of its ${this.batch.total} page bytes)`);
    if (this.pendingLen > 0) return this.fail(`stream ended inside a record (${this.pendingLen} bytes of it)`);
    return null;
  }

  /**
   * Where the next bytes of the PAGES batch being received belong, as far as its pages run
   * on consecutively (at most `max` bytes): a reader may receive them straight into the VM's
   * RAM there and report them with `pushDirect`. null: no batch's pages are due.
   */
  directSpan(max = Infinity): { page: number; offset: number; bytes: number } | null {
    const b = this.batch;
    if (!b || this.failure) return null;
    const run = this.runAt(b, max);
    return { page: b.pages[run.k]!, offset: run.within, bytes: run.bytes };
  }

  /** `n` bytes of the batch arrived straight in RAM at the last directSpan(): they are accounted for, not handed out. */
  pushDirect(n: number): string | null {
    if (this.failure) return this.failure;
    const span = this.directSpan(n);
    if (span === null) return this.fail(`${n} bytes received in place with no PAGES batch due`);
    if (span.bytes < n) return this.fail(`${n} bytes received in place, but only ${span.bytes} belong there`);
    this.bytesIn += n;
    const b = this.batch!;
    b.at += n;
    if (b.at === b.total) this.batch = null;
    return null;
  }

  /**
   * The batch's next bytes: they go to its k-th page at `within`, and run on for `bytes`
   * (at most `max`) over the pages after it that are consecutive in RAM.
   */
  private runAt(b: { pages: Uint32Array; at: number; total: number }, max: number): { k: number; within: number; bytes: number } {
    const ps = this.hello!.pageSize;
    const k = Math.floor(b.at / ps);
    const within = b.at - k * ps;
    const want = Math.min(max, b.total - b.at);
    // look no further than the pages `want` reaches
    const reach = Math.min(b.pages.length, k + Math.ceil((within + want) / ps));
    let j = k + 1;
    while (j < reach && b.pages[j] === b.pages[j - 1]! + 1) j++;
    return { k, within, bytes: Math.min(want, (j - k) * ps - within) };
  }

  /** Hand out what `chunk` holds of the batch's pages from `off`, a span per run of consecutive pages; returns the bytes used. */
  private feedBatch(b: { pages: Uint32Array; at: number; total: number }, chunk: Uint8Array, off: number, onRecord: (r: StreamRecord) => string | void): number {
    let used = 0;
    while (used < chunk.length - off && b.at < b.total) {
      const run = this.runAt(b, chunk.length - off - used);
      const bad = onRecord({ type: 'pageData', page: b.pages[run.k]!, offset: run.within, data: chunk.subarray(off + used, off + used + run.bytes) });
      if (bad) {
        this.fail(bad);
        return used;
      }
      used += run.bytes;
      b.at += run.bytes;
    }
    if (b.at === b.total) this.batch = null;
    return used;
  }

  private deliver(r: StreamRecord, onRecord: (r: StreamRecord) => string | void): string | null {
    if (this.doneSeen && this.direction === 'forward') return 'a record after DONE';
    if (r.type === 'hello') {
      this.hello = { version: r.version, pageSize: r.pageSize, pageCount: r.pageCount, deviceStateBytes: r.deviceStateBytes, vm: r.vm };
      this.ctx.hello = this.hello;
    }
    if (r.type === 'done') this.doneSeen = true;
    if (r.type === 'pages') this.batch = { pages: r.pages, at: 0, total: r.pages.length * this.hello!.pageSize };
    this.records++;
    return onRecord(r) || null;
  }

  private reserve(n: number): void {
    if (this.pending.length >= n) return;
    const grown = new Uint8Array(Math.max(n, this.pending.length * 2, 64));
    grown.set(this.pending.subarray(0, this.pendingLen));
    this.pending = grown;
  }

  private fail(reason: string): string {
    this.failure = reason;
    this.pendingLen = 0;
    this.batch = null;
    return reason;
  }
}
