// One testbed run's state, and the orchestrator's moves every phase of the run uses: starting
// a process in a container, control messages and waiting for their answers, VDP, reserving a
// VM's RAM. The phases are run-setup.ts, run-timeline.ts, run-migration.ts and run-end.ts;
// the run's sequence: docs/testbed-wiring.md "A run, step by step". How a run ends early (a
// signal, the control bus lost, a component that died): run-watch.ts and "When things fail".

import { isAbsolute, relative, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type Docker from 'dockerode';
import { UnsupportedError } from '../model/scenario/support.js';
import type { FaultReport, MigrationResult } from '../model/result/format.js';
import type { MigrationSpec, Scenario, VmSpec } from '../model/scenario/types.js';
import type { RedisEventSink } from '../hosts/control/event-stream.js';
import { controlMessage, type ControlBody, type ControlType, type VmJsonInput } from '../hosts/control/messages.js';
import type { RedisBus } from '../hosts/control/redis-bus.js';
import { sleep } from '../hosts/runtime/process-kit.js';
import type { Log } from './image.js';
import { vmMessage, type ProcessCommand } from './commands.js';
import { ContainerProcess, CONTAINER_REPO } from './container-process.js';
import type { EventFollower } from './event-follower.js';
import { ipIn } from './link.js';
import { TestbedNetwork } from './network.js';
import { VM_IF } from './topo.js';
import type { Role } from './compose.js';
import type { BusWatch } from './bus-watch.js';
import type { Death } from './faults.js';
import { RunWatch, type RunAbort } from './run-watch.js';

export interface TestbedRunOptions {
  docker?: Docker;
  log?: Log;
  seed?: number;
  /** the run's event stream is saved here (NDJSON, hosts/control/event-stream.ts saveStream) */
  eventsFile?: string;
  /** leave the scenario's containers up after the run (to look around); default: removed */
  keepTopology?: boolean;
  /** the repo on this machine (mounted at /migsim in the containers); default: this file's */
  repoDir?: string;
  /** an abort (its reason 'SIGINT' or 'SIGTERM') ends the run at once: the topology removed, TestbedInterrupted thrown */
  signal?: AbortSignal;
}

export const SETUP_TIMEOUT_MS = 60_000;
const stderrLog: Log = (line) => process.stderr.write(`migsim: testbed: ${line}\n`);

/** A trace file's path in the containers: it must lie inside the repo (mounted at /migsim). */
export function traceInContainer(s: Scenario, vm: VmSpec, i: number, repoDir: string): string {
  if (vm.workload.kind !== 'trace') throw new Error('not a trace workload');
  const abs = resolve(vm.workload.file);
  const rel = relative(repoDir, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new UnsupportedError(s.file, `vms[${i}].workload.file`, `${vm.workload.file} is outside ${repoDir}, the directory the testbed's containers see`);
  }
  return `${CONTAINER_REPO}/${rel}`;
}

export interface MigrationState {
  spec: MigrationSpec;
  result: MigrationResult | { error: string } | null;
  /** waiting for its turn; preparing (pre-association, hold); migrating (its source runs it); settled */
  phase: 'waiting' | 'preparing' | 'migrating' | 'settled';
  /** why the orchestrator aborted it (a cancel, its timeout, a crashed destination), once it did */
  abortReason: string | null;
  /** the source host crashed under it (a scheduled host-crash): the VM is lost, no result will come */
  lost: { reason: string; atNs: bigint } | null;
  /** the destination resumed the VM (the orchestrator saw it): it runs there now */
  resumed: boolean;
  /** resolves when `lost` is set: ends the wait for a result that cannot come */
  onLost: Promise<void>;
  markLost: (reason: string, atNs: bigint) => void;
  /** where the VM was when this migration started (an earlier one may have reverted): its source */
  from: string;
}

export function migrationState(spec: MigrationSpec): MigrationState {
  let resolve!: () => void;
  const onLost = new Promise<void>((r) => (resolve = r));
  const m: MigrationState = {
    spec, result: null, phase: 'waiting', abortReason: null, lost: null, resumed: false, onLost, from: spec.from,
    markLost: (reason, atNs) => {
      if (m.lost) return;
      m.lost = { reason, atNs };
      resolve();
    },
  };
  return m;
}

/** Migrations by their start time, then their order in the scenario. */
export const inRunOrder = (a: MigrationState, b: MigrationState): number => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index;

export class RunContext {
  readonly log: Log;
  readonly net: TestbedNetwork;
  readonly procs: ContainerProcess[] = [];
  readonly guests = new Map<string, ContainerProcess>();
  redis: Redis | null = null;
  bus: RedisBus | null = null;
  follower: EventFollower | null = null;
  sink: RedisEventSink | null = null;
  run = '';
  mgmt = new Map<string, string>();
  originNs = 0n;
  leases = new Map<string, string>();
  readonly migrations: MigrationState[];
  busWatch: BusWatch | null = null;
  /** the scenario's faults as injected (scheduled: true), in the order they were */
  readonly scheduledFaults: FaultReport[] = [];
  /** the switch process's command line (a switch-restart starts it again) */
  switchCommand: ProcessCommand | null = null;
  /** while a switch-restart has the switch down: resolves when the new one is ready */
  switchBack: Promise<void> | null = null;
  /** scenario faults that could not be injected (run-faults.ts): the run did not happen as described */
  readonly faultFailures: string[] = [];
  /** hosts a scheduled host-crash took down: why */
  readonly crashed = new Map<string, string>();
  /** the scheduled host crashes, as injected: when, and the VMs each took with it */
  readonly crashes: { host: string; atNs: bigint; lost: string[] }[] = [];
  /** VMs a scheduled host-crash took with it: why */
  readonly lostVms = new Map<string, string>();
  /** deaths, the bus, signals: what ends or spoils the run (run-watch.ts) */
  readonly watch: RunWatch;

  constructor(readonly s: Scenario, readonly o: TestbedRunOptions & { repoDir: string }) {
    const log = o.log ?? stderrLog;
    // once the run is being given up, the errors of what was cut short are noise
    this.log = (line) => {
      if (this.watch.abort === null) log(line);
    };
    this.net = new TestbedNetwork({ ...(o.docker ? { docker: o.docker } : {}), log: this.log });
    this.migrations = s.migrations.map(migrationState);
    this.watch = new RunWatch(this, o.signal);
  }

  get aborted(): RunAbort | null {
    return this.watch.abort;
  }

  /** `p`, or an error at once if the run is given up meanwhile (p goes on; tearDown waits for it a while). */
  guard<T>(p: Promise<T>): Promise<T> {
    return this.watch.guard(p);
  }

  /** Resolves when `component` (`switch`, `agent:h1` …) has died during the run. */
  died(component: string): Promise<Death> {
    return this.watch.died(component);
  }

  isDead(component: string): boolean {
    return this.watch.deaths.some((d) => d.component === component);
  }

  get seed(): number {
    return this.o.seed ?? this.s.seed;
  }

  vmJson(vm: VmSpec): VmJsonInput {
    const j = vmMessage(vm);
    if (vm.workload.kind === 'trace') j.workload = { kind: 'trace', file: traceInContainer(this.s, vm, this.s.vms.indexOf(vm), this.o.repoDir), loop: vm.workload.loop };
    return j;
  }

  /** Where `vm` runs now: its first host, moved by each of its migrations that completed. */
  hostOf(vm: string): string {
    let host = this.s.vms.find((v) => v.name === vm)!.host;
    for (const m of this.vmMigrations(vm)) {
      if (m.phase === 'settled' && m.result && 'outcome' in m.result && m.result.outcome === 'completed') host = m.spec.to;
    }
    return host;
  }

  /** A VM's migrations in the order they run. */
  vmMigrations(vm: string): MigrationState[] {
    return this.migrations.filter((m) => m.spec.vm === vm).sort(inRunOrder);
  }

  /**
   * The destination of `m` sets the VM's RAM aside and faults it in ahead of the stream, as
   * libvirt starts the destination QEMU (-mem-prealloc) before it migrates; without it the
   * destination's page faults, not the network, would pace the transfer. Before time 0 for
   * a VM's first move (waited for); after each move for its next (not waited for).
   */
  async reserve(m: MigrationState, wait: boolean): Promise<void> {
    const vm = this.s.vms.find((v) => v.name === m.spec.vm)!;
    const host = `host:${m.spec.to}`;
    const from = this.follower!.mark();
    await this.control(host, 'reserve', { vm: this.vmJson(vm) });
    if (wait) await this.expect(host, (e) => e.kind === 'vm-reserved' && e.data.vm === vm.name, SETUP_TIMEOUT_MS, `${vm.name}'s RAM reserved on ${m.spec.to}`, from);
  }

  async start(role: Role, name: string | null, label: string, cmd: ProcessCommand): Promise<ContainerProcess> {
    const p = await ContainerProcess.start(this.net.node(role, name), label, cmd.script, cmd.args);
    this.procs.push(p);
    this.watch.track(p);
    return p;
  }

  async addAddress(role: Role, name: string | null, cidr: string): Promise<void> {
    const pid = await this.net.node(role, name).pid();
    await ipIn(pid, ['addr', 'replace', cidr, 'dev', VM_IF]);
    await ipIn(pid, ['link', 'set', VM_IF, 'up']);
  }

  emit(kind: string, fields: Record<string, unknown> = {}): void {
    this.sink?.emit({ t: process.hrtime.bigint(), ...fields, kind });
  }

  async control<T extends ControlType>(to: string, type: T, body: ControlBody<T>): Promise<void> {
    const n = await this.bus!.publishControl(controlMessage(type, body, to));
    if (n === 0) throw new Error(`control ${type} to ${to}: nobody is listening`);
  }

  /** Waits for an event from `source`; a `control-error` from it meanwhile fails at once. */
  async expect(source: string, pred: (e: { kind: string; data: Record<string, unknown> }) => boolean, timeoutMs: number, what: string, from: number) {
    const f = this.follower!;
    const settled = new AbortController();
    try {
      return await Promise.race([
        f.waitFor((e) => e.source === source && pred(e), timeoutMs, what, from, settled.signal),
        f.waitFor((e) => e.source === source && e.kind === 'control-error', timeoutMs + 1000, 'control-error', from, settled.signal).then((e) => {
          throw new Error(`${source}: ${String(e.data.type)}: ${String(e.data.error)}`);
        }),
      ]);
    } finally {
      settled.abort(); // the other wait is given up, not left to time out
    }
  }

  async vdp(host: string, op: 'preassoc' | 'assoc' | 'deassoc', vm: string | VmJsonInput, migrated: boolean, wait = true): Promise<void> {
    // a switch being restarted answers nobody: the request goes once it is back (lldpad re-sends an unanswered one)
    if (this.switchBack) await Promise.race([this.switchBack, sleep(30_000)]);
    const from = this.follower!.mark();
    const name = typeof vm === 'string' ? vm : String(vm.name);
    await this.control(`host:${host}`, 'vdp', { op, vm, migrated, ...(typeof vm === 'string' ? {} : { seed: this.seed }) });
    // a dead switch answers nobody: the station has sent it, the move goes on without the network
    if (!wait || this.isDead('switch')) return;
    const r = await Promise.race([
      this.expect(`host:${host}`, (e) => e.kind === 'vdp-response' && e.data.vm === name && e.data.mode === op, 10_000, `the switch's answer to ${host}'s ${op} of ${name}`, from),
      this.died('switch'),
      this.died(`agent:${host}`).then((d): never => {
        throw new Error(`the host agent of ${host} died (exit ${d.code}) before the switch answered its ${op} of ${name}`);
      }),
    ]);
    if (!('data' in r)) return;
    if (r.data.error !== 0) throw new Error(`the switch refused ${host}'s ${op} of ${name}: VDP error ${String(r.data.error)}`);
  }

  async until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (this.aborted) throw new Error(`stopped waiting for ${what}: ${this.aborted.kind}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
