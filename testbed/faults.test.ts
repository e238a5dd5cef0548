// The faults of a testbed run in its result (testbed/faults.ts), on a hand-built record: a
// switch that dies, a host agent that dies with its container, a port that loses its link,
// the control bus lost. Which fields go null, with which reason, is worked out from the
// record's times below.

import { describe, expect, it } from 'vitest';
import { failedMigration, type MigrationResult } from '../model/result/format.js';
import type { StreamEvent } from '../hosts/control/event-stream.js';
import { migration, s, scenario, vm } from '../model/scenario/fixture.js';
import { NETWORK_FIELDS, type Death } from './faults.js';
import { testbedResult, type TestbedRecord } from './result.js';

const O = 1_000_000_000_000n;
const at = (ms: number): bigint => O + BigInt(Math.round(ms * 1e6));
const MAC = '02:00:00:00:01:01';

const S = scenario({
  name: 'tbf', durationNs: 10 * s,
  dhcp: { subnet: '10.77.0.0/24', leaseTimeNs: 600 * s },
  probe: { rate: 100 },
  vms: [vm({ mac: MAC, vlan: 10 })],
  migrations: [migration({ atNs: 2 * s, from: 'h1', to: 'h2' })],
});

/** Completed: paused at 3000 ms, resumed at 3050 ms. */
const done: MigrationResult = {
  ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 2000),
  outcome: 'completed', switchover: 'converged', switchoverMs: 3000, resumeMs: 3050, endMs: 3200, totalTimeMs: 1200, downtimeMs: 50, memoryVerified: true, error: null,
};

const snapshot: StreamEvent = { id: '9-0', t: at(9999), source: 'switch', kind: 'switch-stopped', seq: 9, data: { kind: 'switch-stopped', counters: { framesIn: 7 }, ports: [] } };

function record(over: Partial<TestbedRecord>): TestbedRecord {
  return {
    originNs: O, endNs: at(10_000), migrations: [done], events: [snapshot], vmLogs: new Map([['vm1', []]]), probeLog: [], sourceLogs: [], seed: 1, wallStart: 0,
    faults: { deaths: [], busLost: null }, ...over,
  };
}

const death = (component: string, ms: number, container: string | null = null): Death => ({ component, label: component.replace(':', ' '), atNs: at(ms), code: 137, container });

describe('faults in the testbed result', () => {
  it('none: empty faults, the counters whole', () => {
    const r = testbedResult(S, record({}), true);
    expect(r.faults).toEqual([]);
    expect(r.network!.countersUnmeasured).toBeNull();
    expect(r.network!.counters.framesIn).toBe(7);
    expect(r.migrations[0]!.unmeasured).toEqual({});
  });

  it('the switch died inside the move window (2.5 s < 10 s): every network field null with the reason; counters empty, said why', () => {
    const r = testbedResult(S, record({ events: [], faults: { deaths: [death('switch', 2500)], busLost: null } }), true);
    const m = r.migrations[0]!;
    for (const f of NETWORK_FIELDS) {
      expect(m[f], f).toBeNull();
      expect(m.unmeasured[f], f).toBe('the switch process died at 2.50 s');
    }
    expect(m.outcome).toBe('completed');
    expect(r.faults).toEqual([{ atMs: 2500, kind: 'component-died', target: 'switch', scheduled: false, lost: [], effect: expect.stringMatching(/^the switch process died \(exit 137\)/) }]);
    expect(r.network!.counters).toEqual({});
    expect(r.network!.countersUnmeasured).toMatch(/died at 2\.50 s/);
  });

  it('a field made null takes its instants (networkTimes) with it; the others keep theirs', () => {
    // echoes every 10 ms from 0, those sent 2990..3030 unanswered; one source-guard drop after the resume
    const probeLog = Array.from({ length: 500 }, (_, k) => k * 10).flatMap((t) => [
      { t: at(t), kind: 'sent', target: 'vm1', seq: t / 10 },
      ...(t >= 2990 && t <= 3030 ? [] : [{ t: at(t + 0.3), kind: 'reply', target: 'vm1', seq: t / 10 }]),
    ]);
    const drop: StreamEvent = { id: '4-0', t: at(3051), source: 'switch', kind: 'source-guard-drop', seq: 4, data: { kind: 'source-guard-drop', mac: MAC } };
    const alive = testbedResult(S, record({ events: [drop, snapshot], probeLog }), true).migrations[0]!;
    expect(alive.networkTimes).toMatchObject({ sourceGuardFirstDropMs: 3051, serviceInterruptionStartMs: 2990 });
    const r = testbedResult(S, record({ events: [drop, snapshot], probeLog, faults: { deaths: [death('probe', 4000)], busLost: null } }), true);
    expect(r.migrations[0]!.serviceInterruptionMs).toBeNull();
    expect(r.migrations[0]!.networkTimes).toMatchObject({ sourceGuardFirstDropMs: 3051, sourceGuardLastDropMs: 3051, serviceInterruptionStartMs: null });
  });

  it('a switch snapshot missing without a fault: counters empty, not zeros, and said why', () => {
    const r = testbedResult(S, record({ events: [] }), true);
    expect(r.network!.counters).toEqual({});
    expect(r.network!.countersUnmeasured).toMatch(/never reported its final counters/);
  });

  it("the destination's container died before the resume: named as the container; the VM, on the source then, is not lost", () => {
    const reverted: MigrationResult = { ...failedMigration('vm1', 'h1', 'h2', 'precopy', 'connection reset', 2000), outcome: 'reverted' };
    const portDown: StreamEvent = { id: '5-0', t: at(2600), source: 'switch', kind: 'port-down', seq: 5, data: { kind: 'port-down', port: 'h2', link: 'sl-h2', reason: 'vanished' } };
    const r = testbedResult(S, record({ migrations: [reverted], events: [snapshot, portDown], faults: { deaths: [death('agent:h2', 2500, 'migsim-host-h2')], busLost: null } }), true);
    expect(r.faults.map((f) => [f.kind, f.target, f.atMs, f.lost])).toEqual([
      ['component-died', 'container:migsim-host-h2', 2500, []],
      ['port-down', 'h2', 2600, []],
    ]);
    expect(r.migrations[0]!.vmLost).toBe(false);
  });

  it('the agent holding the VM died after it arrived (4 s > resume 3.05 s): the VM is lost with it', () => {
    const r = testbedResult(S, record({ faults: { deaths: [death('agent:h2', 4000)], busLost: null } }), true);
    expect(r.faults[0]!.lost).toEqual(['vm1']);
    expect(r.migrations[0]!.vmLost).toBe(true);
    expect(r.migrations[0]!.unmeasured.serviceInterruptionMs).toBe('the agent h2 process died at 4.00 s');
  });

  it('the control bus lost at 2.5 s: the unreported migration failed, its measurements null with the reason; the fault at the last answer', () => {
    const r = testbedResult(S, record({ migrations: [{ error: 'orchestrator: the event follower stopped' }], events: [], faults: { deaths: [], busLost: { lastAnswerNs: at(2500), detectedNs: at(7500) } } }), true);
    const m = r.migrations[0]!;
    expect(m.outcome).toBe('failed');
    expect(m.error).toBe('the control bus (Redis) was lost at 2.50 s before the source host agent reported this migration');
    for (const f of ['downtimeMs', 'totalTimeMs', 'memoryVerified', 'pagesSent', ...NETWORK_FIELDS]) expect(m.unmeasured[f], f).toBe(m.error);
    expect(r.faults).toEqual([expect.objectContaining({ atMs: 2500, kind: 'control-bus-lost', target: 'redis', scheduled: false })]);
    expect(r.network!.countersUnmeasured).toMatch(/control bus \(Redis\) was lost at 2\.50 s/);
  });
});

describe('scheduled faults in the result', () => {
  const crashFault = { atMs: 5000, kind: 'host-crash', target: 'h2', scheduled: true, effect: 'h2 stopped for good; lost: vm1', lost: ['vm1'] };

  it('a host the scenario crashed: its agent, container and port ending after the crash are not observed faults; the lost VM\'s network fields are null with the crash as reason', () => {
    const portDown: StreamEvent = { id: '8-0', t: at(5100), source: 'switch', kind: 'port-down', seq: 8, data: { port: 'h2', link: 'sl-h2', reason: 'vanished' } };
    const r = testbedResult(S, record({
      events: [portDown, snapshot],
      faults: { deaths: [death('agent:h2', 5200, 'migsim-host-h2')], busLost: null, crashes: [{ host: 'h2', atNs: at(5000), lost: ['vm1'] }] },
      scheduledFaults: [crashFault],
    }), true);
    expect(r.faults).toEqual([crashFault]);
    const m = r.migrations[0]!;
    for (const f of NETWORK_FIELDS) {
      expect(m[f], f).toBeNull();
      expect(m.unmeasured[f], f).toBe('h2 crashed at 5.00 s (scenario fault) with the VM');
    }
  });

  it('the same death before the crash, or of another host, is still an observed fault', () => {
    const r = testbedResult(S, record({
      faults: { deaths: [death('agent:h2', 4000), death('agent:h1', 6000)], busLost: null, crashes: [{ host: 'h2', atNs: at(5000), lost: [] }] },
      scheduledFaults: [crashFault],
    }), true);
    expect(r.faults.filter((f) => !f.scheduled).map((f) => f.target)).toEqual(['agent:h2', 'agent:h1']);
  });

  it("a switch-restart: the counters are the killed switch's (read before the kill) plus the last one's; one unread makes them unmeasured", () => {
    const killed = (counters: Record<string, number> | null): StreamEvent => ({
      id: '5-0', t: at(3000), source: 'orchestrator', kind: 'switch-killed', seq: 5,
      data: { stats: counters === null ? null : { counters, ports: [{ ecp: { sent: 2 } }] } },
    });
    const last: StreamEvent = { ...snapshot, data: { kind: 'switch-stopped', counters: { framesIn: 7, sourceGuardDrops: 1 }, ports: [{ ecp: { sent: 3 } }] } };
    const r = testbedResult(S, record({ events: [killed({ framesIn: 5, sourceGuardDrops: 4 }), last] }), true);
    expect(r.network!.counters).toMatchObject({ framesIn: 12, sourceGuardDrops: 5, 'ecp.sent': 5 });
    expect(r.network!.countersUnmeasured).toBeNull();
    const lost = testbedResult(S, record({ events: [killed(null), last] }), true);
    expect(lost.network!.counters).toEqual({});
    expect(lost.network!.countersUnmeasured).toMatch(/switch-restart ended could not be read/);
  });
});
