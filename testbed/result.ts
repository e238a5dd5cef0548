// The testbed's result file: the same RunResult as the sim's (docs/result-format.md),
// computed from what the run recorded — the host agents' migration results, the Redis
// stream (the switch's log) and the containers' NDJSON logs (the VMs' multicast receivers,
// the probe) — with the sim's own metric functions (model/result/rebind-metrics.ts). Pure: the
// orchestrator (engine.ts) gathers the inputs; every time here is ns since the run's origin.

import { evaluateExpectations } from '../model/result/expect.js';
import { rebindFields, type EchoLog, type EchoRecord, type ObservedVm, type SentBefore } from '../model/result/rebind-metrics.js';
import { ECP_COUNTERS, failedMigration, switchPolicy, UNMEASURED_NETWORK, type FaultReport, type MigrationResult, type NetworkResult, type RunResult } from '../model/result/format.js';
import { effectiveSwitch } from '../model/scenario/addressing.js';
import type { Scenario } from '../model/scenario/types.js';
import { VERSION } from '../model/version.js';
import { eventLogFromStream, type StreamEvent } from '../hosts/control/event-stream.js';
import { applyFaults, busLostMigration, type ObservedFaults } from './faults.js';
import { unansweredLeasequeries } from '../model/result/rebind-faults.js';

/** One line of a container's NDJSON log (hosts/runtime/ndjson-log.ts): `t` is CLOCK_MONOTONIC ns. */
export interface LogLine {
  t: bigint;
  kind: string;
  [field: string]: unknown;
}

/** Parses an NDJSON log; lines that are not `{t: "<ns>", kind, …}` are skipped and counted. */
export function parseLog(text: string | null): { lines: LogLine[]; skipped: number } {
  const lines: LogLine[] = [];
  let skipped = 0;
  for (const raw of (text ?? '').split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const o = JSON.parse(raw) as Record<string, unknown>;
      if (typeof o.t !== 'string' || !/^\d+$/.test(o.t) || typeof o.kind !== 'string') throw new Error('not an event');
      lines.push({ ...o, t: BigInt(o.t), kind: o.kind });
    } catch {
      skipped++; // a half-written last line, or garbage: never fatal
    }
  }
  return { lines, skipped };
}

/**
 * A datagram or echo reply later than this is counted as lost. A frozen VM container's
 * kernel still takes in frames until its vNIC has moved (tens of ms) and hands them to the
 * guest's sockets when it thaws; a paused VM's tap loses them (the sim's model, and QEMU's).
 * On the testbed's veths a datagram or an echo takes well under a millisecond otherwise.
 */
export const STALE_NS = 50e6;

export interface TestbedRecord {
  /** CLOCK_MONOTONIC ns of the run's time 0 (the VMs' guests started) */
  originNs: bigint;
  /** CLOCK_MONOTONIC ns when the run ended (traffic stopped) */
  endNs: bigint;
  /** per scenario migration (s.migrations order): what its source agent reported, or why nothing */
  migrations: (MigrationResult | { error: string })[];
  events: StreamEvent[];
  /** each VM's guest log (hosts/vm/main.ts) */
  vmLogs: Map<string, LogLine[]>;
  /** the probe's log (hosts/traffic/probe.ts), null without a probe */
  probeLog: LogLine[] | null;
  /** each multicast source's log (hosts/traffic/msource.ts), in scenario order */
  sourceLogs: LogLine[][];
  seed: number;
  wallStart: number;
  /** the components that died during the run and the control bus lost (faults.ts); none if absent */
  faults?: ObservedFaults;
  /** the scenario's faults as the orchestrator injected them (run-faults.ts) */
  scheduledFaults?: FaultReport[];
}

const rel = (t: bigint, origin: bigint): number => Number(t - origin);

/** When each group's datagram k was due: the source's `start` t + round(k·1e9/rate) (msource.ts). */
export type DueTime = (group: string, seq: number) => bigint | null;

export function dueTimes(sourceLogs: LogLine[][]): DueTime {
  const streams = new Map<string, { start: bigint; rate: number }>();
  for (const log of sourceLogs) {
    const st = log.find((l) => l.kind === 'start');
    if (st && typeof st.group === 'string' && typeof st.rate === 'number' && st.rate > 0) streams.set(st.group, { start: st.t, rate: st.rate });
  }
  return (group, seq) => {
    const g = streams.get(group);
    return g ? g.start + BigInt(Math.round((seq * 1e9) / g.rate)) : null;
  };
}

/**
 * What each multicast source sent (for a stream that had not come back by a window's end):
 * the highest seq due before `t` (ns since `origin`), no more than the source says it sent in
 * its `stop` line; without a `stop` line (the source did not finish), no more than the highest
 * seq its `sent` lines show sent before `t`. Null for a group no source log names.
 */
export function sentBefore(sourceLogs: LogLine[][], origin: bigint): SentBefore {
  const streams = new Map<string, { start: bigint; rate: number; cap: (t: bigint) => number }>();
  for (const log of sourceLogs) {
    const st = log.find((l) => l.kind === 'start');
    if (!st || typeof st.group !== 'string' || typeof st.rate !== 'number' || !(st.rate > 0) || streams.has(st.group)) continue;
    const stop = log.find((l) => l.kind === 'stop' && typeof l.sent === 'number');
    const sentLines = log.filter((l) => l.kind === 'sent' && typeof l.seq === 'number');
    const cap = stop
      ? () => (stop.sent as number) - 1
      : (t: bigint) => sentLines.filter((l) => l.t < t).reduce((k, l) => Math.max(k, l.seq as number), -1);
    streams.set(st.group, { start: st.t, rate: st.rate, cap });
  }
  return (group, t) => {
    const g = streams.get(group);
    if (!g) return null;
    const at = origin + BigInt(Math.round(t));
    const due = (k: number): bigint => g.start + BigInt(Math.round((k * 1e9) / g.rate));
    // the last k with due(k) < at: from the closed form, corrected for its rounding
    let k = Math.ceil((Number(at - g.start) * g.rate) / 1e9) - 1;
    while (due(k + 1) < at) k++;
    while (k >= 0 && due(k) >= at) k--;
    return Math.min(k, g.cap(at));
  };
}

/**
 * A VM as the metrics see it: its spec and the datagrams its receiver logged, without the
 * stale ones (read more than STALE_NS after they were due: they waited in the frozen VM).
 */
export function observedVm(s: Scenario, name: string, log: LogLine[], origin: bigint, due: DueTime = () => null): ObservedVm {
  const spec = s.vms.find((v) => v.name === name);
  if (!spec) throw new Error(`no VM ${name} in ${s.name}`);
  const multicast = log
    .filter((l) => l.kind === 'multicast' && typeof l.group === 'string' && typeof l.seq === 'number')
    .filter((l) => {
      const d = due(l.group as string, l.seq as number);
      return d === null || l.t - d <= BigInt(STALE_NS);
    })
    .map((l) => ({ group: l.group as string, seq: l.seq as number, t: rel(l.t, origin) }));
  return { spec, multicast };
}

/** The probe's echoes per target from its log: `sent {target, seq}` and `reply {target, seq}`. */
export function echoLog(log: LogLine[], origin: bigint): EchoLog {
  const byTarget = new Map<string, Map<number, EchoRecord>>();
  const of = (target: string) => {
    let m = byTarget.get(target);
    if (!m) byTarget.set(target, (m = new Map()));
    return m;
  };
  for (const l of log) {
    if (typeof l.target !== 'string' || typeof l.seq !== 'number') continue;
    if (l.kind === 'sent') of(l.target).set(l.seq, { sentAt: rel(l.t, origin), repliedAt: null });
    else if (l.kind === 'reply' && l.dup !== true) {
      const e = of(l.target).get(l.seq);
      // a reply later than STALE_NS was held by a frozen VM: lost, as to a paused one
      if (e && e.repliedAt === null && rel(l.t, origin) - e.sentAt <= STALE_NS) e.repliedAt = rel(l.t, origin);
    }
  }
  return {
    answeredAt: (vm) => [...(byTarget.get(vm)?.values() ?? [])].sort((a, b) => a.sentAt - b.sentAt),
  };
}

export function testbedResult(s: Scenario, rec: TestbedRecord, hasNetwork: boolean): RunResult {
  const endNs = rel(rec.endNs, rec.originNs);
  const migrations = s.migrations.map((m, i) => {
    const r = rec.migrations[i];
    // an agent's result has every field; the network's come below
    if (r && 'vm' in r) return { ...r, switchover: r.switchoverMs === null ? null : r.switchover ?? null, lowerBounds: [], unmeasured: { ...(r.unmeasured ?? {}) }, vmLost: r.vmLost ?? false };
    const failed = failedMigration(m.vm, m.from, m.to, m.mode, r?.error ?? 'the migration never started', m.atNs / 1e6);
    const lost = rec.faults?.busLost;
    // started before the bus went, and never reported: the bus took its result with it
    return lost && m.atNs <= rel(lost.lastAnswerNs, rec.originNs) ? busLostMigration(failed, rel(lost.lastAnswerNs, rec.originNs) / 1e6) : failed;
  });
  let network: NetworkResult | null = null;
  if (hasNetwork) {
    const log = eventLogFromStream(rec.events, 'switch', rec.originNs);
    const probe = rec.probeLog ? echoLog(rec.probeLog, rec.originNs) : null;
    const probeInterval = s.probe ? 1e9 / s.probe.rate : 0;
    const due = dueTimes(rec.sourceLogs);
    const sent = sentBefore(rec.sourceLogs, rec.originNs);
    migrations.forEach((r, i) => {
      const spec = s.migrations[i]!;
      if (r.switchoverMs === null || r.resumeMs === null || r.outcome === 'reverted') return;
      const next = s.migrations.filter((x) => x.vm === spec.vm && x.atNs > spec.atNs).reduce((t, x) => Math.min(t, x.atNs), endNs);
      const vm = observedVm(s, spec.vm, rec.vmLogs.get(spec.vm) ?? [], rec.originNs, due);
      Object.assign(r, rebindFields(log, probe, {
        vm, to: spec.to, switchoverNs: Math.round(r.switchoverMs * 1e6), resumeNs: Math.round(r.resumeMs * 1e6), untilNs: next, sent,
      }, probeInterval));
    });
    network = networkResult(s, rec.events, log.events.map((e) => ({ ...e, t: Math.round(e.t) / 1e6 })));
  } else {
    for (const r of migrations) Object.assign(r, UNMEASURED_NETWORK, { lowerBounds: [] });
  }
  const result: RunResult = {
    version: 1,
    scenario: s.name,
    description: s.description,
    file: s.file,
    engine: 'testbed',
    // real RAM, page by page: the testbed has no fluid model
    fidelity: 'pages',
    seed: rec.seed,
    migsim: VERSION,
    durationMs: Math.round(endNs) / 1e6,
    migrations,
    expectations: evaluateExpectations(s.expect, s.migrations, migrations, network),
    network,
    faults: [...(rec.scheduledFaults ?? []), ...(network ? unansweredLeasequeries(network, migrations, (vm) => s.vms.find((v) => v.name === vm)!.mac) : [])].sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity)),
    wallClock: { startedAt: new Date(rec.wallStart).toISOString(), elapsedMs: Date.now() - rec.wallStart },
  };
  if (rec.faults) {
    applyFaults(result, s, rec.faults, rec.events, rec.originNs);
    // the bounds see the fields as the faults left them
    result.expectations = evaluateExpectations(s.expect, s.migrations, result.migrations, result.network);
  }
  return result;
}

/** The switch's policy, its counters (from its `switch-stopped` snapshot, plus each earlier incarnation's: a switch-restart) and its log. */
function networkResult(s: Scenario, events: StreamEvent[], log: NetworkResult['events']): NetworkResult {
  type Snap = { counters?: Record<string, unknown>; malformedCount?: unknown; ports?: { role?: string; ecp?: Record<string, unknown> | null }[] };
  const stopped = events.filter((e) => e.source === 'switch' && e.kind === 'switch-stopped').at(-1);
  // each incarnation a switch-restart ended: its counters as read just before it was killed
  const killed = events.filter((e) => e.source === 'orchestrator' && e.kind === 'switch-killed');
  const earlier = killed.map((e) => (e.data.stats ?? null) as Snap | null);
  const counters: Record<string, number> = {};
  const snap = stopped?.data as Snap | undefined;
  const snaps = snap ? [...earlier, snap] : [];
  const add = (k: string, v: unknown) => {
    if (typeof v === 'number') counters[k] = (counters[k] ?? 0) + v;
  };
  for (const x of snaps) for (const [k, v] of Object.entries(x?.counters ?? {})) add(k, v);
  const malformed = snaps.reduce((n, x) => n + (typeof x?.malformedCount === 'number' ? x.malformedCount : 0), 0);
  if (snaps.some((x) => typeof x?.malformedCount === 'number')) counters.malformedLogged = Math.min(malformed, 100);
  for (const k of ECP_COUNTERS) {
    if (snap) counters[`ecp.${k}`] = snaps.reduce((n, x) => n + (x?.ports ?? []).reduce((m, p) => m + (typeof p.ecp?.[k] === 'number' ? (p.ecp[k] as number) : 0), 0), 0);
  }
  // without the switch's last snapshot, or an earlier incarnation's, there is nothing to count from: no 0s standing in for it
  const lostEarlier = earlier.some((x) => x === null);
  const countersUnmeasured = !snap
    ? 'the switch never reported its final counters (no switch-stopped event in the stream)'
    : lostEarlier
      ? 'the counters of a switch process a switch-restart ended could not be read before it was killed'
      : null;
  return {
    switch: switchPolicy(effectiveSwitch(s)),
    counters: countersUnmeasured ? {} : counters,
    countersUnmeasured,
    events: log,
    macs: Object.fromEntries(s.vms.map((v) => [v.name, v.mac])),
  };
}
