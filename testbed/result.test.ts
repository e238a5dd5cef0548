// The testbed's result from what a run recorded (testbed/result.ts), on a
// hand-built record: a switch stream, an agent's migration result, a VM's multicast log, a
// probe log. Every expected number is worked out by hand below from those inputs.

import { describe, expect, it } from 'vitest';
import { failedMigration, type MigrationResult } from '../model/result/format.js';
import { echoLog, parseLog, sentBefore, STALE_NS, testbedResult, type LogLine, type TestbedRecord } from './result.js';
import type { StreamEvent } from '../hosts/control/event-stream.js';
import { migration, ms, s, scenario, vm } from '../model/scenario/fixture.js';

const O = 1_000_000_000_000n; // the run's origin, CLOCK_MONOTONIC ns
const at = (msSinceOrigin: number): bigint => O + BigInt(Math.round(msSinceOrigin * 1e6));
const MAC = '02:00:00:00:01:01';
const GROUP = '239.1.1.1';

const S = scenario({
  name: 'tb', durationNs: 10 * s,
  dhcp: { subnet: '10.77.0.0/24', leaseTimeNs: 600 * s },
  probe: { rate: 100 },
  multicastSources: [{ group: GROUP, rate: 100, sizeBytes: 1200 }],
  switch: { vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query', ipSourceGuard: true, igmpQueryIntervalNs: 125 * s, bindingDatabase: 'none', dhcpRebindFallback: 'none' },
  vms: [vm({ mac: MAC, vlan: 10, multicast: [GROUP] })],
  migrations: [migration({ atNs: 2 * s, from: 'h1', to: 'h2' })],
});

let seq = 0;
function ev(source: string, kind: string, tMs: number, data: Record<string, unknown> = {}): StreamEvent {
  return { id: `${seq}-0`, t: at(tMs), source, kind, seq: seq++, data: { kind, ...data } };
}
const line = (kind: string, tMs: number, f: Record<string, unknown> = {}): LogLine => ({ t: at(tMs), kind, ...f });

/** The agent's result: paused at 3000 ms, resumed at 3050 ms, verified. */
const agentResult: MigrationResult = {
  ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 2000),
  outcome: 'completed', switchover: 'converged', switchoverMs: 3000, resumeMs: 3050, endMs: 3200, totalTimeMs: 1200, downtimeMs: 50, memoryVerified: true, error: null,
};

function record(): TestbedRecord {
  const events: StreamEvent[] = [
    ev('switch', 'binding-added', 500, { mac: MAC, ip: '10.77.0.5', port: 'h1', vlan: 10 }),
    ev('switch', 'igmp-join', 600, { port: 'h1', group: GROUP, vlan: 10, mac: MAC }),
    ev('switch', 'source-guard-drop', 3051, { mac: MAC }), // after the resume: counted
    ev('switch', 'source-guard-drop', 2999, { mac: MAC }), // before the switchover: not
    ev('switch', 'binding-moved', 3058.5, { mac: MAC, ip: '10.77.0.5', from: 'h1', to: 'h2', vlan: 10, evidence: 'leaseactive' }),
    ev('switch', 'igmp-join', 3150, { port: 'h2', group: GROUP, vlan: 10, mac: MAC }),
    ev('switch', 'switch-stopped', 9999, { counters: { framesIn: 7 }, malformedCount: 0, ports: [{ role: 'host', ecp: { sent: 3, retransmits: 1, givenUp: 0, duplicates: 0 } }] }),
    ev('host:h1', 'round-end', 2500, {}), // not the switch's: ignored by the switch log
  ];
  // datagram k due at 100 + 10·k ms; received 0.2 ms after due, but those due in the VM's
  // pause (3000–3050) are read at the thaw (3085): stale, except the last (due 3040: 45 ms)
  const mc: LogLine[] = [];
  for (let k = 0; k < 1000; k++) {
    const due = 100 + 10 * k;
    if (due > 2990 && due < 3040) mc.push(line('multicast', 3085, { group: GROUP, seq: k })); // 55..85 ms late: stale
    else if (due === 3040) mc.push(line('multicast', 3085, { group: GROUP, seq: k })); // 45 ms late: kept
    else mc.push(line('multicast', due + 0.2, { group: GROUP, seq: k }));
  }
  // probe at 100/s from 0: echo k sent at 10·k ms, answered in 0.3 ms, except 2990–3100:
  // unanswered 2990..3030, answered late (stale) 3040..3070, answered in time from 3080
  const pr: LogLine[] = [];
  for (let k = 0; k < 1000; k++) {
    const t = 10 * k;
    pr.push(line('sent', t, { target: 'vm1', seq: k }));
    if (t >= 2990 && t <= 3030) continue;
    pr.push(line('reply', t >= 3040 && t <= 3070 ? 3130 : t + 0.3, { target: 'vm1', seq: k }));
  }
  return {
    originNs: O, endNs: at(10_000), migrations: [agentResult], events,
    vmLogs: new Map([['vm1', mc]]), probeLog: pr,
    sourceLogs: [[line('start', 100, { group: GROUP, rate: 100 })]],
    seed: 1, wallStart: 0,
  };
}

describe('the testbed result from a recorded run', () => {
  const r = testbedResult(S, record(), true);
  const m = r.migrations[0]!;

  it('keeps the agent’s memory figures and labels the run as the testbed’s, at page fidelity', () => {
    expect(r.engine).toBe('testbed');
    expect(r.fidelity).toBe('pages');
    expect(r.durationMs).toBe(10_000);
    expect(m).toMatchObject({ outcome: 'completed', switchover: 'converged', downtimeMs: 50, totalTimeMs: 1200, memoryVerified: true });
  });

  it('computes the rebind fields with the sim’s functions, relative to the resume', () => {
    expect(m.dhcpRebindMs).toBeCloseTo(8.5, 6); // 3058.5 − 3050
    expect(m.igmpRebindMs).toBeCloseTo(100, 6); // 3150 − 3050
    expect(m.sourceGuardDrops).toBe(1);
  });

  it('counts datagrams that waited in the frozen VM as lost', () => {
    // the last datagram in time before the switchover is due 2990 (seq 289, read 2990.2);
    // seqs 290..293 (due 3000..3030) are stale; seq 294 (due 3040, read 3085) is the first after
    expect(m.multicastLost).toBe(4);
    expect(m.multicastGapMs).toBeCloseTo(3085 - 2990.2, 6);
  });

  it('counts late echo replies as unanswered: the longest run is 2990..3070, 9 echoes = 90 ms', () => {
    expect(m.serviceInterruptionMs).toBe(90);
    const echoes = echoLog(record().probeLog!, O).answeredAt('vm1');
    expect(echoes.filter((e) => e.repliedAt === null)).toHaveLength(9);
    expect(STALE_NS).toBe(50 * ms);
  });

  it('places those intervals on the run clock as the sim does (networkTimes), and names the VM’s MAC', () => {
    // the one drop counted at 3051; the gap from the datagram read at 2990.2; the echoes unanswered from the one sent at 2990
    expect(m.networkTimes).toEqual({ sourceGuardFirstDropMs: 3051, sourceGuardLastDropMs: 3051, multicastGapStartMs: 2990.2, serviceInterruptionStartMs: 2990 });
    expect(r.network!.macs).toEqual({ vm1: MAC });
  });

  it('reports the switch’s counters and events in ms since the origin', () => {
    expect(r.network!.counters).toMatchObject({ framesIn: 7, malformedLogged: 0, 'ecp.sent': 3, 'ecp.retransmits': 1 });
    expect(r.network!.switch).toMatchObject({ vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query', igmpQueryIntervalMs: 125_000 });
    expect(r.network!.events.find((e) => e.kind === 'binding-moved')!.t).toBeCloseTo(3058.5, 6);
  });

  it('a migration nobody reported is failed with the reason; no network: the fields are null', () => {
    const rec = { ...record(), migrations: [{ error: 'orchestrator: the switch refused' }] };
    const r2 = testbedResult(S, rec, true);
    expect(r2.migrations[0]).toMatchObject({ outcome: 'failed', error: 'orchestrator: the switch refused', dhcpRebindMs: null, startMs: 2000 });
    const r3 = testbedResult(S, record(), false);
    expect(r3.network).toBeNull();
    expect(r3.migrations[0]!.dhcpRebindMs).toBeNull();
  });

  it('parses NDJSON logs, skipping what is not an event (a half-written last line)', () => {
    const p = parseLog('{"t":"5","kind":"a"}\n{"t":5,"kind":"b"}\n\n{"t":"7","kind":"c","x":1}\n{"t":"8","ki');
    expect(p.lines.map((l) => [l.t, l.kind])).toEqual([[5n, 'a'], [7n, 'c']]);
    expect(p.skipped).toBe(2);
  });

  it('the stream came back, the echoes were answered, the binding moved: nothing is a lower bound', () => {
    expect(m.lowerBounds).toEqual([]);
  });
});

describe('the testbed’s switchover reason (ext)', () => {
  it('is the agent’s: forced passes through', () => {
    const rec = { ...record(), migrations: [{ ...agentResult, switchover: 'forced' as const }] };
    expect(testbedResult(S, rec, true).migrations[0]!.switchover).toBe('forced');
  });

  it('an agent result without one (an older agent) says null, not a guess; so does one that never paused', () => {
    const { switchover: _, ...old } = agentResult;
    const r1 = testbedResult(S, { ...record(), migrations: [old as MigrationResult] }, true);
    expect(r1.migrations[0]!.switchover).toBeNull();
    const reverted = { ...agentResult, outcome: 'reverted' as const, switchover: 'converged' as const, switchoverMs: null, resumeMs: null, downtimeMs: null };
    expect(testbedResult(S, { ...record(), migrations: [reverted] }, true).migrations[0]!.switchover).toBeNull();
    expect(testbedResult(S, { ...record(), migrations: [{ error: 'x' }] }, true).migrations[0]!).toMatchObject({ switchover: null, lowerBounds: [] });
  });
});

describe('a testbed run that ends in an outage (ext)', () => {
  // as record(), but nothing comes back after the switchover (3000): no datagram reaches the
  // VM, no echo is answered, the binding never moves; the run ends at 10 000 ms
  function outage(): TestbedRecord {
    const base = record();
    const events = base.events.filter((e) => (e.kind !== 'binding-moved' && e.kind !== 'igmp-join') || e.data.port === 'h1');
    for (let t = 3055; t < 10_000; t += 10) events.push(ev('switch', 'source-guard-drop', t, { mac: MAC }));
    const mc = base.vmLogs.get('vm1')!.filter((l) => l.t <= at(3000));
    const pr = base.probeLog!.filter((l) => l.kind === 'sent' || l.t < at(2990));
    // the source: datagram k due at 100 + 10·k ms, 990 of them (due 100 … 9990) by its stop
    const src = [line('start', 100, { group: GROUP, rate: 100 }), line('stop', 10_010, { sent: 990 })];
    return { ...base, events, vmLogs: new Map([['vm1', mc]]), probeLog: pr, sourceLogs: [src] };
  }
  const m = testbedResult(S, outage(), true).migrations[0]!;

  it('names what was still going on at the end; the rebinds that never happened are null', () => {
    expect(m.dhcpRebindMs).toBeNull();
    expect(m.igmpRebindMs).toBeNull();
    expect(m.lowerBounds).toEqual(['sourceGuardDrops', 'multicastGapMs', 'multicastLost', 'serviceInterruptionMs']);
  });

  it('counts the datagrams sent after the last one received, to the end less 50 ms in flight', () => {
    // last received: seq 289 (due 2990, read 2990.2); sent before 9950: due ≤ 9940, seq ≤ 984
    expect(m.multicastLost).toBe(984 - 289);
    expect(Math.abs(m.multicastLost! - (100 * (10_000 - 50 - 2990.2)) / 1000)).toBeLessThanOrEqual(1);
    expect(m.multicastGapMs).toBeCloseTo(10_000 - 2990.2, 6);
  });

  it('the echoes unanswered from 2990 to the end, less those in flight: 2990 … 9940 = 696 echoes', () => {
    expect(m.serviceInterruptionMs).toBe(6960);
    expect(m.sourceGuardDrops).toBe(696); // record()'s 3051, and 3055 … 9995
  });
});

describe('what a multicast source sent, from its log', () => {
  const start = line('start', 100, { group: GROUP, rate: 100 });
  it('the last seq due before t; none before its start; null for a group no source sends', () => {
    const sent = sentBefore([[start, line('stop', 10_010, { sent: 990 })]], O);
    expect(sent(GROUP, 9950e6)).toBe(984);
    expect(sent(GROUP, 100e6)).toBe(-1);
    expect(sent(GROUP, 100.5e6)).toBe(0);
    expect(sent('239.9.9.9', 9950e6)).toBeNull();
  });

  it('no more than its stop line says it sent; without one, no more than its sent lines show', () => {
    expect(sentBefore([[start, line('stop', 5000, { sent: 300 })]], O)(GROUP, 9950e6)).toBe(299);
    const logged = [start, line('sent', 100, { seq: 0 }), line('sent', 1100, { seq: 100 }), line('sent', 2100, { seq: 200 })];
    expect(sentBefore([logged], O)(GROUP, 9950e6)).toBe(200);
    expect(sentBefore([logged], O)(GROUP, 2000e6)).toBe(100);
  });
});
