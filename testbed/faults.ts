// A testbed run's observed faults in its result (docs/result-format.md, `faults`): the
// components that died (and their containers), the switch's ports that lost their link, the
// control bus lost; and what each spoilt — the metrics it would have produced set to null
// with the reason in `unmeasured`, the VMs it took with it. Pure: the orchestrator records
// the deaths (run-watch.ts) and the bus loss; the switch's port events come from the stream.

import { NETWORK_TIMES_OF, type FaultReport, type MigrationResult, type RunResult } from '../model/result/format.js';
import type { Scenario } from '../model/scenario/types.js';
import type { StreamEvent } from '../hosts/control/event-stream.js';

/** A component process that ended while the run went on. */
export interface Death {
  /** `switch`, `dhcpd`, `agent:h1`, `guest:vm1`, `probe`, `msource:0` */
  component: string;
  label: string;
  /** CLOCK_MONOTONIC ns when the orchestrator saw it end */
  atNs: bigint;
  code: number;
  /** the container's name when the container stopped too, else null */
  container: string | null;
}

export interface BusLoss {
  /** Redis's last answer, CLOCK_MONOTONIC ns */
  lastAnswerNs: bigint;
  /** when the orchestrator gave it up */
  detectedNs: bigint;
}

export interface ObservedFaults {
  deaths: Death[];
  busLost: BusLoss | null;
  /** hosts the scenario crashed on purpose (host-crash), when, and the VMs each took: what is observed of them afterwards is explained by it */
  crashes?: { host: string; atNs: bigint; lost: string[] }[];
}

export const NETWORK_FIELDS = ['dhcpRebindMs', 'igmpRebindMs', 'sourceGuardDrops', 'multicastGapMs', 'multicastLost', 'serviceInterruptionMs'] as const;
type NetworkField = (typeof NETWORK_FIELDS)[number];

/** Run-clock seconds for a message: `3.21 s`. */
export const secondsText = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const msOf = (t: bigint, origin: bigint): number => Math.round(Number(t - origin) / 1e3) / 1e3;

/** The host a VM runs on at run time `ms`: its start host, moved by each completed migration that resumed by then. */
function hostAt(r: RunResult, s: Scenario, vm: string, ms: number): string | null {
  let host = s.vms.find((v) => v.name === vm)?.host ?? null;
  const moves = r.migrations.filter((m) => m.vm === vm && m.outcome === 'completed' && m.resumeMs !== null && m.resumeMs <= ms);
  for (const m of moves.sort((a, b) => a.resumeMs! - b.resumeMs!)) host = m.to;
  return host;
}

/** What a death does: its effect line, the network fields it spoils (of which VMs), the VMs it loses. */
function deathEffect(d: Death, s: Scenario, r: RunResult, atMs: number): { effect: string; fields: NetworkField[]; vms: string[] | 'all'; lost: string[] } {
  const [kind, name] = d.component.split(':') as [string, string | undefined];
  const how = `exit ${d.code}`;
  switch (kind) {
    case 'switch':
      return { effect: `the switch process died (${how}): the data network stopped; the switch's counters and its network metrics from ${secondsText(atMs)} on are not measured`, fields: [...NETWORK_FIELDS], vms: 'all', lost: [] };
    case 'dhcpd':
      return { effect: `dhcpd died (${how}): no DHCP answers (leases, renewals, leasequeries) from ${secondsText(atMs)} on`, fields: ['dhcpRebindMs'], vms: 'all', lost: [] };
    case 'agent': {
      const lost = s.vms.map((v) => v.name).filter((vm) => hostAt(r, s, vm, atMs) === name);
      const what = d.container ? `its container ${d.container} stopped, and with it the host agent of ${name}` : `the host agent of ${name} died`;
      const gone = lost.length > 0 ? `: ${lost.join(', ')} ${lost.length === 1 ? 'was' : 'were'} lost with it` : ': no VM ran there';
      return { effect: `${what} (${how})${gone}${d.container ? `; the switch's port ${name} lost its link` : ''}`, fields: [...NETWORK_FIELDS], vms: lost, lost };
    }
    case 'guest':
      return { effect: `${name}'s network identity (udhcpc, echo, multicast receiver) died (${how}): its network metrics from ${secondsText(atMs)} on are not measured`, fields: [...NETWORK_FIELDS], vms: [name!], lost: [] };
    case 'probe':
      return { effect: `the probe died (${how}): no reachability measured from ${secondsText(atMs)} on`, fields: ['serviceInterruptionMs'], vms: 'all', lost: [] };
    case 'msource': {
      const group = s.multicastSources[Number(name)]?.group;
      const vms = s.vms.filter((v) => group !== undefined && v.multicast.includes(group)).map((v) => v.name);
      return { effect: `multicast source ${name}${group ? ` (${group})` : ''} died (${how}): its stream stopped at ${secondsText(atMs)}`, fields: ['multicastGapMs', 'multicastLost'], vms, lost: [] };
    }
    default:
      return { effect: `${d.label} died (${how})`, fields: [], vms: [], lost: [] };
  }
}

/** Where a migration's network window ends: the VM's next migration, or the run's end (ms). */
function windowEnd(s: Scenario, i: number, endMs: number): number {
  const spec = s.migrations[i]!;
  return s.migrations.filter((x) => x.vm === spec.vm && x.atNs > spec.atNs).reduce((t, x) => Math.min(t, x.atNs / 1e6), endMs);
}

function spoil(m: MigrationResult, fields: readonly string[], reason: string): void {
  const rec = m as unknown as Record<string, unknown>;
  for (const f of fields) {
    if (!(f in m.unmeasured)) m.unmeasured[f] = reason;
    rec[f] = null;
    // the field's instants go with it (a result written before NetworkTimes has none)
    if (m.networkTimes) for (const t of NETWORK_TIMES_OF[f] ?? []) m.networkTimes = { ...m.networkTimes, [t]: null };
    m.lowerBounds = m.lowerBounds.filter((x) => x !== f);
  }
}

/**
 * Fills `r.faults` and, for what each fault spoilt, sets the fields to null with the reason
 * in `unmeasured` (a migration's network fields only if its window — switchover to its VM's
 * next move or the run's end — had not ended when the fault came), `vmLost`, and
 * `network.countersUnmeasured`.
 */
export function applyFaults(r: RunResult, s: Scenario, f: ObservedFaults, events: StreamEvent[], originNs: bigint): void {
  const faults: FaultReport[] = [...r.faults];
  const endMs = r.durationMs;
  let switchDied = false;
  const crashes = f.crashes ?? [];
  // a host the scenario crashed on purpose: its agent's or container's end, and its port going
  // down, are the scheduled fault's doing (reported as such), not a run that broke
  const crashedBy = (host: string | undefined, t: bigint): boolean => host !== undefined && crashes.some((c) => c.host === host && c.atNs <= t);
  for (const c of crashes) {
    const atMs = msOf(c.atNs, originNs);
    const reason = `${c.host} crashed at ${secondsText(atMs)} (scenario fault) with the VM`;
    r.migrations.forEach((m, i) => {
      if (!c.lost.includes(m.vm) || m.switchoverMs === null || m.resumeMs === null || m.outcome === 'reverted') return;
      if (atMs >= windowEnd(s, i, endMs)) return;
      spoil(m, NETWORK_FIELDS, reason);
    });
  }
  for (const d of f.deaths) {
    const [dk, dn] = d.component.split(':');
    if ((dk === 'agent' || d.component === `container:migsim-host-${dn}`) && crashedBy(dn, d.atNs)) continue;
    const atMs = msOf(d.atNs, originNs);
    const e = deathEffect(d, s, r, atMs);
    faults.push({ atMs, kind: 'component-died', target: d.container ? `container:${d.container}` : d.component, scheduled: false, effect: e.effect, lost: e.lost });
    const reason = `${d.container ? `the container ${d.container}` : `the ${d.label} process`} died at ${secondsText(atMs)}`;
    // a lost VM: said on its latest migration begun by then (it no longer runs anywhere after it)
    for (const vm of e.lost) {
      const last = r.migrations.filter((m) => m.vm === vm && m.startMs <= atMs).sort((a, b) => a.startMs - b.startMs).at(-1);
      if (last) last.vmLost = true;
    }
    r.migrations.forEach((m, i) => {
      if (e.vms !== 'all' && !e.vms.includes(m.vm)) return;
      if (m.switchoverMs === null || m.resumeMs === null || m.outcome === 'reverted') return;
      if (atMs >= windowEnd(s, i, endMs)) return;
      spoil(m, e.fields, reason);
    });
    if (d.component === 'switch' && r.network && !switchDied) {
      switchDied = true;
      r.network.counters = {};
      r.network.countersUnmeasured = `the switch process died at ${secondsText(atMs)}: its final counters were never read`;
    }
  }
  for (const e of events) {
    if (e.source !== 'switch' || e.kind !== 'port-down') continue;
    const port = String(e.data.port ?? '?');
    if (crashedBy(port, e.t)) continue;
    const why = e.data.reason === 'down' ? 'is down' : String(e.data.reason ?? 'vanished');
    faults.push({
      atMs: msOf(e.t, originNs), kind: 'port-down', target: port, scheduled: false, lost: [],
      effect: `the switch's port ${port} lost its link (${String(e.data.link ?? '?')} ${why}): frames to it are dropped, the other ports serve on`,
    });
  }
  if (f.busLost) {
    const atMs = msOf(f.busLost.lastAnswerNs, originNs);
    const gaveUp = msOf(f.busLost.detectedNs, originNs);
    faults.push({
      atMs, kind: 'control-bus-lost', target: 'redis', scheduled: false, lost: [],
      effect: `the control bus (Redis) stopped answering after ${secondsText(atMs)}; the run was given up at ${secondsText(gaveUp)} with what was measured by then`,
    });
    if (r.network && !switchDied) {
      r.network.counters = {};
      r.network.countersUnmeasured = `the control bus (Redis) was lost at ${secondsText(atMs)}: the switch's final counters never arrived`;
    }
  }
  r.faults = faults.sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity));
}

/**
 * A migration the control bus took with it (no result from its source agent): `failed`, every
 * measurement null or, where the result format has a number, its reason in `unmeasured`.
 */
export function busLostMigration(m: MigrationResult, atMs: number): MigrationResult {
  const reason = `the control bus (Redis) was lost at ${secondsText(atMs)} before the source host agent reported this migration`;
  const out: MigrationResult = { ...m, outcome: 'failed', error: reason, unmeasured: { ...m.unmeasured } };
  spoil(out, ['switchoverMs', 'resumeMs', 'endMs', 'totalTimeMs', 'downtimeMs', 'memoryVerified', ...NETWORK_FIELDS], reason);
  // numbers the format cannot make null: 0 here means "not measured", said so
  for (const f of ['pagesSent', 'bytesSent', 'rounds']) out.unmeasured[f] = reason;
  return out;
}
