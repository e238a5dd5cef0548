// A testbed hypervisor host's agent: holds VMs by name (their RAM and workload workers),
// takes incoming migrations on a TCP port (a Receiver per connection) and migrates its VMs
// out (the sender). Everything it does is reported as events through a callback; the
// testbed will forward them to a Redis stream (nothing here talks to Redis).

import { createServer, connect, type Server, type Socket } from 'node:net';
import type { WorkloadSpec } from '../../model/scenario/types.js';
import { emitTo, nowNs, type AgentEvent, type EventSink } from './events.js';
import { WorkloadThread } from './workload-thread.js';
import { Receiver, type ReceiveResult } from './receiver.js';
import { migrate, type MigrateParams } from './sender.js';
import type { SenderResult } from './migration-result.js';
import { DEFAULT_LIMITS, type Hello, type StreamLimits } from '../../wire/page-stream.js';
import { VmMemory, type VmGeometry } from './vm-memory.js';

export interface VmConfig {
  name: string;
  memoryBytes: number;
  pageSize: number;
  /** share of pages all-zero at boot, 0..1 */
  zeroPages: number;
  workload: WorkloadSpec;
  seed: number;
  /** the workload worker's tick, ms (default 1) */
  tickMs?: number;
}

export type MigrationParams = Pick<
  MigrateParams,
  'mode' | 'bandwidthBps' | 'linkBandwidthBps' | 'downtimeLimitNs' | 'maxRounds' | 'deviceStateBytes' | 'autoConverge' | 'throttleInitialPct' | 'throttleIncrementPct' | 'replyTimeoutMs' | 'batchBytes' | 'cancel' | 'testHooks'
>;

export interface HostedVm {
  name: string;
  memory: VmMemory;
  /** null: held but not running (an arrived VM with no workload configured) */
  guest: WorkloadThread | null;
  deviceState: Uint8Array | null;
  migrating: boolean;
}

export interface HostAgentOptions {
  onEvent?: EventSink;
  limits?: StreamLimits;
  /** the workload an arriving VM runs here (null: it is held, not run) */
  workloadFor?: (vm: string) => Omit<VmConfig, 'name' | 'memoryBytes' | 'pageSize' | 'zeroPages'> | null;
  /** holds an arriving VM's resume until it resolves (Receiver's resumeGate) */
  resumeGate?: (vm: string) => Promise<void> | null;
}

export class HostAgent {
  private readonly vms = new Map<string, HostedVm>();
  private readonly arriving = new Set<string>();
  /** RAM set aside for VMs expected to arrive, by name (reserve) */
  private readonly reserved = new Map<string, { memory: VmMemory; taken: boolean }>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private closed = false;
  /** one per incoming connection, in arrival order */
  readonly incoming: Promise<ReceiveResult>[] = [];
  /** incoming streams by how they ended; `rejected`: malformed or refused (a subset of `discarded`) */
  readonly counters = { incoming: 0, completed: 0, failed: 0, discarded: 0, rejected: 0 };

  constructor(readonly host: string, private readonly opts: HostAgentOptions = {}) {}

  private emit(kind: string, vm: string, fields: Record<string, unknown> = {}): void {
    emitTo(this.opts.onEvent, { t: nowNs(), kind, vm, host: this.host, ...fields });
  }

  private sink = (e: AgentEvent): void => emitTo(this.opts.onEvent, { ...e, host: this.host });

  /** Boot a VM here: allocate and fill its RAM, start its workload. */
  async startVm(config: VmConfig): Promise<HostedVm> {
    if (this.vms.has(config.name) || this.arriving.has(config.name)) throw new Error(`VM ${config.name} is already on ${this.host}`);
    const memory = VmMemory.create(config, { zeroPages: config.zeroPages, seed: config.seed, name: config.name });
    const guest = await WorkloadThread.start(memory, { workload: config.workload, seed: config.seed, name: config.name, ...(config.tickMs !== undefined ? { tickMs: config.tickMs } : {}) });
    const vm: HostedVm = { name: config.name, memory, guest, deviceState: null, migrating: false };
    this.vms.set(config.name, vm);
    this.emit('vm-started', config.name, { memoryBytes: config.memoryBytes, workload: config.workload.kind });
    return vm;
  }

  /**
   * Set RAM aside for a VM expected to arrive, faulted in ahead of its stream (as libvirt
   * starts the destination QEMU, -incoming and -mem-prealloc, before the migration): its
   * stream is then taken in at the socket's pace. Resolves when the RAM is faulted in (or
   * the VM's stream took it first; the rest then faults in as its pages land). A second
   * reservation of the name replaces the first.
   */
  async reserve(name: string, g: VmGeometry): Promise<{ bytes: number; ms: number; complete: boolean }> {
    if (this.closed) throw new Error(`${this.host} is closed`);
    if (this.vms.has(name)) throw new Error(`VM ${name} is already on ${this.host}`);
    const limit = (this.opts.limits ?? DEFAULT_LIMITS).maxMemoryBytes;
    if (g.memoryBytes > limit) throw new Error(`VM ${name}: ${g.memoryBytes} bytes of RAM is more than this host accepts (${limit})`);
    const t0 = nowNs();
    const entry = { memory: VmMemory.allocate(g), taken: false };
    this.reserved.set(name, entry);
    const complete = await entry.memory.prefault(() => entry.taken || this.reserved.get(name) !== entry);
    const ms = (nowNs() - t0) / 1e6;
    this.emit('vm-reserved', name, { bytes: g.memoryBytes, ms, complete });
    return { bytes: g.memoryBytes, ms, complete };
  }

  /** The reservation for an arriving VM, if its geometry matches. */
  private takeReserved(hello: Hello): VmMemory | null {
    const r = this.reserved.get(hello.vm);
    if (!r || r.memory.pageSize !== hello.pageSize || r.memory.pageCount !== hello.pageCount) return null;
    r.taken = true;
    this.reserved.delete(hello.vm);
    return r.memory;
  }

  getVm(name: string): HostedVm | undefined {
    return this.vms.get(name);
  }

  vmNames(): string[] {
    return [...this.vms.keys()];
  }

  /** Take incoming migrations on `port` (0: an ephemeral port); resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.server) throw new Error(`${this.host} is already listening`);
    // accepted paused: the Receiver reads pages straight into RAM (direct-reads.ts)
    const server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.emit('listen-error', '', { error: e.message }));
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    let name: string | null = null;
    const receiver = new Receiver(socket, {
      directReads: true,
      limits: this.opts.limits ?? DEFAULT_LIMITS,
      onEvent: this.sink,
      ...(this.opts.resumeGate ? { resumeGate: this.opts.resumeGate } : {}),
      memoryFor: (hello) => this.takeReserved(hello),
      accept: (hello) => {
        if (this.vms.has(hello.vm) || this.arriving.has(hello.vm)) return `VM ${hello.vm} is already on ${this.host}`;
        name = hello.vm;
        this.arriving.add(hello.vm);
        return null;
      },
    });
    this.track(receiver.socket);
    this.counters.incoming++;
    const done = receiver.result.then(async (r) => {
      if (name !== null) this.arriving.delete(name);
      this.counters[r.outcome]++;
      if (r.reason?.startsWith('rejected:')) this.counters.rejected++;
      if (r.outcome === 'completed' && r.memory && r.vm !== null) await this.adopt(r.vm, r.memory, r.deviceState);
      return r;
    });
    this.incoming.push(done);
  }

  /** A verified arrival becomes this host's VM; it runs if a workload is configured for it. */
  private async adopt(name: string, memory: VmMemory, deviceState: Uint8Array | null): Promise<void> {
    const vm: HostedVm = { name, memory, guest: null, deviceState, migrating: false };
    this.vms.set(name, vm);
    const run = this.closed ? null : this.opts.workloadFor?.(name) ?? null;
    if (run) {
      try {
        vm.guest = await WorkloadThread.start(memory, { workload: run.workload, seed: run.seed, name, ...(run.tickMs !== undefined ? { tickMs: run.tickMs } : {}) });
      } catch (e) {
        this.emit('vm-start-failed', name, { error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.emit('vm-arrived', name, { running: vm.guest !== null });
  }

  /**
   * Migrate `vmName` to the agent at `to`. Resolves with the sender's result (never rejects
   * for a failed migration: the outcome says it). Completed: the VM leaves this host.
   * Reverted or failed: it goes on running here.
   */
  async migrateVm(vmName: string, to: { host: string; port: number } | string, params: MigrationParams): Promise<SenderResult> {
    const vm = this.vms.get(vmName);
    if (!vm) throw new Error(`no VM ${vmName} on ${this.host}`);
    if (!vm.guest) throw new Error(`VM ${vmName} on ${this.host} is not running`);
    if (vm.migrating) throw new Error(`VM ${vmName} is already migrating`);
    const addr = typeof to === 'string' ? parseAddr(to) : to;
    vm.migrating = true;
    const socket = connect({ host: addr.host, port: addr.port });
    this.track(socket);
    const connectMs = params.replyTimeoutMs ?? 10_000;
    const connectTimer = setTimeout(() => socket.destroy(new Error(`no connection to ${addr.host}:${addr.port} within ${connectMs} ms`)), connectMs);
    socket.once('connect', () => clearTimeout(connectTimer));
    try {
      const result = await migrate({ ...params, vm: vmName, memory: vm.memory, worker: vm.guest, socket, onEvent: this.sink });
      if (result.outcome === 'completed') {
        this.vms.delete(vmName);
        await vm.guest.stop();
        this.emit('vm-released', vmName, { to: `${addr.host}:${addr.port}` });
      }
      return result;
    } finally {
      clearTimeout(connectTimer);
      vm.migrating = false;
      socket.destroy();
    }
  }

  /** Stop listening, cut every connection, stop every guest. */
  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled(this.incoming);
    await Promise.all([...this.vms.values()].map((v) => v.guest?.stop()));
    this.vms.clear();
    this.reserved.clear();
  }
}

function parseAddr(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not host:port: ${text}`);
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port };
}
