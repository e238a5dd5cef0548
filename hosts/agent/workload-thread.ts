// The main thread's handle on a VM's workload worker (workload-worker.ts): start it,
// pause it (resolves once the worker says no write is in flight), resume, throttle,
// take checksums of the paused guest's pages, stop it.

import type { Worker } from 'node:worker_threads';
import type { WorkloadSpec } from '../../model/scenario/types.js';
import { siblingModule, spawnWorker } from './spawn-worker.js';
import type { VmMemory } from './vm-memory.js';
import type { FromWorker, ToWorker, WorkloadWorkerData } from './workload-worker.js';

/** What the migration sender needs from the guest. */
export interface WorkloadControl {
  /** Stop the guest; resolves once no write is in flight. `atNs`: when it stopped (CLOCK_MONOTONIC). */
  pause(): Promise<{ atNs: number }>;
  resume(): void;
  /** auto-converge: the share of guest CPU time taken away, percent */
  throttle(pct: number): void;
  /** crc32 of every page, taken while paused (rejects if the guest is running). */
  checksums(): Promise<{ crcs: Uint32Array; startNs: number; endNs: number }>;
}

export interface WorkloadThreadOptions {
  workload: WorkloadSpec;
  seed: number;
  name: string;
  tickMs?: number;
}

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

export class WorkloadThread implements WorkloadControl {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;
  private stopping: Promise<void> | null = null;
  private failure: Error | null = null;
  /** set while paused */
  paused = false;

  private constructor(private readonly worker: Worker, readonly memory: VmMemory) {
    worker.on('message', (m: FromWorker) => {
      if ((m.type === 'paused' || m.type === 'checksums') && this.pending.has(m.id)) {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        p.resolve(m);
      }
    });
    worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`workload worker exited (code ${code})`));
    });
  }

  static async start(memory: VmMemory, opts: WorkloadThreadOptions): Promise<WorkloadThread> {
    const data: WorkloadWorkerData & { migsimWorkload: true } = {
      migsimWorkload: true,
      shared: memory.shared,
      workload: opts.workload,
      seed: opts.seed,
      name: opts.name,
      ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
    };
    const worker = await spawnWorker(siblingModule(import.meta.url, 'workload-worker'), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromWorker): void => {
        if (m.type !== 'ready') return;
        cleanup();
        resolve();
      };
      const onErr = (e: unknown): void => {
        cleanup();
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`workload worker exited before it was ready (code ${code})`));
      };
      const cleanup = (): void => {
        worker.off('message', onMsg);
        worker.off('error', onErr);
        worker.off('exit', onExit);
      };
      worker.on('message', onMsg);
      worker.on('error', onErr);
      worker.on('exit', onExit);
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    return new WorkloadThread(worker, memory);
  }

  get alive(): boolean {
    return !this.exited && this.failure === null;
  }

  private fail(e: Error): void {
    if (!this.failure) this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(msg: ToWorker & { id: number }): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg);
    });
  }

  private send(msg: ToWorker): void {
    if (!this.exited && !this.failure) this.worker.postMessage(msg);
  }

  async pause(): Promise<{ atNs: number }> {
    // the guest stops at this instant in its own time, even if the worker thread runs late
    Atomics.compareExchange(this.memory.pauseAt, 0, 0n, process.hrtime.bigint());
    const m = await this.request({ type: 'pause', id: this.nextId++ });
    if (m.type !== 'paused') throw new Error(`unexpected reply ${m.type} to pause`);
    this.paused = true;
    return { atNs: m.atNs };
  }

  resume(): void {
    this.paused = false;
    Atomics.store(this.memory.pauseAt, 0, 0n);
    this.send({ type: 'resume' });
  }

  throttle(pct: number): void {
    this.send({ type: 'throttle', pct });
  }

  async checksums(): Promise<{ crcs: Uint32Array; startNs: number; endNs: number }> {
    const out = new SharedArrayBuffer(this.memory.pageCount * 4);
    const m = await this.request({ type: 'checksums', id: this.nextId++, out });
    if (m.type !== 'checksums') throw new Error(`unexpected reply ${m.type} to checksums`);
    if ('error' in m) throw new Error(m.error);
    return { crcs: new Uint32Array(out), startNs: m.startNs, endNs: m.endNs };
  }

  /** Stop the workload and end the thread (idempotent). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.exited) return;
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.send({ type: 'stop' });
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 1000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') await this.worker.terminate();
    })();
    return this.stopping;
  }
}
