// What each testbed process is told, derived from the scenario: the command lines of the
// processes in the containers (docs/control-protocol.md, docs/switch-process.md and their own
// headers document every option) and the Redis messages the orchestrator sends the host agents
// and the switch (hosts/control/messages.ts). Pure: no Docker, no Redis.

import { addressing, effectiveSwitch, SWITCH_MAC } from '../model/scenario/addressing.js';
import type { MigrationSpec, Scenario, VmSpec } from '../model/scenario/types.js';
import type { ControlBody, VmJsonInput } from '../hosts/control/messages.js';
import type { SwitchRunConfig, VsiTypeEntry } from '../hosts/control/redis-bus.js';
import { CONTAINER_RUN_DIR } from './container-process.js';
import { HOST_UPLINK, VM_IF, type TopologyPlan } from './topo.js';

/** A process to start in a container: a script under dist/ and its arguments. */
export interface ProcessCommand {
  script: string;
  args: string[];
}

/** The TCP port every host agent takes incoming migrations on (the mgmt network). */
export const MIGRATION_PORT = 7100;

/** The files the processes write inside their containers. */
export const LOGS = {
  vm: `${CONTAINER_RUN_DIR}/vm.ndjson`,
  udhcpc: `${CONTAINER_RUN_DIR}/udhcpc.ndjson`,
  dhcpd: `${CONTAINER_RUN_DIR}/dhcpd.ndjson`,
  dhcpDir: `${CONTAINER_RUN_DIR}/dhcp`,
  msource: `${CONTAINER_RUN_DIR}/msource.ndjson`,
  probe: `${CONTAINER_RUN_DIR}/probe.ndjson`,
  probeTargets: `${CONTAINER_RUN_DIR}/probe-targets`,
} as const;

/** Traffic sources stop by themselves this long after the run's end, should nobody stop them. */
const SAFETY_MARGIN_S = 120;

const ROLE_OF_PORT = { host: 'host', dhcp: 'dhcp-server', msource: 'mrouter', probe: 'access' } as const;

/** The switch's port name for a topology port: the host's name, `dhcp`, `ms<i>`, `probe`. */
export function switchPortName(p: TopologyPlan['ports'][number]): string {
  if (p.role === 'host') return p.name!;
  if (p.role === 'msource') return `ms${p.name}`;
  return p.role;
}

export function switchCommand(plan: TopologyPlan, run: string, redis: string, s?: Scenario): ProcessCommand {
  const sw = s ? effectiveSwitch(s) : null;
  const ports = plan.ports.map((p) => {
    const role = ROLE_OF_PORT[p.role as keyof typeof ROLE_OF_PORT];
    if (!role) throw new Error(`no switch role for a ${p.role} port`);
    return ['--port', `${switchPortName(p)}:${role}:${p.port}:${p.link}`];
  });
  // 64 MiB per port: ~1000 frames of libpcap ring (hosts/switch/main.ts), for the multicast and probe bursts;
  // the querier waits for time 0 (engine.ts sends querier-start), as the sim's starts at 0
  return { script: 'hosts/switch/main.js', args: ['--redis', redis, '--run', run, ...ports.flat(), '--pcap-buffer-mib', '64', '--querier', 'control',
    ...(sw?.dhcpRebindFallback === 'assist' ? ['--dhcp-rebind-fallback', 'assist'] : []),
    ...(sw?.bindingDatabase === 'persistent' ? ['--binding-database', 'redis'] : [])] };
}

export function hostAgentCommand(host: string, run: string, redis: string, mgmtIp: string): ProcessCommand {
  return {
    script: 'hosts/agent/main.js',
    args: [
      '--redis', redis, '--run', run, '--host', host, '--uplink', HOST_UPLINK,
      '--listen', String(MIGRATION_PORT), '--listen-host', '0.0.0.0', '--advertise', `${mgmtIp}:${MIGRATION_PORT}`,
    ],
  };
}

export function dhcpCommand(s: Scenario): ProcessCommand {
  if (!s.dhcp) throw new Error('the scenario has no dhcp');
  return {
    script: 'hosts/dhcp/main.js',
    args: [
      '--subnet', s.dhcp.subnet, '--lease-time', String(Math.max(1, Math.round(s.dhcp.leaseTimeNs / 1e9))),
      '--sources', String(s.multicastSources.length), '--if', 'eth0', '--dir', LOGS.dhcpDir, '--log', LOGS.dhcpd,
    ],
  };
}

export function vmCommand(s: Scenario, vm: VmSpec): ProcessCommand {
  return {
    script: 'hosts/vm/main.js',
    args: [
      '--if', VM_IF, '--name', vm.name, ...vm.multicast.flatMap((g) => ['--group', g]), '--log', LOGS.vm, '--dhcp-log', LOGS.udhcpc,
      ...(s.dhcp ? [] : ['--no-dhcp']),
      ...(vm.announceOnResume === 'garp+igmp' ? ['--announce-igmp'] : []),
    ],
  };
}

function runSeconds(s: Scenario): number {
  return Math.ceil((s.durationNs ?? 0) / 1e9) + SAFETY_MARGIN_S;
}

export function msourceCommand(s: Scenario, i: number): ProcessCommand {
  const src = s.multicastSources[i];
  if (!src || !s.dhcp) throw new Error(`no multicast source ${i} (or no dhcp subnet for its address)`);
  const a = addressing(s.dhcp.subnet, s.multicastSources.length);
  return {
    script: 'hosts/traffic/msource.js',
    args: ['--ip', a.sourceIp(i), '--group', src.group, '--rate', String(src.rate), '--size', String(src.sizeBytes), '--duration', `${runSeconds(s)}s`, '--log', LOGS.msource],
  };
}

export function probeCommand(s: Scenario): ProcessCommand {
  if (!s.probe || !s.dhcp) throw new Error('the scenario has no probe (or no dhcp subnet for its address)');
  const a = addressing(s.dhcp.subnet, s.multicastSources.length);
  return {
    script: 'hosts/traffic/probe.js',
    args: ['--ip', a.probeIp, '--rate', String(s.probe.rate), '--targets-file', LOGS.probeTargets, '--duration', `${runSeconds(s)}s`, '--log', LOGS.probe],
  };
}

/** The prefix length of the scenario's subnet (for the addresses the orchestrator assigns). */
export function prefixLength(s: Scenario): number {
  return Number(s.dhcp!.subnet.split('/')[1]);
}

/** The switch's run config (migsim:<run>:switch:config). */
export function switchRunConfig(s: Scenario): SwitchRunConfig {
  const sw = effectiveSwitch(s);
  return {
    vdp: sw.vdp, dhcpRebind: sw.dhcpRebind, igmpRebind: sw.igmpRebind, ipSourceGuard: sw.ipSourceGuard,
    igmpQueryIntervalNs: sw.igmpQueryIntervalNs, mac: SWITCH_MAC,
    ip: s.dhcp ? addressing(s.dhcp.subnet, s.multicastSources.length).switchIp : null,
    pvid: s.vms[0]?.vlan ?? 1,
  };
}

/** The VSI type database: each VM's type and version → its VLAN and the MACs of the VMs of that type. */
export function vsiTypes(s: Scenario): VsiTypeEntry[] {
  const m = new Map<string, VsiTypeEntry>();
  for (const v of s.vms) {
    const key = `${v.vsiType.id}/${v.vsiType.version}`;
    const macs = [...(m.get(key)?.macs ?? []), v.mac.toLowerCase()];
    m.set(key, { id: v.vsiType.id, version: v.vsiType.version, vlan: v.vlan, macs });
  }
  return [...m.values()];
}

/** A VM as the host agent's control messages carry it (hosts/control/messages.ts VmJsonSchema). */
export function vmMessage(vm: VmSpec): VmJsonInput {
  const w = vm.workload;
  const workload = w.kind === 'trace' ? { kind: 'trace' as const, file: w.file, loop: w.loop } : w;
  return {
    name: vm.name, memoryBytes: vm.memoryBytes, pageSize: vm.pageSize, zeroPages: vm.zeroPages, workload,
    mac: vm.mac, vsiType: vm.vsiType, vid: 0,
  };
}

/** The `migrate` control message for the source host. */
export function migrateMessage(s: Scenario, m: MigrationSpec, dest: string, originNs: bigint): ControlBody<'migrate'> {
  return {
    vm: m.vm, dest, destHost: m.to, originNs: originNs.toString(),
    params: {
      mode: m.mode, downtimeLimitNs: m.downtimeLimitNs, maxRounds: m.maxRounds, bandwidthBps: m.bandwidthBps,
      linkBandwidthBps: s.network.migrationLink.bandwidthBps, deviceStateBytes: m.deviceStateBytes, autoConverge: m.autoConverge,
      throttleInitialPct: m.throttleInitialPct, throttleIncrementPct: m.throttleIncrementPct,
    },
  };
}
