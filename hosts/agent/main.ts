// The testbed's host agent process (one per hypervisor host container): a HostAgent (VM RAM,
// workload workers, pre-copy sender and receiver over TCP on the management network) and a
// VdpStation (lldpad's role) on a libpcap port on the host's uplink, driven by control
// messages from Redis, every event streamed to the run's Redis stream.
//
//   node dist/hosts/agent/main.js --redis HOST:PORT --run ID --host NAME --uplink IFNAME
//        --listen PORT --advertise ADDR:PORT [--listen-host 0.0.0.0] [--vdp standard|extended]
//        [--config-wait-ms 30000] [--flush-ms 2] [--lldp-interval-ms 30000]
//
// --listen/--listen-host: where incoming migrations are accepted (the mgmt network);
// --advertise: the address other agents reach it at (what `migrate {dest}` names), published
// in the ready key. --vdp: whether the station sends the 802.1Qbg-2012 migration hints
// (M-bit, S-bit); by default read from the run's switch config (`vdp: extended` ⇒ hints),
// waiting for it up to --config-wait-ms.
//
// The uplink: frames the VMs send are forwarded by tc in the kernel (testbed/link.ts),
// not by this process; the station only sends ECP/VDP and LLDP there, with the uplink's MAC
// as its own, and only ECP and LLDP frames from the bridge are handed to it (the uplink
// carries the VMs' traffic too; the port's capture filter leaves it in the kernel). It
// announces its EVB TLV (LLDP) at start and every --lldp-interval-ms. Station parameters as the sim's (sim/lan.ts): manager ID
// "migsim", RKA 20, ECP R 3 / RTE 8 (the bridge's larger values win).
//
// Redis (hosts/control/redis-bus.ts has the run's layout; this process adds one key):
//   migsim:<run>:host:<name>:ready   string  JSON {pid, t, advertise, listen, uplink,
//                                            stationMac, hints}: set once serving, deleted
//                                            at stop (`hostReadyKey`)
//   migsim:<run>:events              stream  every event, source `host:<name>`
//   migsim:<run>:control             pub/sub control messages (below)
//
// Control messages, addressed `to: "host:<name>"` (a `stop` with no `to` is obeyed too):
//   vm-create {vm: VM, seed}      allocate and fill the VM's RAM (seeded as the sim), start
//                                 its workload → `vm-started` (or `control-error`)
//   vdp {op: preassoc|assoc|deassoc, vm: NAME | VM, migrated?}
//                                 the station sends the request (assoc + migrated: M-bit,
//                                 deassoc + migrated: S-bit, when hints are on) → `vdp-sent`;
//                                 the bridge's answer → `vdp-response`
//   migrate {vm: NAME, dest: "ADDR:PORT", destHost?, originNs?, params: {mode, downtimeLimitNs,
//            maxRounds, bandwidthBps, linkBandwidthBps, deviceStateBytes, autoConverge,
//            replyTimeoutMs?}, deassocOnResume?}
//                                 (deassocOnResume: the station de-associates the VM, S-bit
//                                 with hints, the moment the destination reports it resumed)
//                                 runs the sender → `migration-result {vm, from, to, result:
//                                 MigrationResult, ns: {startNs, switchoverNs, resumeNs,
//                                 resumeAckNs, endNs}, streamBytes}`; `to` (and the result's)
//                                 is destHost, else dest; result times are ms from `originNs`
//                                 (CLOCK_MONOTONIC ns; default 0). The destination is `dest`,
//                                 not `to`: `to` is the control message's addressee.
//   hold {vm: NAME, timeoutMs = 30000, associate?: {migrated}}
//                                 the next arrival of that VM waits, memory complete, for
//                                 `release` before it resumes (→ `incoming-held` when it is
//                                 waiting); no release within timeoutMs of the hold discards
//                                 the copy and the source resumes its VM. The orchestrator
//                                 holds a VM until its network identity has moved. With
//                                 `associate`, the station associates the VM the moment it
//                                 resumes here (as libvirt on the destination does), not a
//                                 control round trip later.
//   release {vm: NAME}            lets the held VM resume (now, or at once when it arrives)
//   reserve {vm: VM}              set RAM of the VM's size aside for its arrival, faulted in
//                                 ahead (as libvirt starts the destination QEMU with
//                                 -mem-prealloc before it migrates): the stream is then taken
//                                 in at the socket's pace → `vm-reserved {bytes, ms, complete}`
//   stats                         → `host-stats`
//   stop                          shut down (below)
// VM (a VmSpec-like JSON object): {name, memoryBytes, pageSize = 4096, zeroPages = 0,
// workload = {kind: idle} (the sim's WorkloadSpec; `trace` as {kind, file, loop}: the file is
// read here), mac, vsiType {id, version}, vid = 0, tickMs?}; extra keys (host, vlan, multicast
// …) are ignored. vm-create needs memoryBytes; vdp needs mac and vsiType (or a VM this agent
// was told about before). A VM given in full is remembered by name: when it later arrives by
// migration it runs that workload (the orchestrator sends the destination's `vdp preassoc`
// with the full VM, as libvirt pre-associates when a migration starts); a VM that arrives
// unannounced runs idle, so it can migrate on.
//
// Events (source `host:<name>`; `t` CLOCK_MONOTONIC ns): the HostAgent's own (vm-started,
// migration-start, round-end, switchover, resumed, migration-end, migration-reverted,
// incoming-*, vm-arrived, vm-released …) and host-ready {pid, advertise, listen, uplink,
// stationMac, hints} · vdp-sent {vm, mac, op, migrated, hints} · vdp-response {vm, mac, mode,
// error} · vdp-deassociated {vm, mac} (the bridge's keep-alive timeout) · assist {vm, mac,
// ip, dhcp, igmp} (the bridge's assistance request: the orchestrator makes that VM renew,
// SIGUSR1 to its guest agent) · migration-result · control-error {type, error} ·
// host-stats / host-stopped {reason, vms (held when told to stop), counters, pcap, ecp, sink}.
//
// Shutdown (SIGTERM, SIGINT or `stop`): no more control messages; the LLDP timer stops and
// the uplink port closes; the HostAgent closes (a migration in flight is cut: it reverts and
// its migration-result is still published); `host-stopped`; every event flushed to Redis;
// the ready key deleted. Exit status: 0 stopped with every event in the stream; 1 could not
// start (Redis unreachable, the uplink would not open, the port is taken); 2 bad arguments
// or a bad switch config in Redis; 3 stopped, but events were lost.

import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { failedMigration, type MigrationResult } from '../../model/result/format.js';
import { parseTrace } from '../../model/scenario/load.js';
import type { WorkloadSpec } from '../../model/scenario/types.js';
import { RedisEventSink } from '../control/event-stream.js';
import { PcapPort } from '../runtime/pcap-port.js';
import { wallClock } from '../runtime/wall-clock.js';
import { ConfigError, connectRedis, parseRedisAddress, quitRedis, rateLimitedStderr, RedisBus, RUN_ID_RE, runKeys, type ControlMessage } from '../control/redis-bus.js';
import { ETHERTYPE } from '../../wire/ethernet.js';
import { isMac } from '../../model/address.js';
import { managerIdFromText, type AssistRequest, type VdpMode } from '../../wire/vdp.js';
import { ComponentLifecycle, StartupSignals } from '../runtime/lifecycle.js';
import { isEntryPoint, numberArg, UsageError, withTimeout, parseOptions, runMain } from '../runtime/process-kit.js';

export { UsageError };
import { VdpStation, type VsiSpec } from '../../switch/vdp-station.js';
import { HostAgent, type MigrationParams, type VmConfig } from './agent.js';
import { toMigrationResult, type SenderResult } from './sender.js';

export const HOST_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

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
// arguments

export interface HostAgentArgs {
  redis: string;
  run: string;
  host: string;
  uplink: string;
  listenPort: number;
  listenHost: string;
  advertise: string;
  vdp: 'standard' | 'extended' | null;
  configWaitMs: number;
  flushMs: number;
  lldpIntervalMs: number;
}

export const HOST_AGENT_USAGE = `usage: node dist/hosts/agent/main.js --redis HOST:PORT --run ID --host NAME --uplink IFNAME
    --listen PORT --advertise ADDR:PORT [--listen-host 0.0.0.0] [--vdp standard|extended]
    [--config-wait-ms 30000] [--flush-ms 2] [--lldp-interval-ms 30000]`;


export function parseHostAgentArgs(argv: string[]): HostAgentArgs {
  const values = parseOptions(argv, {
    redis: { type: 'string' },
    run: { type: 'string' },
    host: { type: 'string' },
    uplink: { type: 'string' },
    listen: { type: 'string' },
    'listen-host': { type: 'string' },
    advertise: { type: 'string' },
    vdp: { type: 'string' },
    'config-wait-ms': { type: 'string' },
    'flush-ms': { type: 'string' },
    'lldp-interval-ms': { type: 'string' },
  });
  if (!values.redis) throw new UsageError('--redis HOST:PORT is required');
  try {
    parseRedisAddress(values.redis);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!values.run) throw new UsageError('--run ID is required');
  if (!RUN_ID_RE.test(values.run)) throw new UsageError(`--run ${values.run}: expected ${RUN_ID_RE.source}`);
  if (!values.host) throw new UsageError('--host NAME is required');
  if (!HOST_NAME_RE.test(values.host)) throw new UsageError(`--host ${values.host}: letters, digits, . _ - (at most 64)`);
  if (!values.uplink) throw new UsageError('--uplink IFNAME is required');
  if (!/^[^/\s]{1,15}$/.test(values.uplink)) throw new UsageError(`--uplink ${values.uplink}: at most 15 characters, no / or spaces`);
  if (values.listen === undefined) throw new UsageError('--listen PORT is required');
  const listenPort = numberArg(values.listen, 'listen', 0, { min: 1, max: 65535 });
  if (!Number.isInteger(listenPort)) throw new UsageError(`--listen ${values.listen}: expected a port number`);
  if (!values.advertise) throw new UsageError('--advertise ADDR:PORT is required');
  try {
    parseAddr(values.advertise);
  } catch (e) {
    throw new UsageError(`--advertise: ${(e as Error).message}`);
  }
  if (values.vdp !== undefined && values.vdp !== 'standard' && values.vdp !== 'extended') throw new UsageError(`--vdp ${values.vdp}: expected standard or extended`);
  return {
    redis: values.redis,
    run: values.run,
    host: values.host,
    uplink: values.uplink,
    listenPort,
    listenHost: values['listen-host'] ?? '0.0.0.0',
    advertise: values.advertise,
    vdp: (values.vdp as 'standard' | 'extended' | undefined) ?? null,
    configWaitMs: numberArg(values['config-wait-ms'], 'config-wait-ms', 30_000, { min: 0 }),
    flushMs: numberArg(values['flush-ms'], 'flush-ms', 2, { min: 0 }),
    lldpIntervalMs: numberArg(values['lldp-interval-ms'], 'lldp-interval-ms', 30_000, { min: 100 }),
  };
}

export function parseAddr(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !/^\d{1,5}$/.test(text.slice(i + 1)) || port < 1 || port > 65535) throw new Error(`${JSON.stringify(text)}: expected ADDR:PORT`);
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

// ------------------------------------------------------------------------------------------
// control messages

const posInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const nonNegInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const rate = z.number().positive().finite();

const WorkloadJson = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('idle') }),
  z.strictObject({ kind: z.literal('uniform'), writeRate: rate }),
  z.strictObject({ kind: z.literal('hotset'), writeRate: rate, hotsetBytes: posInt }),
  z.strictObject({ kind: z.literal('zipf'), writeRate: rate, skew: z.number().positive().finite() }),
  z.strictObject({ kind: z.literal('sequential'), writeRate: rate }),
  z.strictObject({ kind: z.literal('trace'), file: z.string().min(1), loop: z.boolean().default(false) }),
]);
type WorkloadJson = z.infer<typeof WorkloadJson>;

export const VmJsonSchema = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  memoryBytes: posInt.optional(),
  pageSize: posInt.refine((n) => (n & (n - 1)) === 0 && n >= 512, 'a power of two ≥ 512').optional(),
  zeroPages: z.number().min(0).max(1).optional(),
  workload: WorkloadJson.optional(),
  mac: z.string().refine((m) => isMac(m.toLowerCase()), 'a MAC as aa:bb:cc:dd:ee:ff').optional(),
  vsiType: z.strictObject({ id: z.number().int().min(0).max(0xffffff), version: z.number().int().min(0).max(255) }).optional(),
  vid: z.number().int().min(0).max(4094).optional(),
  tickMs: z.number().positive().max(1000).optional(),
});
export type VmJson = z.infer<typeof VmJsonSchema>;

const VmCreateMsg = z.looseObject({ vm: VmJsonSchema, seed: z.number().int().min(0).max(0xffffffff).default(1) });
const VdpMsg = z.looseObject({
  op: z.enum(['preassoc', 'assoc', 'deassoc']),
  vm: z.union([z.string().min(1), VmJsonSchema]),
  migrated: z.boolean().default(false),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
});
const HoldMsg = z.looseObject({
  vm: z.string().min(1),
  timeoutMs: z.number().positive().max(3_600_000).default(30_000),
  associate: z.strictObject({ migrated: z.boolean() }).optional(),
});
const ReleaseMsg = z.looseObject({ vm: z.string().min(1) });
const ReserveMsg = z.looseObject({ vm: VmJsonSchema });
const MigrateMsg = z.looseObject({
  vm: z.string().min(1),
  dest: z.string().min(3),
  destHost: z.string().min(1).optional(),
  originNs: z.union([z.number().min(0), z.string().regex(/^\d+$/)]).optional(),
  params: z.looseObject({
    mode: z.enum(['precopy', 'stopcopy', 'postcopy']).default('precopy'),
    downtimeLimitNs: z.number().positive(),
    maxRounds: z.number().int().min(1),
    bandwidthBps: z.number().positive().nullable().default(null),
    linkBandwidthBps: z.number().positive().nullable().default(null),
    deviceStateBytes: nonNegInt.default(0),
    autoConverge: z.boolean().default(false),
    replyTimeoutMs: z.number().positive().optional(),
  }),
  deassocOnResume: z.boolean().default(false),
});

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
  function sendVdp(name: string, op: 'preassoc' | 'assoc' | 'deassoc', migrated: boolean): void {
    const k = known.get(name);
    if (!k?.vsi) {
      emit('control-error', { type: 'vdp', error: `vm ${name}: no mac/vsiType known (send the VM in full)` });
      return;
    }
    if (op === 'preassoc') station.preAssociate(k.vsi);
    else if (op === 'assoc') station.associate(k.vsi, migrated);
    else station.deassociate(k.vsi, migrated);
    emit('vdp-sent', { vm: name, mac: k.vsi.mac, op, migrated, hints, mBit: op === 'assoc' && migrated && hints, sBit: op === 'deassoc' && migrated && hints });
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

  // ---- migrations in flight
  const migrations = new Set<Promise<void>>();
  const startMigration = (m: z.infer<typeof MigrateMsg>): void => {
    const originNs = m.originNs === undefined ? 0 : Number(m.originNs);
    const to = m.destHost ?? m.dest;
    const startNs = Number(process.hrtime.bigint());
    const p = m.params;
    if (p.mode === 'postcopy') {
      emit('migration-result', { vm: m.vm, from: a.host, to, result: failedMigration(m.vm, a.host, to, 'postcopy', 'postcopy is not run by the testbed host agent (precopy and stopcopy are)', (startNs - originNs) / 1e6), ns: null });
      return;
    }
    const params: MigrationParams = {
      mode: p.mode, downtimeLimitNs: p.downtimeLimitNs, maxRounds: p.maxRounds, bandwidthBps: p.bandwidthBps,
      linkBandwidthBps: p.linkBandwidthBps, deviceStateBytes: p.deviceStateBytes, autoConverge: p.autoConverge,
      ...(p.replyTimeoutMs !== undefined ? { replyTimeoutMs: p.replyTimeoutMs } : {}),
    };
    const run = (async () => {
      let r: SenderResult;
      try {
        r = await agent.migrateVm(m.vm, m.dest, params);
      } catch (e) {
        emit('migration-result', { vm: m.vm, from: a.host, to, result: failedMigration(m.vm, a.host, to, p.mode, (e as Error).message, (startNs - originNs) / 1e6), ns: null });
        return;
      }
      const result = toMigrationResult(r, { from: a.host, to, originNs });
      emit('migration-result', {
        vm: m.vm, from: a.host, to, result,
        ns: { startNs: r.startNs, switchoverNs: r.switchoverNs, resumeNs: r.resumeNs, resumeAckNs: r.resumeAckNs, endNs: r.endNs },
        streamBytes: r.streamBytes, mismatches: r.mismatches, firstMismatch: r.firstMismatch,
      });
    })();
    migrations.add(run);
    void run.finally(() => {
      migrations.delete(run);
      deassocOnResume.delete(m.vm); // it never resumed there, or did and was de-associated
    });
  };

  const snapshot = () => ({
    pid: process.pid,
    vms: agent.vmNames(),
    counters: { ...agent.counters },
    migrationsInFlight: migrations.size,
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
      await withTimeout(Promise.allSettled([...migrations]), 10_000, 'migrations').catch(() => undefined);
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
        const r = VmCreateMsg.safeParse(msg);
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
        const r = VdpMsg.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        let k: KnownVm | undefined;
        try {
          k = typeof r.data.vm === 'string' ? known.get(r.data.vm) : remember(r.data.vm, r.data.seed);
        } catch (e) {
          return controlError(msg.type, (e as Error).message);
        }
        const name = typeof r.data.vm === 'string' ? r.data.vm : r.data.vm.name;
        if (!k?.vsi) return controlError(msg.type, `vm ${name}: no mac/vsiType known (send the VM in full)`);
        sendVdp(name, r.data.op, r.data.migrated);
        return;
      }
      case 'hold': {
        const r = HoldMsg.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        hold(r.data.vm, r.data.timeoutMs, r.data.associate ?? null);
        return;
      }
      case 'release': {
        const r = ReleaseMsg.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        const h = holds.get(r.data.vm);
        if (!h) return controlError(msg.type, `vm ${r.data.vm}: not held`);
        h.release();
        return;
      }
      case 'reserve': {
        const r = ReserveMsg.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        const vm = r.data.vm;
        if (vm.memoryBytes === undefined) return controlError(msg.type, 'vm.memoryBytes is required');
        agent.reserve(vm.name, { memoryBytes: vm.memoryBytes, pageSize: vm.pageSize ?? 4096 }).catch((e: unknown) => controlError(msg.type, `vm ${vm.name}: ${(e as Error).message}`));
        return;
      }
      case 'migrate': {
        const r = MigrateMsg.safeParse(msg);
        if (!r.success) return controlError(msg.type, issues(r.error));
        try {
          parseAddr(r.data.dest);
        } catch (e) {
          return controlError(msg.type, `dest: ${(e as Error).message}`);
        }
        if (r.data.deassocOnResume) deassocOnResume.add(r.data.vm);
        startMigration(r.data);
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
