// The testbed's host agent process (one per hypervisor host container): a HostAgent (VM RAM,
// workload workers, pre-copy sender and receiver over TCP on the management network) and a
// VdpStation (lldpad's role) on a libpcap port on the host's uplink, driven by control
// messages from Redis (hosts/control/messages.ts), every event streamed to the run's Redis
// stream. Its command line, Redis keys, messages, events and exit statuses: docs/control-protocol.md.

import { AbortMsgSchema, HoldMsgSchema, MigrateMsgSchema, ReleaseMsgSchema, ReserveMsgSchema, VdpMsgSchema, type VdpOp, VmCreateMsgSchema, type VmJson, type WorkloadJson } from '../control/messages.js';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { parseTrace } from '../../model/scenario/trace.js';
import type { WorkloadSpec } from '../../model/scenario/types.js';
import { RedisEventSink } from '../control/event-stream.js';
import { PcapPort } from '../runtime/pcap-port.js';
import { wallClock } from '../runtime/wall-clock.js';
import { ConfigError, connectRedis, type ControlMessage, quitRedis, RedisBus, runKeys } from '../control/redis-bus.js';
import { isEntryPoint, rateLimitedStderr, runMain, withTimeout } from '../runtime/process-kit.js';
import { ETHERTYPE } from '../../wire/ethernet.js';
import { isMac } from '../../model/address.js';
import { type AssistRequest, managerIdFromText, type VdpMode } from '../../wire/vdp.js';
import { ComponentLifecycle, StartupSignals } from '../control/lifecycle.js';
import { VdpStation, type VsiSpec } from '../../switch/vdp-station.js';
import { HostAgent, type VmConfig } from './agent.js';
import { OutgoingMigrations } from './outgoing.js';
import { HOST_AGENT_USAGE, HOST_NAME_RE, type HostAgentArgs, parseAddr, parseHostAgentArgs } from './args.js';

/** This process's key: `migsim:<run>:host:<name>:ready`. */
export function hostReadyKey(run: string, host: string): string {
  runKeys(run); // validates the run id
  if (!HOST_NAME_RE.test(host)) throw new Error(`host name ${JSON.stringify(host)}: expected ${HOST_NAME_RE.source}`);
  return `migsim:${run}:host:${host}:ready`;
}

/** The station's parameters, as the sim's hosts (sim/lan.ts). */
export const STATION_PARAMS = { managerId: 'migsim', rka: 20, ecp: { maxRetries: 3, rte: 8 } } as const;

export interface HostReady {
  pid: number;
  /** CLOCK_MONOTONIC ns, decimal */
  t: string;
  advertise: string;
  listen: string;
  uplink: string;
  stationMac: string;
  hints: boolean;
}

// ------------------------------------------------------------------------------------------
// control messages

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`).join('; ');
}

/** What this agent knows of a VM: its vNIC (for VDP) and how it runs (for an arrival). */
interface KnownVm {
  name: string;
  vsi: VsiSpec | null;
  run: { workload: WorkloadSpec; seed: number; tickMs?: number } | null;
}

function workloadSpec(w: WorkloadJson | undefined, pageCount: number): WorkloadSpec {
  if (!w) return { kind: 'idle' };
  if (w.kind !== 'trace') return w;
  const text = readFileSync(w.file, 'utf8');
  return { kind: 'trace', file: w.file, trace: parseTrace(text, w.file, pageCount, 'workload.file'), loop: w.loop };
}

// ------------------------------------------------------------------------------------------
// the process

function interfaceMac(ifname: string): string | null {
  try {
    const mac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim().toLowerCase();
    return isMac(mac) ? mac : null;
  } catch {
    return null;
  }
}

export const hostAgentStats = { controlInvalid: 0, uncaught: 0, framesIgnored: 0, framesToStation: 0 };

/** Run the host agent until it is stopped; resolves to the exit status. */
export async function runHostAgent(a: HostAgentArgs, onReady: () => void = () => undefined): Promise<number> {
  const source = `host:${a.host}`;
  const say = (msg: string) => process.stderr.write(`migsim host ${a.host} [${a.run}]: ${msg}\n`);
  const redis = connectRedis(a.redis, { name: `migsim:${a.run}:${source}`, onError: rateLimitedStderr(`migsim host ${a.host} [${a.run}]: redis ${a.redis}`) });
  const bus = new RedisBus(redis, a.run);
  const readyKey = hostReadyKey(a.run, a.host);

  // a signal before the agent runs: stop waiting, nothing to flush
  const signals = new StartupSignals();
  const { aborted, unlisten } = signals;

  // ---- hints: from the switch config unless given
  let hints: boolean;
  if (a.vdp !== null) {
    hints = a.vdp === 'extended';
  } else {
    try {
      const got = await Promise.race([aborted, withTimeout(bus.waitForSwitchConfig(a.configWaitMs), a.configWaitMs + 5000, `redis ${a.redis}`)]);
      if (got !== null && 'aborted' in got) {
        say(`stopped (${got.aborted}) before the agent started`);
        unlisten();
        await quitRedis(redis);
        return 0;
      }
      if (got === null) {
        say(`no switch config at ${bus.keys.switchConfig} after ${a.configWaitMs} ms (give --vdp to run without it)`);
        unlisten();
        await quitRedis(redis);
        return 2;
      }
      hints = got.vdp === 'extended';
    } catch (e) {
      say((e as Error).message);
      unlisten();
      await quitRedis(redis);
      return e instanceof ConfigError ? 2 : 1;
    }
  }

  const sink = new RedisEventSink(redis, a.run, source, { flushIntervalMs: a.flushMs, onError: rateLimitedStderr(`migsim host ${a.host} [${a.run}]: event stream`) });
  const emit = (kind: string, fields: Record<string, unknown> = {}): void => sink.emit({ t: process.hrtime.bigint(), ...fields, kind });

  // ---- what the agent knows of VMs
  const known = new Map<string, KnownVm>();
  const remember = (vm: VmJson, seed: number | undefined): KnownVm => {
    const k = known.get(vm.name) ?? { name: vm.name, vsi: null, run: null };
    if (vm.mac && vm.vsiType) k.vsi = { mac: vm.mac.toLowerCase(), vid: vm.vid ?? 0, typeId: vm.vsiType.id, typeVersion: vm.vsiType.version };
    if (vm.workload || k.run === null || seed !== undefined) {
      const pageCount = vm.memoryBytes ? Math.floor(vm.memoryBytes / (vm.pageSize ?? 4096)) : 1;
      const workload = vm.workload ? workloadSpec(vm.workload, pageCount) : k.run?.workload ?? { kind: 'idle' as const };
      k.run = { workload, seed: seed ?? k.run?.seed ?? 1, ...(vm.tickMs !== undefined ? { tickMs: vm.tickMs } : {}) };
    }
    known.set(vm.name, k);
    return k;
  };
  // ---- resumes held for the orchestrator (hold / release)
  const holds = new Map<string, { gate: Promise<void>; release: () => void; associate: { migrated: boolean } | null }>();
  const hold = (vm: string, timeoutMs: number, associate: { migrated: boolean } | null): void => {
    holds.get(vm)?.release(); // a second hold replaces the first
    let release!: () => void;
    const gate = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no release within ${timeoutMs} ms of the hold`)), timeoutMs);
      release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    gate.catch(() => holds.delete(vm));
    holds.set(vm, { gate, release, associate });
  };
  const resumeGate = (vm: string): Promise<void> | null => {
    const h = holds.get(vm);
    if (!h) return null;
    return h.gate
      .then(() => {
        // the VM runs here from now on: its vNIC is associated at this instant
        if (h.associate) sendVdp(vm, 'assoc', h.associate.migrated);
      })
      .finally(() => holds.delete(vm));
  };
  /** migrations whose source de-associates when the destination reports the VM resumed */
  const deassocOnResume = new Set<string>();

  const vmByMac = (mac: string): string | null => {
    for (const k of known.values()) if (k.vsi?.mac === mac) return k.name;
    return null;
  };

  // ---- the host agent
  const agent = new HostAgent(a.host, {
    onEvent: (e) => {
      sink.emit(e);
      if (e.kind === 'resumed' && typeof e.vm === 'string' && deassocOnResume.delete(e.vm)) sendVdp(e.vm, 'deassoc', true);
    },
    // an arrival runs the workload the agent was told about, else idle (so it can migrate on)
    workloadFor: (vm) => known.get(vm)?.run ?? { workload: { kind: 'idle' }, seed: 1 },
    resumeGate,
  });
  try {
    await agent.listen(a.listenPort, a.listenHost);
  } catch (e) {
    say(`cannot listen on ${a.listenHost}:${a.listenPort}: ${(e as Error).message}`);
    unlisten();
    await sink.close();
    await quitRedis(redis);
    return 1;
  }

  // ---- the station on the uplink
  const stationMac = interfaceMac(a.uplink);
  let port: PcapPort;
  try {
    if (stationMac === null) throw new Error(`no interface ${a.uplink} (or it has no Ethernet address)`);
    // the uplink carries the VMs' traffic too: the kernel keeps it from this process
    port = PcapPort.open(a.uplink, { etherTypes: [ETHERTYPE.ECP, ETHERTYPE.LLDP] });
  } catch (e) {
    say((e as Error).message);
    await agent.close();
    unlisten();
    await sink.close();
    await quitRedis(redis);
    return 1;
  }
  const station = new VdpStation(
    wallClock,
    { mac: stationMac, managerId: managerIdFromText(STATION_PARAMS.managerId), hints, rka: STATION_PARAMS.rka, ecp: { ...STATION_PARAMS.ecp } },
    (f) => port.send(f),
    {
      response: (mac: string, mode: VdpMode, error: number) => emit('vdp-response', { vm: vmByMac(mac), mac, mode, error }),
      assist: (r: AssistRequest) => emit('assist', { vm: vmByMac(r.mac), mac: r.mac, ip: r.ip, dhcp: r.dhcp, igmp: r.igmp }),
      deassociatedByBridge: (mac: string) => emit('vdp-deassociated', { vm: vmByMac(mac), mac }),
    },
  );
  /** Sends a VDP request for a VM this agent knows; a failure is a control-error. */
  function sendVdp(name: string, op: VdpOp, migrated: boolean, asType?: { id: number; version: number }): void {
    const k = known.get(name);
    if (!k?.vsi) {
      emit('control-error', { type: 'vdp', error: `vm ${name}: no mac/vsiType known (send the VM in full)` });
      return;
    }
    const vsi = asType ? { ...k.vsi, typeId: asType.id, typeVersion: asType.version } : k.vsi;
    if (op === 'preassoc') station.preAssociate(vsi);
    else if (op === 'assoc') station.associate(vsi, migrated);
    else station.deassociate(vsi, migrated);
    emit('vdp-sent', {
      vm: name, mac: vsi.mac, op, migrated, hints, mBit: op === 'assoc' && migrated && hints, sBit: op === 'deassoc' && migrated && hints,
      ...(asType ? { asType } : {}),
    });
  }
  port.onFrame((f) => {
    // only ECP and LLDP are the station's (untagged, as the bridge sends them); the capture
    // filter passes no other, this checks it
    const type = f.length >= 14 ? (f[12]! << 8) | f[13]! : 0;
    if (type !== ETHERTYPE.ECP && type !== ETHERTYPE.LLDP) {
      hostAgentStats.framesIgnored++;
      return;
    }
    hostAgentStats.framesToStation++;
    station.receive(f);
  });
  station.announce();
  const lldpTimer = setInterval(() => station.announce(), a.lldpIntervalMs);

  // ---- migrations out of here, while they run
  const outgoing = new OutgoingMigrations(agent, a.host, emit, (vm) => {
    deassocOnResume.delete(vm); // it never resumed there, or did and was de-associated
  });

  const snapshot = () => ({
    pid: process.pid,
    vms: agent.vmNames(),
    counters: { ...agent.counters },
    migrationsInFlight: outgoing.size,
    pcap: { ...port.stats },
    ecp: { ...station.ecp.stats },
    frames: { ...hostAgentStats },
    sink: { ...sink.stats, pending: sink.pending },
  });

  // ---- stopping
  const life = new ComponentLifecycle({
    say,
    redis,
    sink,
    clearReady: () => redis.del(readyKey),
    unlisten,
    teardown: async (reason) => {
      // the VMs it held when told to stop (closing stops their workloads and lets them go)
      const held = agent.vmNames();
      clearInterval(lldpTimer);
      port.close();
      await agent.close();
      await withTimeout(outgoing.settled(), 10_000, 'migrations').catch(() => undefined);
      emit('host-stopped', { reason, ...snapshot(), vms: held });
    },
  });
  const stop = (reason: string): void => life.stop(reason);
  signals.handOver(stop);

  // ---- control
  const controlError = (type: string, error: string): void => {
    emit('control-error', { type, error });
  };
  const handle = (msg: ControlMessage): void => {
    if (msg.to === undefined) {
      if (msg.type === 'stop') stop('control (everyone)');
      return;
    }
    if (msg.to !== source || life.stopped) return;
    switch (msg.type) {
      case 'stop':
        stop('control');
        return;
      case 'stats':
        emit('host-stats', snapshot());
        return;
      case 'vm-create': {
        const r = VmCreateMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        const vm = r.data.vm;
        if (vm.memoryBytes === undefined) return controlError(msg.type, 'vm.memoryBytes is required');
        let config: VmConfig;
        try {
          const k = remember(vm, r.data.seed);
          config = {
            name: vm.name, memoryBytes: vm.memoryBytes, pageSize: vm.pageSize ?? 4096, zeroPages: vm.zeroPages ?? 0,
            workload: k.run!.workload, seed: r.data.seed, ...(vm.tickMs !== undefined ? { tickMs: vm.tickMs } : {}),
          };
        } catch (e) {
          return controlError(msg.type, `vm ${vm.name}: ${(e as Error).message}`);
        }
        agent.startVm(config).catch((e: unknown) => controlError(msg.type, `vm ${vm.name}: ${(e as Error).message}`));
        return;
      }
      case 'vdp': {
        const r = VdpMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        let k: KnownVm | undefined;
        try {
          k = typeof r.data.vm === 'string' ? known.get(r.data.vm) : remember(r.data.vm, r.data.seed);
        } catch (e) {
          return controlError(msg.type, (e as Error).message);
        }
        const name = typeof r.data.vm === 'string' ? r.data.vm : r.data.vm.name;
        if (!k?.vsi) return controlError(msg.type, `vm ${name}: no mac/vsiType known (send the VM in full)`);
        sendVdp(name, r.data.op, r.data.migrated, r.data.asType);
        return;
      }
      case 'hold': {
        const r = HoldMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        hold(r.data.vm, r.data.timeoutMs, r.data.associate ?? null);
        return;
      }
      case 'release': {
        const r = ReleaseMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        const h = holds.get(r.data.vm);
        if (!h) return controlError(msg.type, `vm ${r.data.vm}: not held`);
        h.release();
        return;
      }
      case 'reserve': {
        const r = ReserveMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        const vm = r.data.vm;
        if (vm.memoryBytes === undefined) return controlError(msg.type, 'vm.memoryBytes is required');
        agent.reserve(vm.name, { memoryBytes: vm.memoryBytes, pageSize: vm.pageSize ?? 4096 }).catch((e: unknown) => controlError(msg.type, `vm ${vm.name}: ${(e as Error).message}`));
        return;
      }
      case 'migrate': {
        const r = MigrateMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        try {
          parseAddr(r.data.dest);
        } catch (e) {
          return controlError(msg.type, `dest: ${(e as Error).message}`);
        }
        if (r.data.deassocOnResume) deassocOnResume.add(r.data.vm);
        outgoing.start(r.data);
        return;
      }
      case 'abort': {
        const r = AbortMsgSchema.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        outgoing.abort(r.data.vm, r.data.reason);
        return;
      }
      default:
        controlError(msg.type, `unknown control message type ${JSON.stringify(msg.type)}`);
    }
  };
  const invalid = rateLimitedStderr(`migsim host ${a.host} [${a.run}]: control message`);
  const over = await life.subscribe(
    () =>
      bus.subscribeControl(handle, (raw, reason) => {
        hostAgentStats.controlInvalid++;
        invalid(new Error(`${reason}: ${raw.slice(0, 200)}`));
      }),
    `SUBSCRIBE ${bus.keys.control}`,
  );
  if (over !== null) return over;

  // ---- ready
  const t = process.hrtime.bigint();
  const ready: HostReady = { pid: process.pid, t: t.toString(), advertise: a.advertise, listen: `${a.listenHost}:${a.listenPort}`, uplink: a.uplink, stationMac, hints };
  return life.ready('host-ready', () => sink.emit({ ...ready, t, kind: 'host-ready' }), () => redis.set(readyKey, JSON.stringify(ready)), onReady);
}

if (isEntryPoint(import.meta.url)) {
  void runMain(parseHostAgentArgs, HOST_AGENT_USAGE, (a) => runHostAgent(a, () => process.stdout.write('ready\n')), { label: (a) => `migsim host ${a.host} [${a.run}]`, stats: hostAgentStats });
}
