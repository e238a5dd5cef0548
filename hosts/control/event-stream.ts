// The run's event stream in Redis: writing events to it in batches, reading it back,
// streaming the switch's log into it, and saving it beside the result.
// Entry format: docs/control-protocol.md "The event stream".

import { open, rename } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { EventLog, type SwitchEvent } from '../../model/result/event-log.js';
import type { Ns } from '../../model/time.js';
import { runKeys } from './redis-bus.js';
import { rateLimitedStderr } from '../runtime/process-kit.js';

export interface StreamEvent {
  /** the stream entry id (`<ms>-<n>`, Redis' clock) */
  id: string;
  t: bigint;
  source: string;
  kind: string;
  /** the writer's sequence number; null if the entry has none */
  seq: number | null;
  /** the whole event, as written */
  data: Record<string, unknown>;
}

/** An event to append: a kind, and a time (ns, bigint or Number; now if absent). */
export interface EventIn {
  kind: string;
  t?: Ns | bigint;
  [field: string]: unknown;
}

export interface RedisEventSinkOptions {
  /** a batch goes out this long after its first event (default 2 ms) */
  flushIntervalMs?: number;
  /** … or as soon as it holds this many events (default 256) */
  maxBatch?: number;
  /** events not yet acknowledged by Redis beyond this are dropped and counted (default 200,000) */
  maxPending?: number;
  /** how long close() waits for Redis before giving up on what is left (default 10 s) */
  closeTimeoutMs?: number;
  /** a failed batch or command (default: stderr, at most a line a second) */
  onError?: (e: Error) => void;
}

export interface SinkStats {
  /** events handed to emit() */
  emitted: number;
  /** acknowledged by Redis */
  written: number;
  /** XADDs Redis answered with an error reply (not retried: an error reply is deterministic) */
  failed: number;
  /** dropped because more than maxPending were waiting */
  dropped: number;
  /** batches (or the part of one) that failed on the connection, not on Redis, and were queued again */
  retried: number;
  batches: number;
  /** events close() could not deliver before its timeout */
  lost: number;
}

interface Entry {
  t: string;
  kind: string;
  seq: number;
  json: string;
}

const DEFAULTS = { flushIntervalMs: 2, maxBatch: 256, maxPending: 200_000, closeTimeoutMs: 10_000 };

function nsText(t: Ns | bigint | undefined): string {
  if (t === undefined) return process.hrtime.bigint().toString();
  if (typeof t === 'bigint') return t.toString();
  if (!Number.isFinite(t)) throw new RangeError(`event time ${t} is not a number of ns`);
  return BigInt(Math.round(t)).toString();
}

const bigintAsText = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * Appends events to the run's stream in batches: one pipeline of XADDs per batch, sent
 * `flushIntervalMs` after the batch's first event or when it reaches `maxBatch`. emit()
 * never throws and never blocks; close() sends what is buffered and waits until Redis has
 * acknowledged every event (or `closeTimeoutMs`), so nothing is lost on shutdown.
 */
export class RedisEventSink {
  readonly stats: SinkStats = { emitted: 0, written: 0, failed: 0, dropped: 0, retried: 0, batches: 0, lost: 0 };
  private readonly key: string;
  private readonly opts: typeof DEFAULTS;
  private readonly onError: (e: Error) => void;
  private buffer: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();
  private inFlightCount = 0;
  private seq = 0;
  private closing: Promise<SinkStats> | null = null;
  /** close() timed out: stop retrying */
  private abandoned = false;

  constructor(private readonly redis: Redis, run: string, readonly source: string, options: RedisEventSinkOptions = {}) {
    this.key = runKeys(run).events;
    this.opts = {
      flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
      maxBatch: options.maxBatch ?? DEFAULTS.maxBatch,
      maxPending: options.maxPending ?? DEFAULTS.maxPending,
      closeTimeoutMs: options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    };
    this.onError = options.onError ?? rateLimitedStderr(`event stream ${this.key}`);
  }

  /** Events emitted and not yet acknowledged by Redis. */
  get pending(): number {
    return this.buffer.length + this.inFlightCount;
  }

  emit(event: EventIn): void {
    this.stats.emitted++;
    if (this.closing) {
      this.stats.dropped++;
      return;
    }
    if (this.pending >= this.opts.maxPending) {
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 10_000 === 0) {
        this.onError(new Error(`${this.stats.dropped} events dropped: more than ${this.opts.maxPending} waiting for Redis`));
      }
      return;
    }
    let t: string;
    let json: string;
    try {
      t = nsText(event.t);
      json = JSON.stringify(event, bigintAsText);
    } catch (e) {
      this.stats.failed++;
      this.onError(new Error(`event ${String(event.kind)} not serialisable: ${(e as Error).message}`));
      return;
    }
    this.buffer.push({ t, kind: String(event.kind), seq: this.seq++, json });
    if (this.buffer.length >= this.opts.maxBatch) this.send();
    else if (this.timer === null) this.timer = setTimeout(() => this.send(), this.opts.flushIntervalMs);
  }

  /**
   * Send what is buffered now and wait until Redis has acknowledged all of it (a batch that
   * failed as a whole is tried again every 50 ms until it goes through, or close() gives up).
   */
  async flush(): Promise<void> {
    while (!this.abandoned) {
      this.send();
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      if (this.buffer.length === 0) return;
      await new Promise<void>((r) => setTimeout(r, 50));
    }
  }

  /** Flush everything and stop accepting events (later ones are dropped and counted). Idempotent. */
  close(): Promise<SinkStats> {
    if (!this.closing) {
      this.closing = (async () => {
        let timer: NodeJS.Timeout | null = null;
        const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.opts.closeTimeoutMs)));
        const done = await Promise.race([this.flush().then(() => 'done' as const), timeout]);
        if (timer) clearTimeout(timer);
        if (done === 'timeout') {
          this.abandoned = true;
          if (this.timer !== null) clearTimeout(this.timer);
          this.timer = null;
          this.stats.lost = this.pending;
          this.onError(new Error(`close: ${this.stats.lost} events not acknowledged by Redis within ${this.opts.closeTimeoutMs} ms`));
        }
        return this.stats;
      })();
    }
    return this.closing;
  }

  private send(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.maxBatch);
      this.write(batch);
    }
  }

  private write(batch: Entry[]): void {
    this.stats.batches++;
    this.inFlightCount += batch.length;
    const p = this.redis.pipeline();
    for (const e of batch) p.xadd(this.key, '*', 't', e.t, 'source', this.source, 'kind', e.kind, 'seq', String(e.seq), 'json', e.json);
    const done: Promise<void> = p.exec().then(
      (results) => {
        this.inFlightCount -= batch.length;
        if (results === null) return this.requeue(batch, new Error('pipeline aborted'));
        const again: Entry[] = [];
        let lastError: Error | null = null;
        results.forEach(([err], i) => {
          if (!err) {
            this.stats.written++;
          } else if (err.name === 'ReplyError') {
            // Redis refused it (WRONGTYPE, OOM …): sending it again would not help
            this.stats.failed++;
            this.onError(new Error(`XADD ${batch[i]!.kind}: ${err.message}`));
          } else {
            // the connection failed under this command (no offline queue, retries used up)
            again.push(batch[i]!);
            lastError = err;
          }
        });
        if (again.length > 0) this.requeue(again, lastError!);
      },
      (err: Error) => {
        this.inFlightCount -= batch.length;
        this.requeue(batch, err);
      },
    ).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** A batch that failed as a whole (the connection, not a command): try it again shortly, in front. */
  private requeue(batch: Entry[], err: Error): void {
    if (this.abandoned) return;
    this.stats.retried++;
    this.onError(new Error(`batch of ${batch.length} events failed, retrying: ${err.message}`));
    this.buffer.unshift(...batch);
    if (this.timer === null) this.timer = setTimeout(() => this.send(), Math.max(50, this.opts.flushIntervalMs));
  }
}

// ------------------------------------------------------------------------------------------
// the switch's log into the stream

/**
 * Make every event the switch logs go to the stream too, by wrapping the EventLog instance's
 * `add` and `sourceGuardDrop` (own properties shadowing the prototype's methods; every part of
 * the switch holds the same instance, so every event passes through). The log keeps what it
 * kept before, and the stream gets exactly what the log keeps — the malformed events beyond
 * EventLog.MAX_MALFORMED_LOGGED are only counted there, so they are not streamed either — plus
 * one `source-guard-drop` {t, mac} per frame IP source guard dropped. Returns a function that
 * undoes the wrapping.
 */
export function streamSwitchLog(log: EventLog, sink: RedisEventSink): () => void {
  const add = log.add;
  const drop = log.sourceGuardDrop;
  const wrappedAdd = (e: SwitchEvent): void => {
    const before = log.events.length;
    add.call(log, e);
    if (log.events.length !== before) sink.emit(e);
  };
  const wrappedDrop = (mac: string, t: Ns): void => {
    drop.call(log, mac, t);
    sink.emit({ t, kind: 'source-guard-drop', mac });
  };
  log.add = wrappedAdd;
  log.sourceGuardDrop = wrappedDrop;
  return () => {
    if (log.add === wrappedAdd) Reflect.deleteProperty(log, 'add');
    if (log.sourceGuardDrop === wrappedDrop) Reflect.deleteProperty(log, 'sourceGuardDrop');
  };
}

/**
 * An EventLog rebuilt from one source's stream events (what the sim's metrics read), with
 * times relative to `origin` (ns; default 0n: the monotonic clock as is).
 */
export function eventLogFromStream(events: StreamEvent[], source = 'switch', origin = 0n): EventLog {
  const log = new EventLog();
  for (const e of events) {
    if (e.source !== source) continue;
    const t = Number(e.t - origin);
    if (e.kind === 'source-guard-drop') {
      if (typeof e.data.mac === 'string') log.sourceGuardDrop(e.data.mac, t);
    } else if (e.data.kind === e.kind && SWITCH_KINDS.has(e.kind)) {
      log.add({ ...(e.data as SwitchEvent), t });
    }
  }
  return log;
}

const SWITCH_KINDS = new Set<string>([
  'vdp-request', 'vdp-response', 'vdp-timeout', 'fdb-move', 'binding-added', 'binding-moved', 'binding-removed',
  'migration-detected', 'leasequery-sent', 'leasequery-reply', 'leasequery-gave-up', 'assist-sent',
  'igmp-query-sent', 'igmp-join', 'igmp-leave', 'malformed', 'refused',
] satisfies SwitchEvent['kind'][]);

// ------------------------------------------------------------------------------------------
// reading

function fieldsOf(flat: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}

/** One stream entry (id + flat field list) as an event; null if it is not one (no decimal `t`). */
export function toStreamEvent(id: string, flat: string[]): StreamEvent | null {
  const f = fieldsOf(flat);
  const t = f.get('t');
  if (t === undefined || !/^\d+$/.test(t)) return null;
  let data: Record<string, unknown> = {};
  const json = f.get('json');
  if (json !== undefined) {
    try {
      const v: unknown = JSON.parse(json);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) data = v as Record<string, unknown>;
    } catch {
      /* keep the entry; its data is empty */
    }
  }
  const seq = f.get('seq');
  return { id, t: BigInt(t), source: f.get('source') ?? '', kind: f.get('kind') ?? '', seq: seq !== undefined && /^\d+$/.test(seq) ? Number(seq) : null, data };
}

export interface ReadOptions {
  /** entries per XRANGE (default 1000) */
  pageSize?: number;
  /** keep repeated entries (same source, seq and t) instead of dropping them (default false) */
  keepDuplicates?: boolean;
  /** entries that are not events (no decimal `t`) are skipped; they are counted here */
  skipped?: { count: number };
}

/** Pages of the stream, in stream order (XRANGE with an exclusive start, Redis ≥ 6.2). */
async function* pages(redis: Redis, key: string, pageSize: number): AsyncGenerator<[string, string[]][]> {
  let start = '-';
  for (;;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', pageSize);
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    start = `(${page[page.length - 1]![0]}`;
  }
}

async function* events(redis: Redis, run: string, o: ReadOptions): AsyncGenerator<StreamEvent[]> {
  const seen = new Set<string>();
  for await (const page of pages(redis, runKeys(run).events, o.pageSize ?? 1000)) {
    const out: StreamEvent[] = [];
    for (const [id, flat] of page) {
      const e = toStreamEvent(id, flat);
      if (!e) {
        if (o.skipped) o.skipped.count++;
        continue;
      }
      if (!o.keepDuplicates && e.seq !== null) {
        const k = `${e.source}\u0000${e.seq}\u0000${e.t}`;
        if (seen.has(k)) continue;
        seen.add(k);
      }
      out.push(e);
    }
    yield out;
  }
}

/** The whole stream of a run, in stream order. */
export async function readEvents(redis: Redis, run: string, options: ReadOptions = {}): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  for await (const page of events(redis, run, options)) all.push(...page);
  return all;
}

/**
 * Write the run's stream to `file` as NDJSON, one entry a line:
 * {"id","t":"<ns decimal>","source","kind","seq","data":{…}}. Written to `file.tmp` and
 * renamed, so a reader never sees half a file. The run's result JSON goes beside it
 * (e.g. results/<scenario>/testbed-<timestamp>.json and …events.ndjson). Resolves to the
 * number of entries written.
 */
export async function saveStream(redis: Redis, run: string, file: string, options: ReadOptions = {}): Promise<number> {
  return writeEventPages(events(redis, run, options), file);
}

/** One saved entry (saveStream's line format). */
export const streamLine = (e: StreamEvent): string => JSON.stringify({ id: e.id, t: e.t.toString(), source: e.source, kind: e.kind, seq: e.seq, data: e.data });

/** Events already read (a follower's, when Redis is gone) saved as saveStream saves the stream. */
export async function saveEvents(list: StreamEvent[], file: string): Promise<number> {
  return writeEventPages((async function* () {
    yield list;
  })(), file);
}

async function writeEventPages(pagesIn: AsyncIterable<StreamEvent[]>, file: string): Promise<number> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  let n = 0;
  try {
    for await (const page of pagesIn) {
      if (page.length === 0) continue;
      const text = page.map(streamLine).join('\n');
      await fh.write(`${text}\n`);
      n += page.length;
    }
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return n;
}
