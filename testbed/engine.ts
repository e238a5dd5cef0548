// The testbed engine: runs a scenario on containers (`migsim run FILE --engine testbed`).
//
//   1. topology   a fresh one for the scenario (network.ts upFresh): switch, hosts, VMs,
//                 dhcp, multicast sources, probe, wired bridge-free; redis on mgmt.
//   2. Redis      a run id of its own; the VSI type DB and the switch config; an
//                 EventFollower on the stream; the orchestrator's own events (source
//                 `orchestrator`) go into the same stream.
//   3. processes  (commands.ts) the switch → dhcpd → host agents; each VM created on its host
//                 (RAM filled, workload running) and associated (VDP, no hints: a new VM);
//                 then time 0 of the run: the switch's IGMP querier (its first general query
//                 one interval later, as in the sim), the VMs' guests (udhcpc, kernel IGMP,
//                 echo), the multicast sources and the probe start.
//   4. migrations at their `at`, one VM's migrations in order (below).
//   5. the end    at `duration` (else once every migration settled): traffic stopped, every
//                 component told to stop and waited for (each flushes its events), the
//                 stream and the logs read, the result computed (testbed-result.ts) and the
//                 stream saved beside it; the scenario's containers removed (also on failure).
//
// A migration (libvirt's order, the sim's lan.ts hooks):
//   (ahead of it: the destination sets the VM's RAM aside, `reserve`, faulted in before its
//   stream comes — before time 0 for a VM's first move, after each move for its next) →
//   destination `vdp preassoc` (the full VM: its workload runs there after the move) and
//   `hold` (it may not resume there before its network identity is there; it associates
//   itself at the resume, M-bit with `vdp: extended`) → source `migrate` (it de-associates,
//   S-bit, when the destination reports the resume) → at the source's `switchover` the VM
//   container is frozen (the guest's network stops with its vCPUs), its vNIC peer moved into
//   the destination host, and the destination told `release` → the destination resumes the
//   VM once the whole state is there (the downtime ends) → `incoming-resumed`: the VM
//   container thawed, SIGUSR2 to the guest if `announceOnResume` → the source's
//   `migration-result`. The VDP messages go out from the agents at the instant of the resume,
//   not a control round trip later; the network identity thaws one event hop after it (the
//   testbed's own lag, visible in serviceInterruptionMs, not in downtimeMs). A migration
//   that fails after the move puts the vNIC back and thaws the VM on the source. An `assist`
//   from a host agent (the switch's assistance request) → SIGUSR1 to that VM's guest.
//
// Wall-clock times: every component stamps CLOCK_MONOTONIC, shared by all containers on one
// kernel; result times are ms since time 0.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type Docker from 'dockerode';
import { checkSupported, hasNetwork, UnsupportedError } from '../model/scenario/support.js';
import type { MigrationResult, RunResult } from '../model/result/format.js';
import type { MigrationSpec, Scenario, VmSpec } from '../model/scenario/types.js';
import { addressing } from '../model/scenario/addressing.js';
import { readEvents, RedisEventSink, saveStream } from '../hosts/control/event-stream.js';
import { quitRedis, RedisBus } from '../hosts/control/redis-bus.js';
import { sleep } from '../hosts/runtime/process-kit.js';
import type { Log } from './image.js';
import {
  dhcpCommand, guestCommand, hostAgentCommand, LOGS, migrateMessage, MIGRATION_PORT, msourceCommand, prefixLength, probeCommand, switchCommand,
  switchRunConfig, vmMessage, vsiTypes, type ProcessCommand,
} from './commands.js';
import { ContainerProcess, readContainerFile, writeContainerFile, CONTAINER_REPO } from './container-process.js';
import { EventFollower } from './event-follower.js';
import { ipIn } from './link.js';
import { TestbedNetwork, VM_IF } from './network.js';
import type { Role } from './compose.js';
import { parseLog, testbedResult, type LogLine } from './result.js';

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
}

const REDIS_PORT = 6379;
const SETUP_TIMEOUT_MS = 60_000;
const stderrLog: Log = (line) => process.stderr.write(`migsim: testbed: ${line}\n`);

/** What the testbed cannot run, refused by field (exit 2), on top of the sim's rules. */
export function checkTestbedSupported(s: Scenario, repoDir: string): void {
  checkSupported(s);
  s.migrations.forEach((m, i) => {
    if (m.mode === 'postcopy') throw new UnsupportedError(s.file, `migrations[${i}].mode`, 'postcopy is not run by the testbed host agent (precopy and stopcopy are); use --engine sim');
  });
  s.vms.forEach((v, i) => {
    if (v.workload.kind === 'trace') traceInContainer(s, v, i, repoDir);
  });
}

/** A trace file's path in the containers: it must lie inside the repo (mounted at /migsim). */
function traceInContainer(s: Scenario, vm: VmSpec, i: number, repoDir: string): string {
  if (vm.workload.kind !== 'trace') throw new Error('not a trace workload');
  const abs = resolve(vm.workload.file);
  const rel = relative(repoDir, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new UnsupportedError(s.file, `vms[${i}].workload.file`, `${vm.workload.file} is outside ${repoDir}, the directory the testbed's containers see`);
  }
  return `${CONTAINER_REPO}/${rel}`;
}

/** One scenario run on the testbed. */
export async function runTestbed(s: Scenario, o: TestbedRunOptions = {}): Promise<RunResult> {
  const repoDir = o.repoDir ?? resolve(new URL('../..', import.meta.url).pathname);
  checkTestbedSupported(s, repoDir);
  const run = new TestbedRun(s, { ...o, repoDir });
  return run.execute();
}

interface MigrationState {
  spec: MigrationSpec;
  result: MigrationResult | { error: string } | null;
}

/** Migrations by their start time, then their order in the scenario. */
const inRunOrder = (a: MigrationState, b: MigrationState): number => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index;

class TestbedRun {
  private readonly log: Log;
  private readonly net: TestbedNetwork;
  private readonly procs: ContainerProcess[] = [];
  private readonly guests = new Map<string, ContainerProcess>();
  private redis: Redis | null = null;
  private bus: RedisBus | null = null;
  private follower: EventFollower | null = null;
  private sink: RedisEventSink | null = null;
  private run = '';
  private mgmt = new Map<string, string>();
  private originNs = 0n;
  private leases = new Map<string, string>();
  private readonly migrations: MigrationState[];

  constructor(private readonly s: Scenario, private readonly o: TestbedRunOptions & { repoDir: string }) {
    this.log = o.log ?? stderrLog;
    this.net = new TestbedNetwork({ ...(o.docker ? { docker: o.docker } : {}), log: this.log });
    this.migrations = s.migrations.map((spec) => ({ spec, result: null }));
  }

  async execute(): Promise<RunResult> {
    const wallStart = Date.now();
    try {
      await this.setUp();
      const endNs = await this.runTimeline();
      await this.stopAll();
      return await this.collect(endNs, wallStart);
    } catch (e) {
      const diag = this.procs.filter((p) => !p.running || p.output().length > 0).map((p) => p.output()).join('\n');
      const err = e instanceof Error ? e : new Error(String(e));
      if (!(err instanceof UnsupportedError)) err.message = `${err.message}\n${diag}`;
      throw err;
    } finally {
      await this.tearDown();
    }
  }

  // ---- 1–3: topology, Redis, processes -----------------------------------------------------

  private async setUp(): Promise<void> {
    const s = this.s;
    const t0 = Date.now();
    const up = await this.net.upFresh(s);
    for (const c of up.changes) this.log(c);
    this.run = `${up.runId}-${randomBytes(3).toString('hex')}`;
    const redisIp = await this.net.mgmtIp('redis');
    const redisAddr = `${redisIp}:${REDIS_PORT}`;
    this.redis = new Redis({ host: redisIp, port: REDIS_PORT, maxRetriesPerRequest: 3, lazyConnect: false });
    this.redis.on('error', () => undefined);
    this.bus = new RedisBus(this.redis, this.run);
    await this.bus.defineVsiTypes(vsiTypes(s));
    await this.bus.writeSwitchConfig(switchRunConfig(s));
    this.follower = new EventFollower(this.redis.duplicate(), this.run);
    this.sink = new RedisEventSink(this.redis, this.run, 'orchestrator');
    this.emit('run-start', { scenario: s.name, file: s.file });
    const plan = this.net.topology!;

    // the switch
    await this.start('switch', null, 'switch', switchCommand(plan, this.run, redisAddr));
    await this.follower.waitFor((e) => e.source === 'switch' && e.kind === 'switch-ready', SETUP_TIMEOUT_MS, 'switch-ready');

    // the data plane's fixed addresses (the DHCP server gives itself .1)
    if (s.dhcp) {
      const a = addressing(s.dhcp.subnet, s.multicastSources.length);
      const len = prefixLength(s);
      for (let i = 0; i < s.multicastSources.length; i++) await this.addAddress('msource', String(i), `${a.sourceIp(i)}/${len}`);
      if (s.probe) await this.addAddress('probe', null, `${a.probeIp}/${len}`);
      await this.start('dhcp', null, 'dhcpd', dhcpCommand(s));
      const dhcp = this.net.node('dhcp');
      await this.until(async () => (await readContainerFile(dhcp, LOGS.dhcpd))?.includes('Server starting service') ?? false, SETUP_TIMEOUT_MS, 'dhcpd serving');
    }

    // the host agents
    for (const h of s.hosts) {
      const ip = await this.net.mgmtIp('host', h.name);
      this.mgmt.set(h.name, ip);
      await this.start('host', h.name, `agent ${h.name}`, hostAgentCommand(h.name, this.run, redisAddr, ip));
    }
    for (const h of s.hosts) {
      await this.follower.waitFor((e) => e.source === `host:${h.name}` && e.kind === 'host-ready', SETUP_TIMEOUT_MS, `host ${h.name} ready`);
    }

    // the VMs: RAM and workload on their hosts, then associated as new VMs
    for (const vm of s.vms) {
      const from = this.follower.mark();
      await this.control(`host:${vm.host}`, 'vm-create', { vm: this.vmJson(vm), seed: this.seed });
      await this.expect(`host:${vm.host}`, (e) => e.kind === 'vm-started' && e.data.vm === vm.name, SETUP_TIMEOUT_MS, `${vm.name} started on ${vm.host}`, from);
      await this.vdp(vm.host, 'assoc', vm.name, false);
    }
    // each VM's first destination sets its RAM aside before time 0
    for (const vm of s.vms) {
      const first = this.vmMigrations(vm.name)[0];
      if (first) await this.reserve(first, true);
    }
    this.log(`set up in ${((Date.now() - t0) / 1000).toFixed(1)} s (run ${this.run})`);
  }

  private get seed(): number {
    return this.o.seed ?? this.s.seed;
  }

  private vmJson(vm: VmSpec): Record<string, unknown> {
    const j = vmMessage(vm);
    if (vm.workload.kind === 'trace') j.workload = { kind: 'trace', file: traceInContainer(this.s, vm, this.s.vms.indexOf(vm), this.o.repoDir), loop: vm.workload.loop };
    return j;
  }

  /** A VM's migrations in the order they run. */
  private vmMigrations(vm: string): MigrationState[] {
    return this.migrations.filter((m) => m.spec.vm === vm).sort(inRunOrder);
  }

  /**
   * The destination of `m` sets the VM's RAM aside and faults it in ahead of the stream, as
   * libvirt starts the destination QEMU (-mem-prealloc) before it migrates; without it the
   * destination's page faults, not the network, would pace the transfer. Before time 0 for
   * a VM's first move (waited for); after each move for its next (not waited for).
   */
  private async reserve(m: MigrationState, wait: boolean): Promise<void> {
    const vm = this.s.vms.find((v) => v.name === m.spec.vm)!;
    const host = `host:${m.spec.to}`;
    const from = this.follower!.mark();
    await this.control(host, 'reserve', { vm: this.vmJson(vm) });
    if (wait) await this.expect(host, (e) => e.kind === 'vm-reserved' && e.data.vm === vm.name, SETUP_TIMEOUT_MS, `${vm.name}'s RAM reserved on ${m.spec.to}`, from);
  }

  private async start(role: Role, name: string | null, label: string, cmd: ProcessCommand): Promise<ContainerProcess> {
    const p = await ContainerProcess.start(this.net.node(role, name), label, cmd.script, cmd.args);
    this.procs.push(p);
    return p;
  }

  private async addAddress(role: Role, name: string | null, cidr: string): Promise<void> {
    const pid = await this.net.node(role, name).pid();
    await ipIn(pid, ['addr', 'replace', cidr, 'dev', VM_IF]);
    await ipIn(pid, ['link', 'set', VM_IF, 'up']);
  }

  private emit(kind: string, fields: Record<string, unknown> = {}): void {
    this.sink?.emit({ t: process.hrtime.bigint(), ...fields, kind });
  }

  private async control(to: string, type: string, body: Record<string, unknown> = {}): Promise<void> {
    const n = await this.bus!.publishControl({ ...body, type, to });
    if (n === 0) throw new Error(`control ${type} to ${to}: nobody is listening`);
  }

  /** Waits for an event from `source`; a `control-error` from it meanwhile fails at once. */
  private async expect(source: string, pred: (e: { kind: string; data: Record<string, unknown> }) => boolean, timeoutMs: number, what: string, from: number) {
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

  private async vdp(host: string, op: 'preassoc' | 'assoc' | 'deassoc', vm: string | Record<string, unknown>, migrated: boolean, wait = true): Promise<void> {
    const from = this.follower!.mark();
    const name = typeof vm === 'string' ? vm : String(vm.name);
    await this.control(`host:${host}`, 'vdp', { op, vm, migrated, ...(typeof vm === 'string' ? {} : { seed: this.seed }) });
    if (!wait) return;
    const r = await this.expect(`host:${host}`, (e) => e.kind === 'vdp-response' && e.data.vm === name && e.data.mode === op, 10_000, `the switch's answer to ${host}'s ${op} of ${name}`, from);
    if (r.data.error !== 0) throw new Error(`the switch refused ${host}'s ${op} of ${name}: VDP error ${String(r.data.error)}`);
  }

  private async until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  // ---- 4: the run ----------------------------------------------------------------------------

  /** Time 0: guests and traffic start; migrations at their times; returns the end (CLOCK_MONOTONIC ns). */
  private async runTimeline(): Promise<bigint> {
    const s = this.s;
    this.originNs = process.hrtime.bigint();
    this.emit('origin', {});
    // the switch's general queries keep the sim's phase: the first at time 0 + the interval
    await this.control('switch', 'querier-start', { originNs: String(this.originNs) });
    for (const vm of s.vms) this.guests.set(vm.name, await this.start('vm', vm.name, `guest ${vm.name}`, guestCommand(s, vm)));
    if (s.probe) {
      await writeContainerFile(this.net.node('probe'), LOGS.probeTargets, '');
      await this.start('probe', null, 'probe', probeCommand(s));
    }
    for (let i = 0; i < s.multicastSources.length; i++) await this.start('msource', String(i), `msource ${i}`, msourceCommand(s, i));

    // assistance requests → the guest renews (SIGUSR1 to its agent, which passes it to udhcpc)
    const offAssist = this.follower!.onEvent((e) => {
      if (e.kind !== 'assist' || !e.source.startsWith('host:') || typeof e.data.vm !== 'string') return;
      const g = this.guests.get(e.data.vm);
      if (!g) return;
      void g.signal('SIGUSR1').then(
        () => this.emit('assist-signalled', { vm: e.data.vm }),
        (err: unknown) => this.emit('assist-failed', { vm: e.data.vm, error: String(err) }),
      );
    });
    // leases → the probe's targets
    let watching = true;
    const leaseWatch = (async () => {
      while (watching) {
        await this.refreshLeases().catch((e: unknown) => this.log(`reading leases: ${String(e)}`));
        await sleep(200);
      }
    })();

    // migrations: each at its time, one VM's in order
    const chains = new Map<string, Promise<void>>();
    const started = [...this.migrations].sort(inRunOrder).map((m) => {
      const prev = chains.get(m.spec.vm) ?? Promise.resolve();
      const p = prev.then(async () => {
        const due = this.originNs + BigInt(Math.round(m.spec.atNs));
        const wait = Number(due - process.hrtime.bigint()) / 1e6;
        if (wait > 0) await sleep(wait);
        await this.migrate(m);
      });
      chains.set(m.spec.vm, p);
      return p;
    });
    const all = Promise.all(started);
    try {
      if (s.durationNs !== null) {
        const end = this.originNs + BigInt(Math.round(s.durationNs));
        await Promise.race([sleep(Number(end - process.hrtime.bigint()) / 1e6), all.then(() => new Promise<void>(() => undefined))]);
        // migrations still running at the end are reported as they stand when their agents stop
      } else {
        await all;
        await sleep(1000); // the last move's traffic settles
      }
      return process.hrtime.bigint();
    } finally {
      watching = false;
      offAssist();
      await leaseWatch;
    }
  }

  private async refreshLeases(): Promise<void> {
    let changed = false;
    for (const vm of this.s.vms) {
      const text = await readContainerFile(this.net.node('vm', vm.name), LOGS.vm);
      const leased = parseLog(text).lines.filter((l) => l.kind === 'leased' && typeof l.ip === 'string').at(-1);
      if (leased && this.leases.get(vm.name) !== leased.ip) {
        this.leases.set(vm.name, leased.ip as string);
        this.emit('vm-leased', { vm: vm.name, ip: leased.ip });
        changed = true;
      }
    }
    if (changed && this.s.probe) {
      const lines = [...this.leases].map(([n, ip]) => `${n}=${ip}`).join('\n');
      await writeContainerFile(this.net.node('probe'), LOGS.probeTargets, `${lines}\n`);
    }
  }

  /** One migration, the choreography in the header. Never throws: the outcome says it. */
  private async migrate(m: MigrationState): Promise<void> {
    const s = this.s;
    const { spec } = m;
    const vm = s.vms.find((v) => v.name === spec.vm)!;
    const f = this.follower!;
    const src = `host:${spec.from}`;
    const dst = `host:${spec.to}`;
    const vmNode = this.net.node('vm', spec.vm);
    let frozen = false;
    let moved = false;
    this.emit('migration-start', { vm: spec.vm, from: spec.from, to: spec.to, index: spec.index });
    try {
      await this.vdp(spec.to, 'preassoc', this.vmJson(vm), false);
      // the destination resumes the VM only once released, and associates it (M-bit with
      // hints) at that instant; the source de-associates (S-bit) when it hears of the resume
      await this.control(dst, 'hold', { vm: spec.vm, timeoutMs: 3_600_000, associate: { migrated: true } });
      const from = f.mark();
      await this.control(src, 'migrate', { ...migrateMessage(s, spec, `${this.mgmt.get(spec.to)}:${MIGRATION_PORT}`, this.originNs), deassocOnResume: true });
      const isResult = (e: { source: string; kind: string; data: Record<string, unknown> }) => e.source === src && e.kind === 'migration-result' && e.data.vm === spec.vm;
      const result = f.waitFor(isResult, 3_600_000, `${spec.vm}'s migration result`, from);
      result.catch(() => undefined);

      // the switchover: freeze the guest's network identity, move its vNIC, let it resume there
      const sw = await Promise.race([
        f.waitFor((e) => e.source === src && e.kind === 'switchover' && e.data.vm === spec.vm, 3_600_000, `${spec.vm}'s switchover`, from),
        result,
      ]);
      if (sw.kind === 'switchover') {
        await vmNode.freeze();
        frozen = true;
        this.emit('vm-frozen', { vm: spec.vm });
        await this.net.moveVnic(spec.vm, spec.to);
        moved = true;
        this.emit('vnic-moved', { vm: spec.vm, from: spec.from, to: spec.to });
        await this.control(dst, 'release', { vm: spec.vm });
        const resumed = await Promise.race([
          f.waitFor((e) => e.source === dst && e.kind === 'incoming-resumed' && e.data.vm === spec.vm, 600_000, `${spec.vm} resumed on ${spec.to}`, from),
          result,
        ]);
        if (resumed.kind === 'incoming-resumed') {
          // the guest's vCPUs run on the destination: its network identity goes on too
          await vmNode.thaw();
          frozen = false;
          this.emit('vm-thawed', { vm: spec.vm, host: spec.to });
          if (vm.announceOnResume !== 'none') await this.guests.get(spec.vm)?.signal('SIGUSR2');
        }
      }
      const r = await result;
      const mr = r.data.result as MigrationResult;
      m.result = mr;
      if (mr.outcome === 'completed') {
        // the destination runs the VM only after its verdict: a next move must wait for that
        await f.waitFor((e) => e.source === dst && e.kind === 'vm-arrived' && e.data.vm === spec.vm, 60_000, `${spec.vm} running on ${spec.to}`, from);
      }
      if (mr.outcome !== 'completed' && moved) {
        // the VM goes on at the source: its vNIC comes back, the destination drops its reservation
        await this.net.moveVnic(spec.vm, spec.from);
        moved = false;
        await this.vdp(spec.to, 'deassoc', spec.vm, false, false);
      }
    } catch (e) {
      m.result = { error: `orchestrator: ${e instanceof Error ? e.message : String(e)}` };
      this.log(`${spec.vm} ${spec.from}→${spec.to}: ${(m.result as { error: string }).error}`);
    } finally {
      if (frozen) await vmNode.thaw().catch(() => undefined);
      this.emit('migration-settled', { vm: spec.vm, index: spec.index });
    }
    // the VM's next destination (if not where it runs now) prepares while it waits its turn
    const chain = this.vmMigrations(spec.vm);
    const next = chain[chain.indexOf(m) + 1];
    const at = m.result !== null && 'outcome' in m.result && m.result.outcome === 'completed' ? spec.to : spec.from;
    if (next && next.spec.to !== at) await this.reserve(next, false).catch((e: unknown) => this.log(`reserving for ${spec.vm}'s next move: ${String(e)}`));
  }

  // ---- 5: the end ------------------------------------------------------------------------------

  private async stopAll(): Promise<void> {
    // traffic and guests first (they are not on Redis), then everyone on the bus
    const local = this.procs.filter((p) => ['probe', 'msource', 'vm', 'dhcp'].includes(p.node.role));
    await Promise.all(local.map((p) => p.stop(10_000)));
    await this.bus!.publishControl({ type: 'stop' });
    const onBus = this.procs.filter((p) => !local.includes(p));
    const exits = await Promise.all(onBus.map(async (p) => ({ p, exit: await p.stop(30_000) })));
    const lost = exits.filter((x) => x.exit.code !== 0);
    if (lost.length > 0) this.log(`stopped with a non-zero status: ${lost.map((x) => `${x.p.label} ${x.exit.code}`).join(', ')}`);
  }

  private async collect(endNs: bigint, wallStart: number): Promise<RunResult> {
    const s = this.s;
    this.emit('run-end', {});
    await this.sink!.close();
    const events = await readEvents(this.redis!, this.run);
    const vmLogs = new Map<string, LogLine[]>();
    for (const vm of s.vms) vmLogs.set(vm.name, parseLog(await readContainerFile(this.net.node('vm', vm.name), LOGS.vm)).lines);
    const probeLog = s.probe ? parseLog(await readContainerFile(this.net.node('probe'), LOGS.probe)).lines : null;
    const sourceLogs: LogLine[][] = [];
    for (let i = 0; i < s.multicastSources.length; i++) sourceLogs.push(parseLog(await readContainerFile(this.net.node('msource', String(i)), LOGS.msource)).lines);
    if (this.o.eventsFile) {
      await mkdir(resolve(this.o.eventsFile, '..'), { recursive: true });
      await saveStream(this.redis!, this.run, this.o.eventsFile);
    }
    return testbedResult(s, {
      originNs: this.originNs, endNs, events, vmLogs, probeLog, sourceLogs, seed: this.seed, wallStart,
      migrations: this.migrations.map((m) => m.result ?? { error: 'the run ended before this migration reported' }),
    }, hasNetwork(s));
  }

  private async tearDown(): Promise<void> {
    await Promise.all(this.procs.filter((p) => p.running).map((p) => p.stop(5000).catch(() => undefined)));
    await this.follower?.stop().catch(() => undefined);
    if (this.sink) await this.sink.close().catch(() => undefined);
    if (this.redis) await quitRedis(this.redis);
    if (!this.o.keepTopology) {
      try {
        await this.net.removeTopology();
      } catch (e) {
        this.log(`removing the topology failed (run \`migsim testbed down\`): ${String(e)}`);
      }
    }
  }
}

