// The source side of a live migration on a testbed host: pre-copy rounds of real pages over
// a TCP socket, with the sim's round semantics and the shared pre-copy decisions; reverts on
// any failure before the verdict. The steps: docs/control-protocol.md "The host agent's data path".

import type { Socket } from 'node:net';
import { AutoConverge, canSwitchOver } from '../../model/memory/precopy.js';
import { wireBytes } from '../../model/page-cost.js';
import type { Switchover } from '../../model/scenario/expectable.js';
import { emitTo, nowNs, type EventSink } from './events.js';
import { Aborted, PageWriter, TokenBucket } from './page-writer.js';
import type { WorkloadControl } from './workload-thread.js';
import { emitChecksums, emitDeviceState, emitDone, emitHello, emitRoundEnd, type StreamRecord } from '../../wire/page-stream.js';
import { StreamDecoder } from '../../wire/page-stream-decoder.js';
import { mergePages, type VmMemory } from './vm-memory.js';
import type { MigrationCancel } from './migration-cancel.js';
import type { SenderResult, SenderRound } from './migration-result.js';


export interface MigrateParams {
  vm: string;
  memory: VmMemory;
  worker: WorkloadControl;
  /** connected to the destination's agent */
  socket: Socket;
  /** precopy (default) or stopcopy (pause first, send everything) */
  mode?: 'precopy' | 'stopcopy';
  /** cap on the live rounds' rate, bit/s; null: no cap of its own (the link's rate) */
  bandwidthBps: number | null;
  /** the migration link's rate, bit/s, enforced by pacing; null: whatever the socket does */
  linkBandwidthBps: number | null;
  downtimeLimitNs: number;
  maxRounds: number;
  deviceStateBytes: number;
  autoConverge: boolean;
  /** auto-converge's first throttle, whole percent 1..99 (QEMU's cpu-throttle-initial); default 20 */
  throttleInitialPct?: number;
  /** auto-converge's step at each further round that does not converge, 1..99 (cpu-throttle-increment); default 10 */
  throttleIncrementPct?: number;
  onEvent?: EventSink;
  /** how long to wait for each reply (RESUMED, VERDICT), and for any progress of the connection, ms; default 60 s */
  replyTimeoutMs?: number;
  /** bytes of pages per write (a PAGES batch); default ~2 ms of the live rate, 256 KiB .. 1 MiB */
  batchBytes?: number;
  /**
   * the operator's abort (libvirt's domjobabort: a cancel, the migration's timeout, a peer
   * declared dead): aborting it gives the migration up with its reason, unless the
   * destination already runs the VM (RESUMED arrived), which cannot be undone
   */
  cancel?: MigrationCancel;
  /** test-only fault injection */
  testHooks?: {
    /** "forget" this page: it is counted as sent in every round but never goes on the wire */
    skipPage?: number;
  };
}


/**
 * Bytes of pages per write: about 2 ms of the paced rate, so pacing stays smooth, within
 * 256 KiB .. 1 MiB (smaller batches cost the receiver more reads outside the VM's RAM; on
 * loopback 1 MiB batches moved pages 1.4× as fast as 256 KiB ones, 4 MiB no faster).
 */
const MIN_BATCH = 256 * 1024;
const MAX_BATCH = 1024 * 1024;
const BATCH_NS = 2e6;
const batchFor = (rateBps: number | null): number => (rateBps === null ? MAX_BATCH : Math.min(MAX_BATCH, Math.max(MIN_BATCH, (rateBps / 8) * (BATCH_NS / 1e9))));
/** bytes queued in the socket beyond what the kernel took, before the sender waits */
const BACKLOG = 4 * 1024 * 1024;

function deviceStateBytes(n: number, vm: string): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < vm.length; i++) x = Math.imul(x ^ vm.charCodeAt(i), 0x01000193);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Run one migration to completion (or revert). Never rejects. */
export async function migrate(p: MigrateParams): Promise<SenderResult> {
  const { memory, worker, socket, vm } = p;
  const mode = p.mode ?? 'precopy';
  const emit = (kind: string, fields: Record<string, unknown> = {}): void => emitTo(p.onEvent, { t: nowNs(), kind, vm, ...fields });
  const res: SenderResult = {
    vm,
    mode,
    outcome: 'failed',
    error: null,
    rounds: [],
    stopCopy: null,
    pagesSent: 0,
    bytesSent: 0,
    zeroPagesSent: 0,
    throttlePct: 0,
    memoryVerified: null,
    mismatches: null,
    firstMismatch: null,
    streamBytes: 0,
    startNs: nowNs(),
    switchoverNs: null,
    switchover: null,
    resumeNs: null,
    resumeAckNs: null,
    endNs: null,
    sourceResumeNs: null,
    checksumsStartNs: null,
    checksumsEndNs: null,
    sourceChecksums: null,
  };
  emit('migration-start', { mode, memoryBytes: memory.memoryBytes, pageSize: memory.pageSize });

  // ---- the connection: one abort promise every wait races against ----
  let abortReason: string | null = null;
  let rejectAbort!: (e: Error) => void;
  const abort = new Promise<never>((_, reject) => {
    rejectAbort = reject;
  });
  abort.catch(() => undefined);
  const giveUp = (reason: string): void => {
    if (abortReason !== null) return;
    abortReason = reason;
    rejectAbort(new Aborted(reason));
  };

  type Waiter<T> = { promise: Promise<T>; resolve: (v: T) => void };
  const waiter = <T>(): Waiter<T> => {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };
  const resumed = waiter<{ atNs: number; ackNs: number }>();
  const verdict = waiter<Extract<StreamRecord, { type: 'verdict' }>>();
  const replies = new StreamDecoder('reply');
  let gotResumed = false;
  let gotVerdict = false;

  const onData = (chunk: Buffer): void => {
    const bad = replies.push(chunk, (r) => {
      if (r.type === 'resumed') {
        if (gotResumed) return 'a second RESUMED';
        gotResumed = true;
        resumed.resolve({ atNs: r.tNs, ackNs: nowNs() });
      } else if (r.type === 'verdict') {
        if (!gotResumed) return 'VERDICT before RESUMED';
        if (gotVerdict) return 'a second VERDICT';
        gotVerdict = true;
        verdict.resolve(r);
      } else if (r.type === 'error') {
        giveUp(`the destination rejected the stream: ${r.reason}`);
      }
    });
    if (bad) giveUp(`bad reply from the destination: ${bad}`);
  };
  const onError = (e: Error): void => giveUp(`connection error: ${e.message}`);
  const onClose = (): void => giveUp(gotVerdict ? 'connection closed' : `connection closed by the destination after ${writer.streamBytes} bytes`);
  const idleMs = p.replyTimeoutMs ?? 60_000;
  const onIdle = (): void => giveUp(`the connection made no progress for ${idleMs} ms`);
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('timeout', onIdle);
  socket.setTimeout(idleMs);
  socket.setNoDelay(true);
  if (socket.destroyed) giveUp('the connection is closed');
  // an abort from outside: only before the destination runs the VM
  p.cancel?.arm((reason) => {
    if (gotResumed) return false;
    giveUp(reason);
    return true;
  });

  const withTimeout = async <T>(what: string, pr: Promise<T>): Promise<T> => {
    const ms = p.replyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Aborted(`no ${what} from the destination within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([pr, abort, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  // ---- writing ----
  const liveRate = minRate(p.bandwidthBps, p.linkBandwidthBps);
  const batchBytes = p.batchBytes ?? batchFor(liveRate);
  const writer = new PageWriter(socket, memory, {
    batchBytes,
    backlogBytes: Math.max(BACKLOG, 2 * batchBytes),
    abort,
    aborted: () => abortReason,
    ...(p.testHooks?.skipPage !== undefined ? { skipPage: p.testHooks.skipPage } : {}),
  });
  const write = (data: Uint8Array, pacer: TokenBucket | null, last = false): Promise<void> => writer.write(data, pacer, last);
  const burst = writer.batchPages * memory.pageSize;

  const livePacer = liveRate === null ? null : new TokenBucket(liveRate, burst);
  const linkPacer = p.linkBandwidthBps === null ? null : new TokenBucket(p.linkBandwidthBps, burst);
  const autoConverge = p.autoConverge ? new AutoConverge(p.throttleInitialPct, p.throttleIncrementPct) : null;
  let pausing: Promise<{ atNs: number }> | null = null;
  // opaque, but made before the pause: producing it is not part of the paused transfer
  const deviceState = emitDeviceState(deviceStateBytes(p.deviceStateBytes, vm));
  let checksums: Promise<{ crcs: Uint32Array; startNs: number; endNs: number }> | null = null;

  try {
    await write(emitHello({ vm, pageSize: memory.pageSize, pageCount: memory.pageCount, deviceStateBytes: p.deviceStateBytes }), null);
    memory.startLogging();

    // ---- live rounds ----
    let rest: Uint32Array | null = null; // null: every page
    let decided: Switchover = 'immediate'; // stopcopy: no live round decides
    if (mode === 'precopy') {
      let set: Uint32Array | null = null;
      for (let index = 0; ; index++) {
        const t0 = nowNs();
        livePacer?.reset();
        const sent = await writer.sendPages(set, livePacer, true);
        const durationNs = nowNs() - t0;
        await write(emitRoundEnd(index, sent.pages, sent.bytes), null);
        const dirty = memory.takeDirty();
        res.pagesSent += sent.pages;
        res.zeroPagesSent += sent.zeros;
        res.bytesSent += sent.bytes;
        const round: SenderRound = {
          index,
          pagesSent: sent.pages,
          bytesSent: sent.bytes,
          durationMs: durationNs / 1e6,
          dirtyPagesAtEnd: dirty.length,
          startNs: t0,
        };
        res.rounds.push(round);
        const pendingBytes = wireBytes(dirty.length, 0, memory.pageSize);
        const rateBps = (sent.bytes * 8) / (durationNs / 1e9);
        const fits = canSwitchOver({ pendingBytes, deviceStateBytes: p.deviceStateBytes, rateBps, downtimeLimitNs: p.downtimeLimitNs });
        emit('round-end', { ...round, rateBps, fits });
        // the rest fits the downtime limit (converged), or the rounds are used up (forced)
        if (fits || index + 1 >= p.maxRounds) {
          rest = dirty;
          decided = fits ? 'converged' : 'forced';
          break;
        }
        if (autoConverge) {
          const before = autoConverge.throttlePct;
          worker.throttle(autoConverge.afterRound(pendingBytes, sent.bytes));
          res.throttlePct = autoConverge.throttlePct;
          if (res.throttlePct !== before) emit('throttle', { pct: res.throttlePct });
        }
        set = dirty;
      }
    }

    // ---- stop-and-copy ----
    pausing = worker.pause();
    const stopped = await Promise.race([pausing, abort]);
    res.switchoverNs = stopped.atNs;
    res.switchover = decided;
    emit('switchover', { pausedAtNs: stopped.atNs });
    const stopSet = rest === null ? null : mergePages(rest, memory.takeDirty());
    linkPacer?.reset();
    const sent = await writer.sendPages(stopSet, linkPacer, false);
    await write(deviceState, linkPacer, true);
    await writer.flushed();
    const stopEnd = nowNs();
    res.pagesSent += sent.pages;
    res.zeroPagesSent += sent.zeros;
    res.bytesSent += sent.bytes + p.deviceStateBytes;
    res.stopCopy = { pagesSent: sent.pages, bytesSent: sent.bytes + p.deviceStateBytes, durationMs: (stopEnd - res.switchoverNs) / 1e6 };
    emit('stopcopy-sent', { ...res.stopCopy });

    // the guest is still paused, its memory final, and the paused transfer is on its way:
    // checksum the memory on the worker's thread while the destination takes in the rest
    // (not earlier: on a 2-core host it would take CPU from the paused transfer)
    checksums = worker.checksums();
    checksums.catch(() => undefined);

    const back = await withTimeout('RESUMED', resumed.promise);
    res.resumeAckNs = back.ackNs;
    // the destination's instant, when its clock is ours (CLOCK_MONOTONIC of one kernel): it
    // must fall between our pause and the reply's arrival; otherwise the reply's arrival
    res.resumeNs = back.atNs >= res.switchoverNs && back.atNs <= back.ackNs ? back.atNs : back.ackNs;
    emit('resumed', { downtimeMs: (res.resumeNs - res.switchoverNs) / 1e6, destinationClock: res.resumeNs === back.atNs });

    const sums = await withTimeout('checksums from the paused guest', checksums);
    res.checksumsStartNs = sums.startNs;
    res.checksumsEndNs = sums.endNs;
    res.sourceChecksums = sums.crcs;
    await write(emitChecksums(sums.crcs), null);
    await write(emitDone(), null);
    const v = await withTimeout('VERDICT', verdict.promise);
    res.endNs = nowNs();
    res.memoryVerified = v.verified;
    res.mismatches = v.mismatches;
    res.firstMismatch = v.firstPage;
    memory.stopLogging();
    if (v.verified) {
      res.outcome = 'completed';
    } else {
      // the destination discards a copy that fails verification: the VM goes on here
      res.outcome = 'failed';
      res.error = `memory verification failed: ${v.mismatches} page(s) on the destination differ from the source's last write (first: page ${v.firstPage})`;
      worker.throttle(0);
      worker.resume();
    }
    emit('migration-end', { outcome: res.outcome, memoryVerified: v.verified, mismatches: v.mismatches, firstMismatch: v.firstPage });
    socket.end();
  } catch (e) {
    const reason = abortReason ?? (e instanceof Error ? e.message : String(e));
    res.outcome = 'reverted';
    res.error = reason;
    res.endNs = nowNs();
    // the interrupted transfer counts what had been handed to the socket (pages pro rata)
    const part = writer.partial;
    res.pagesSent += part.pages;
    res.zeroPagesSent += part.zeros;
    res.bytesSent += wireBytes(part.pages, part.zeros, memory.pageSize);
    memory.stopLogging();
    worker.throttle(0);
    if (pausing) {
      // the guest was paused (or is being paused): it goes on running here
      await pausing.catch(() => undefined);
      worker.resume();
      res.sourceResumeNs = nowNs();
    }
    socket.destroy();
    emit('migration-reverted', { reason, wasPaused: pausing !== null });
  } finally {
    p.cancel?.arm(null);
    res.streamBytes = writer.streamBytes;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.off('timeout', onIdle);
    socket.setTimeout(0);
    socket.on('error', () => undefined); // late errors on a socket we gave up must not go unhandled
  }
  return res;
}

function minRate(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
