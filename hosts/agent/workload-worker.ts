// The guest's vCPU as a worker thread: runs the VM's workload (model/memory/workload.ts, the
// sim's write streams) against the shared RAM every tick, on a guest clock that stops while
// paused. Its messages and the pause protocol: docs/control-protocol.md ("The guest's RAM
// and vCPU").

import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { createWorkload } from '../../model/memory/workload.js';
import { Random, vmStreams } from '../../model/random.js';
import type { WorkloadSpec } from '../../model/scenario/types.js';
import { CONTROL, VmMemory, type VmMemoryShared } from './vm-memory.js';

export interface WorkloadWorkerData {
  shared: VmMemoryShared;
  workload: WorkloadSpec;
  seed: number;
  name: string;
  /** tick period, ms (default 1) */
  tickMs?: number;
}

export type ToWorker =
  | { type: 'pause'; id: number }
  | { type: 'resume' }
  | { type: 'throttle'; pct: number }
  | { type: 'checksums'; id: number; out: SharedArrayBuffer }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'paused'; id: number; atNs: number; writes: number }
  | { type: 'checksums'; id: number; startNs: number; endNs: number }
  | { type: 'checksums'; id: number; error: string }
  | { type: 'stopped' };

const nowNs = (): number => Number(process.hrtime.bigint());

function run(port: NonNullable<typeof parentPort>, data: WorkloadWorkerData): void {
  const mem = VmMemory.attach(data.shared);
  const workload = createWorkload(data.workload, mem.pageCount, mem.pageSize, vmStreams(new Random(data.seed), data.name).workload);
  const words = mem.words;
  const dirty = mem.dirtyWords;
  const control = mem.control;
  const perPage = mem.pageSize >>> 2;
  // 64-bit counters sit at even word offsets 2, 4, … of a page; word 0 is the page's version
  const pairs = Math.max(1, (perPage >>> 1) - 1);
  let seq = 0;

  const sink = (p: number): void => {
    const base = p * perPage;
    seq = (seq + 1) | 0;
    words[base] = (words[base]! + 1) | 0;
    if (perPage >= 4) {
      const at = base + 2 + 2 * ((Math.imul(seq, 0x9e3779b1) >>> 0) % pairs);
      const lo = (words[at]! + 1) | 0;
      words[at] = lo;
      if (lo === 0) words[at + 1] = (words[at + 1]! + 1) | 0;
    }
    // content first, then the bit (see vm-memory.ts)
    if (Atomics.load(control, CONTROL.LOGGING) === 1) Atomics.or(dirty, p >>> 5, 1 << (p & 31));
    Atomics.add(control, CONTROL.WRITES, 1);
  };

  let paused = false;
  let guestNs = 0;
  let lastWall = nowNs();

  const pauseAt = mem.pauseAt;
  /** Run the writes due up to now — or up to a requested pause, and then stop. */
  const tick = (): void => {
    if (paused) return;
    const req = Atomics.load(pauseAt, 0);
    const now = nowNs();
    const until = req > 0n ? Math.min(now, Number(req)) : now;
    if (until > lastWall) {
      const from = guestNs;
      guestNs += until - lastWall;
      lastWall = until;
      workload.advance(from, guestNs, sink);
    }
    if (req > 0n) {
      paused = true;
      Atomics.store(control, CONTROL.PAUSED, 1);
    }
  };
  const timer = setInterval(tick, data.tickMs ?? 1);

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'pause': {
        // the writes due up to the requested instant happen; none after
        if (Atomics.load(pauseAt, 0) === 0n) Atomics.store(pauseAt, 0, process.hrtime.bigint());
        tick();
        paused = true;
        Atomics.store(control, CONTROL.PAUSED, 1);
        const reply: FromWorker = { type: 'paused', id: msg.id, atNs: Number(Atomics.load(pauseAt, 0)), writes: Atomics.load(control, CONTROL.WRITES) };
        port.postMessage(reply);
        break;
      }
      case 'resume':
        Atomics.store(pauseAt, 0, 0n);
        if (paused) {
          paused = false;
          Atomics.store(control, CONTROL.PAUSED, 0);
          lastWall = nowNs();
        }
        break;
      case 'throttle':
        workload.throttle = Math.min(0.99, Math.max(0, msg.pct / 100));
        break;
      case 'checksums': {
        if (!paused) {
          port.postMessage({ type: 'checksums', id: msg.id, error: 'the guest is running: checksums are taken only while it is paused' } satisfies FromWorker);
          break;
        }
        const startNs = nowNs();
        const out = new Uint32Array(msg.out);
        const n = Math.min(out.length, mem.pageCount);
        for (let p = 0; p < n; p++) out[p] = crc32(mem.page(p));
        port.postMessage({ type: 'checksums', id: msg.id, startNs, endNs: nowNs() } satisfies FromWorker);
        break;
      }
      case 'stop':
        clearInterval(timer);
        paused = true;
        port.postMessage({ type: 'stopped' } satisfies FromWorker);
        port.close();
        break;
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

const data = workerData as (WorkloadWorkerData & { migsimWorkload?: true }) | null;
if (parentPort && data?.migsimWorkload) run(parentPort, data);
