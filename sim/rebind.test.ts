// The rebind comparison matrix against expectations computed from each scenario's own
// timers — T1, the query interval and response window, link latencies — not from the
// program's output.
import { describe, expect, it } from 'vitest';
import { runScenario } from './engine.js';
import { loadScenario } from '../model/scenario/load.js';
import type { RunResult } from '../model/result/format.js';

const run = (name: string) => {
  const s = loadScenario(`scenarios/rebind/${name}.yaml`);
  const r = runScenario(s);
  return { s, r, m: r.migrations[0]! };
};

/** When the VM got its lease: the switch's first binding event for it. */
function leasedAtMs(r: RunResult): number {
  const e = r.network!.events.find((x) => x.kind === 'binding-added');
  return e!.t;
}

describe('prior art (standard VDP): what a migrated VM suffers', () => {
  for (const name of ['standard-none-none', 'standard-leasequery-query', 'standard-assist-query', 'extended-none-none']) {
    it(`${name}: source guard drops its traffic until it renews at T1; multicast stops until the next general query`, () => {
      const { s, r, m } = run(name);
      const lease = s.dhcp!.leaseTimeNs / 1e6;
      const latency = s.network.accessLink.latencyNs / 1e6;
      // the renewal goes out at T1 = lease/2 after the lease; its REQUEST and ACK cross two links each way
      const t1 = leasedAtMs(r) + lease / 2;
      expect(m.dhcpRebindMs!).toBeGreaterThanOrEqual(t1 - m.resumeMs!);
      expect(m.dhcpRebindMs!).toBeLessThan(t1 - m.resumeMs! + 4 * latency + 1);
      // every echo reply until then is dropped: probe rate × the time unbound
      const probeRate = s.probe!.rate;
      expect(m.sourceGuardDrops!).toBeGreaterThan(0.95 * probeRate * (m.dhcpRebindMs! / 1000));
      expect(m.serviceInterruptionMs!).toBeGreaterThan(m.dhcpRebindMs! - 1000 / probeRate);
      // the next general query after the resume, answered within its 10 s window
      const qi = s.switch!.igmpQueryIntervalNs / 1e6;
      const nextQuery = Math.ceil(m.resumeMs! / qi) * qi;
      expect(m.igmpRebindMs!).toBeGreaterThanOrEqual(nextQuery - m.resumeMs!);
      expect(m.igmpRebindMs!).toBeLessThanOrEqual(nextQuery - m.resumeMs! + 10_000 + 1);
      expect(m.multicastGapMs!).toBeGreaterThan(m.igmpRebindMs!);
      expect(m.multicastLost!).toBeGreaterThan(0.95 * s.multicastSources[0]!.rate * (m.igmpRebindMs! / 1000));
    });
  }
});

describe('the guest announcing itself on resume (announceOnResume)', () => {
  it('garp+igmp with the prior-art switch: the guest re-reports its groups at once, but source guard still waits for T1', () => {
    const base = loadScenario('scenarios/rebind/standard-none-none.yaml');
    const s = { ...base, vms: base.vms.map((v) => ({ ...v, announceOnResume: 'garp+igmp' as const })) };
    const m = runScenario(s).migrations[0]!;
    const hop = s.network.accessLink.latencyNs / 1e6;
    // NETDEV_RESEND_IGMP: one report per group immediately, one link to the switch
    expect(m.igmpRebindMs!).toBeLessThanOrEqual(2 * hop);
    expect(m.dhcpRebindMs!).toBeGreaterThan(100_000);
    const silent = runScenario(base).migrations[0]!;
    expect(silent.igmpRebindMs!).toBeGreaterThan(40_000);
  });
});

describe('extended VDP with the M-bit', () => {
  it('leasequery: the binding moves one switch–server round trip after the associate', () => {
    const { s, r, m } = run('extended-leasequery-none');
    const hop = s.network.accessLink.latencyNs / 1e6;
    const processing = 0.05; // the DHCP server model's per-message time
    // associate host→switch, query switch→server, the server's ARP for giaddr and its answer, the reply server→switch
    const expected = 5 * hop + processing;
    expect(m.dhcpRebindMs!).toBeGreaterThanOrEqual(expected);
    expect(m.dhcpRebindMs!).toBeLessThan(expected + 0.01); // + frames' serialization at 10 Gbit/s
    expect(m.sourceGuardDrops).toBe(0);
    expect(m.serviceInterruptionMs!).toBeLessThanOrEqual(m.downtimeMs! + 1000 / s.probe!.rate);
    const kinds = r.network!.events.map((e) => e.kind);
    expect(kinds).toContain('leasequery-sent');
    expect(r.network!.events.find((e) => e.kind === 'binding-moved')).toMatchObject({ evidence: 'leaseactive', from: 'h1', to: 'h2' });
  });

  it('assist: the VM re-requests on the station’s word and the snooped ACK moves the binding, within a millisecond', () => {
    const { r, m } = run('extended-assist-none');
    expect(m.dhcpRebindMs!).toBeLessThan(1);
    expect(m.sourceGuardDrops).toBe(0);
    expect(r.network!.events.find((e) => e.kind === 'binding-moved')).toMatchObject({ evidence: 'ack', to: 'h2' });
    expect(r.network!.events.some((e) => e.kind === 'leasequery-sent')).toBe(false);
  });

  it('query: multicast resumes within the query’s max response time of the resume', () => {
    const { s, r, m } = run('extended-leasequery-query');
    const maxResp = r.network!.switch.rebindQueryMaxRespMs;
    const hop = s.network.accessLink.latencyNs / 1e6;
    expect(maxResp).toBe(100);
    expect(m.igmpRebindMs!).toBeLessThanOrEqual(maxResp + 3 * hop);
    const interval = 1000 / s.multicastSources[0]!.rate;
    expect(m.multicastGapMs!).toBeLessThanOrEqual(m.downtimeMs! + maxResp + 2 * interval);
  });

  it('every cell of the matrix is deterministic for its seed', () => {
    const s = loadScenario('scenarios/rebind/extended-assist-query.yaml');
    const strip = (x: RunResult) => JSON.stringify({ ...x, wallClock: null });
    expect(strip(runScenario(s))).toBe(strip(runScenario(s)));
  });
});
