// The destination side of a migration, one per incoming connection: takes the page stream
// into freshly allocated RAM, answers RESUMED and VERDICT, and keeps the VM only if every
// page matches. What each record does: docs/control-protocol.md "The host agent's data path".

import type { Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { rehome } from './direct-reads.js';
import { emitTo, nowNs, type EventSink } from './events.js';
import { DEFAULT_LIMITS, emitError, emitResumed, emitVerdict, type Hello, type StreamLimits, type StreamRecord } from '../../wire/page-stream.js';
import { StreamDecoder } from '../../wire/page-stream-decoder.js';
import { VmMemory } from './vm-memory.js';

export interface ReceiveResult {
  /** completed: verified and kept · failed: checksums differ, copy discarded · discarded: cut or rejected */
  outcome: 'completed' | 'failed' | 'discarded';
  vm: string | null;
  /** the VM's RAM, when completed */
  memory: VmMemory | null;
  deviceState: Uint8Array | null;
  verified: boolean | null;
  mismatches: number | null;
  firstMismatch: number | null;
  reason: string | null;
  /** live rounds announced by ROUND_END */
  rounds: number;
  pagesReceived: number;
  zeroPagesReceived: number;
  bytesIn: number;
  /** of bytesIn, the pages the kernel wrote straight into the VM's RAM (directReads) */
  bytesInPlace: number;
  helloNs: number | null;
  /** when the whole state was here and RESUMED went out */
  resumedNs: number | null;
  endNs: number;
}

export interface ReceiverOptions {
  limits?: StreamLimits;
  onEvent?: EventSink;
  /** veto an incoming VM (e.g. one of that name already runs here): a reason refuses it */
  accept?: (hello: Hello) => string | null;
  /** RAM set aside for this VM (HostAgent.reserve), if any and of the HELLO's geometry; else it is allocated */
  memoryFor?: (hello: Hello) => VmMemory | null;
  /**
   * the socket was accepted paused (pauseOnConnect): read runs of pages straight into RAM.
   * The receiver then owns another socket (`socket`); the one passed in is destroyed.
   */
  directReads?: boolean;
  /** pages checksummed per slice before yielding to the event loop */
  checksumSlicePages?: number;
  /** a source silent this long is given up (the copy discarded), ms; default 60 s */
  idleTimeoutMs?: number;
  /**
   * Holds the VM's resume once the whole state is here: the VM runs (RESUMED goes out) when
   * the promise resolves; a rejection discards the copy (the source resumes its VM). null or
   * absent: resume at once. The testbed holds a VM until its network identity has moved
   * (testbed/engine.ts), as libvirt starts the guest only once its vNIC is plugged.
   */
  resumeGate?: (vm: string) => Promise<void> | null;
}

type Phase = 'hello' | 'live' | 'state' | 'checksums' | 'done' | 'over';

/** a run of pages at least this long is read straight into RAM */
const MIN_DIRECT_READ = 32 * 1024;
/** the most one read into RAM asks for */
const MAX_DIRECT_READ = 4 * 1024 * 1024;
const SCRATCH_BYTES = 64 * 1024;
/** a read at a record boundary: a PAGES header and index list of up to 1024 pages, and a little more */
const BOUNDARY_READ = 16 * 1024;

export class Receiver {
  readonly result: Promise<ReceiveResult>;
  private settle!: (r: ReceiveResult) => void;
  private readonly decoder: StreamDecoder;
  private phase: Phase = 'hello';
  private memory: VmMemory | null = null;
  private hello: Hello | null = null;
  private deviceState: Uint8Array | null = null;
  private sourceCrcs: Uint32Array | null = null;
  private ownCrcs: Promise<Uint32Array> | null = null;
  private rounds = 0;
  private pages = 0;
  private zeros = 0;
  private helloNs: number | null = null;
  private resumedNs: number | null = null;
  private reservedRam = false;
  private bytesInPlace = 0;

  /** the connection (with directReads, not the socket passed in) */
  readonly socket: Socket;
  /** reads that are not of pages in place go here */
  private scratch: Uint8Array | null = null;

  constructor(accepted: Socket, private readonly opts: ReceiverOptions = {}) {
    this.decoder = new StreamDecoder('forward', opts.limits ?? DEFAULT_LIMITS);
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
    const direct = opts.directReads ? rehome(accepted, { next: () => this.nextReadBuffer(), read: (n, buf) => this.onRead(n, buf) }) : null;
    const socket = direct ?? accepted;
    this.socket = socket;
    socket.setNoDelay(true);
    const idleMs = opts.idleTimeoutMs ?? 60_000;
    socket.setTimeout(idleMs);
    socket.on('timeout', () => {
      this.discard(`the source sent nothing for ${idleMs} ms`);
      socket.destroy();
    });
    if (!direct) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.resume(); // accepted paused, or flowing already
    }
    socket.on('error', (e) => this.discard(`connection error: ${e.message}`));
    socket.on('close', () => this.discard(this.decoder.midRecord ? `connection closed inside a record after ${this.decoder.bytesIn} bytes` : `connection closed after ${this.decoder.bytesIn} bytes, before DONE`));
  }

  /**
   * The next read's buffer: the VM's RAM where the batch's next run of pages goes, when that
   * run is long enough to be worth a read of its own (a read per scattered page would cost
   * more syscalls than the copy it saves); else the scratch buffer, kept short at a record
   * boundary so little of a next batch's pages lands there to be copied.
   */
  private nextReadBuffer(): Uint8Array {
    const mem = this.memory;
    if (mem && this.phase === 'live') {
      const span = this.decoder.directSpan(MAX_DIRECT_READ);
      if (span && span.bytes >= MIN_DIRECT_READ) {
        const at = span.page * mem.pageSize + span.offset;
        return mem.bytes.subarray(at, at + span.bytes);
      }
    }
    this.scratch ??= new Uint8Array(SCRATCH_BYTES);
    return this.decoder.midRecord ? this.scratch : this.scratch.subarray(0, BOUNDARY_READ);
  }

  private onRead(n: number, buf: Uint8Array): void {
    if (this.phase === 'over') return;
    if (buf.buffer === this.scratch?.buffer) {
      this.onData(buf.subarray(0, n));
      return;
    }
    this.bytesInPlace += n;
    const bad = this.decoder.pushDirect(n);
    if (bad) this.reject(bad);
  }

  private emit(kind: string, fields: Record<string, unknown> = {}): void {
    emitTo(this.opts.onEvent, { t: nowNs(), kind, vm: this.hello?.vm ?? '', ...fields });
  }

  private onData(chunk: Uint8Array): void {
    if (this.phase === 'over') return;
    const bad = this.decoder.push(chunk, (r) => this.apply(r));
    if (bad) this.reject(bad);
  }

  /** One record, in order. A reason rejects the stream. */
  private apply(r: StreamRecord): string | void {
    switch (r.type) {
      case 'hello': {
        const veto = this.opts.accept?.(r) ?? null;
        if (veto) return veto;
        try {
          const reserved = this.opts.memoryFor?.(r) ?? null;
          this.reservedRam = reserved !== null;
          this.memory = reserved ?? VmMemory.allocate({ memoryBytes: r.pageSize * r.pageCount, pageSize: r.pageSize });
        } catch (e) {
          return `cannot hold ${r.pageSize * r.pageCount} bytes of RAM: ${e instanceof Error ? e.message : String(e)}`;
        }
        this.hello = r;
        this.helloNs = nowNs();
        this.phase = 'live';
        this.emit('incoming-start', { memoryBytes: r.pageSize * r.pageCount, pageSize: r.pageSize, deviceStateBytes: r.deviceStateBytes, reserved: this.reservedRam });
        return;
      }
      case 'pages':
        if (this.phase !== 'live') return `PAGES after DEVICE_STATE`;
        this.pages += r.pages.length;
        return;
      case 'pageData': {
        // checked by the codec: the span lies within the batch's pages (all < pageCount)
        const mem = this.memory!;
        mem.bytes.set(r.data, r.page * mem.pageSize + r.offset);
        return;
      }
      case 'page':
      case 'zero': {
        if (this.phase !== 'live') return `${r.type.toUpperCase()} ${r.page} after DEVICE_STATE`;
        const mem = this.memory!;
        if (r.type === 'page') mem.bytes.set(r.data, r.page * mem.pageSize);
        else {
          mem.page(r.page).fill(0);
          this.zeros++;
        }
        this.pages++;
        return;
      }
      case 'roundEnd':
        if (this.phase !== 'live') return 'ROUND_END after DEVICE_STATE';
        if (r.round !== this.rounds) return `ROUND_END of round ${r.round}, expected round ${this.rounds}`;
        this.rounds++;
        this.emit('incoming-round', { round: r.round, pagesSent: r.pagesSent, bytesSent: r.bytesSent });
        return;
      case 'deviceState': {
        if (this.phase !== 'live') return 'a second DEVICE_STATE';
        this.deviceState = r.data.slice();
        this.phase = 'state';
        const gate = this.opts.resumeGate?.(this.hello!.vm) ?? null;
        if (gate === null) {
          this.resume();
          this.checksumOwn();
        } else {
          // held: the checksums wait too, so a release finds this process idle and answers at once
          this.emit('incoming-held', { pagesReceived: this.pages });
          gate.then(
            () => {
              this.resume();
              this.checksumOwn();
            },
            (e: unknown) => this.reject(`the VM's resume was refused: ${e instanceof Error ? e.message : String(e)}`),
          );
        }
        return;
      }
      case 'checksums':
        if (this.phase !== 'state') return this.phase === 'live' ? 'CHECKSUMS before DEVICE_STATE' : 'a second CHECKSUMS';
        this.sourceCrcs = r.crcs;
        this.phase = 'checksums';
        return;
      case 'done':
        if (this.phase !== 'checksums') return 'DONE before CHECKSUMS';
        this.phase = 'done';
        void this.finish();
        return;
      default:
        return `${r.type} is not a forward record`;
    }
  }

  /** The VM may run here: RESUMED to the source. */
  private resume(): void {
    if (this.phase === 'over') return;
    this.resumedNs = nowNs();
    this.socket.write(emitResumed(this.resumedNs));
    this.emit('incoming-resumed', { pagesReceived: this.pages });
  }

  /** The memory is final (no page may follow DEVICE_STATE): checksum it while the source sends its own. */
  private checksumOwn(): void {
    if (this.phase === 'over' || this.ownCrcs) return;
    this.ownCrcs = checksumAll(this.memory!, this.opts.checksumSlicePages ?? 256);
    this.ownCrcs.catch(() => undefined);
  }

  private async finish(): Promise<void> {
    const own = await this.ownCrcs!;
    if (this.phase === 'over') return;
    const theirs = this.sourceCrcs!;
    let mismatches = 0;
    let first: number | null = null;
    for (let p = 0; p < own.length; p++) {
      if (own[p] !== theirs[p]) {
        if (first === null) first = p;
        mismatches++;
      }
    }
    const verified = mismatches === 0;
    this.socket.write(emitVerdict({ mismatches, firstPage: first, pagesChecked: own.length }));
    this.socket.end();
    this.emit('incoming-verdict', { verified, mismatches, firstMismatch: first, bytesIn: this.decoder.bytesIn, bytesInPlace: this.bytesInPlace });
    this.end({
      outcome: verified ? 'completed' : 'failed',
      memory: verified ? this.memory : null,
      deviceState: verified ? this.deviceState : null,
      verified,
      mismatches,
      firstMismatch: first,
      reason: verified ? null : `${mismatches} page(s) differ from the source's checksums (first: page ${first})`,
    });
  }

  private reject(reason: string): void {
    if (this.phase === 'over') return;
    this.emit('stream-rejected', { reason, bytesIn: this.decoder.bytesIn });
    if (!this.socket.destroyed) {
      this.socket.write(emitError(reason));
      this.socket.end();
      // do not wait on a peer that keeps sending
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.discard(`rejected: ${reason}`);
  }

  private discard(reason: string): void {
    if (this.phase === 'over') return;
    this.emit('incoming-discarded', { reason, bytesIn: this.decoder.bytesIn });
    this.end({ outcome: 'discarded', memory: null, deviceState: null, verified: null, mismatches: null, firstMismatch: null, reason });
  }

  private end(r: Pick<ReceiveResult, 'outcome' | 'memory' | 'deviceState' | 'verified' | 'mismatches' | 'firstMismatch' | 'reason'>): void {
    this.phase = 'over';
    this.socket.setTimeout(0);
    if (r.memory === null) this.memory = null;
    this.settle({
      ...r,
      vm: this.hello?.vm ?? null,
      rounds: this.rounds,
      pagesReceived: this.pages,
      zeroPagesReceived: this.zeros,
      bytesIn: this.decoder.bytesIn,
      bytesInPlace: this.bytesInPlace,
      helloNs: this.helloNs,
      resumedNs: this.resumedNs,
      endNs: nowNs(),
    });
  }
}

/** crc32 of every page, a slice at a time so the event loop keeps serving sockets. */
export async function checksumAll(mem: VmMemory, slicePages: number): Promise<Uint32Array> {
  const out = new Uint32Array(mem.pageCount);
  for (let p = 0; p < mem.pageCount; ) {
    const end = Math.min(mem.pageCount, p + slicePages);
    for (; p < end; p++) out[p] = crc32(mem.page(p));
    if (p < mem.pageCount) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}
