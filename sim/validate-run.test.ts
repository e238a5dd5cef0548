// Property: whatever the loader accepts, the sim runs — random well-formed scenarios, faults
// included, either run or end with an explained outcome; never a refusal `validate` did not
// give (exit 2), never an internal error (exit 70); and what a fault did is consistent.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTCOMES } from '../model/scenario/expectable.js';
import { ScenarioError } from '../model/scenario/errors.js';
import { parseScenario } from '../model/scenario/load.js';
import { runScenario } from './engine.js';

const mib = fc.integer({ min: 1, max: 192 });
const rate = fc.integer({ min: 1, max: 400_000 });
const workload = fc.oneof(
  fc.constant('{ kind: idle }'),
  rate.map((r) => `{ kind: uniform, writeRate: ${r}/s }`),
  fc.tuple(rate, fc.integer({ min: 1, max: 8 })).map(([r, h]) => `{ kind: hotset, writeRate: ${r}/s, hotset: ${h}MiB }`),
  fc.tuple(rate, fc.double({ min: 0.1, max: 3, noNaN: true })).map(([r, k]) => `{ kind: zipf, writeRate: ${r}/s, skew: ${k.toFixed(2)} }`),
  rate.map((r) => `{ kind: sequential, writeRate: ${r}/s }`),
);
const mode = fc.constantFrom('precopy', 'stopcopy', 'postcopy');
const bandwidth = fc.constantFrom('100Mbit/s', '1Gbit/s', '10Gbit/s', '200MB/s');

const scenarioText = fc
  .record({
    hosts: fc.integer({ min: 2, max: 4 }),
    vms: fc.array(fc.record({ mib, workload, host: fc.nat() }), { minLength: 1, maxLength: 3 }),
    migrations: fc.array(
      fc.record({
        vm: fc.nat(),
        to: fc.nat(),
        atMs: fc.integer({ min: 0, max: 3000 }),
        mode,
        downtimeMs: fc.integer({ min: 1, max: 500 }),
        maxRounds: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        autoConverge: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    fidelity: fc.constantFrom('pages', 'fluid'),
    bandwidth,
    network: fc.option(
      fc.record({
        durationS: fc.option(fc.integer({ min: 5, max: 30 }), { nil: undefined, freq: 8 }),
        dhcp: fc.boolean().chain((b) => (b ? fc.constant(true) : fc.boolean())).chain((b) => (b ? fc.constant(true) : fc.boolean())),
        vdp: fc.constantFrom('standard', 'extended'),
        dhcpRebind: fc.constantFrom('none', 'leasequery', 'assist'),
        igmpRebind: fc.constantFrom('none', 'query'),
        probe: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        source: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        leaseS: fc.integer({ min: 60, max: 3600 }),
      }),
      { nil: undefined },
    ),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    faults: fc.array(
      fc.record({
        kind: fc.constantFrom('host-crash', 'link-down', 'link-degrade', 'dhcp-down', 'switch-restart', 'cancel', 'spoofed-associate'),
        atMs: fc.integer({ min: 0, max: 6000 }),
        forMs: fc.integer({ min: 1, max: 3000 }),
        host: fc.nat(),
        vm: fc.nat(),
        lossPct: fc.integer({ min: 0, max: 20 }),
      }),
      { maxLength: 3 },
    ),
    timeoutMs: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    keepaliveS: fc.integer({ min: 1, max: 5 }),
  })
  .map((r) => {
    const hosts = Array.from({ length: r.hosts }, (_, i) => `h${i + 1}`);
    const net = r.network;
    const lines = [`name: prop`, `seed: ${r.seed}`, `fidelity: ${r.fidelity}`, `hosts: [${hosts.join(', ')}]`, `network: { migrationLink: { bandwidth: ${r.bandwidth} }, keepalive: { interval: ${r.keepaliveS}s, count: 1 } }`];
    if (net) {
      if (net.durationS !== undefined) lines.push(`duration: ${net.durationS}s`);
      lines.push(`switch: { vdp: ${net.vdp}, dhcpRebind: ${net.dhcpRebind}, igmpRebind: ${net.igmpRebind} }`);
      if (net.dhcp) lines.push(`dhcp: { subnet: 10.77.0.0/24, leaseTime: ${net.leaseS}s }`);
      if (net.probe !== undefined) lines.push(`probe: { rate: ${net.probe}/s }`);
      if (net.source !== undefined) lines.push(`multicastSources: [{ group: 239.1.1.1, rate: ${net.source}/s, size: 200B }]`);
    }
    lines.push('vms:');
    r.vms.forEach((v, i) => {
      const group = net?.source !== undefined ? ', multicast: [239.1.1.1]' : '';
      lines.push(`  - { name: vm${i + 1}, host: ${hosts[v.host % r.hosts]}, memory: ${v.mib}MiB, mac: 02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}, workload: ${v.workload}${group} }`);
    });
    if (r.migrations.length > 0) lines.push('migrations:');
    // mostly well-formed: in time order, each to a host the VM is not on (a few still collide)
    const at = r.vms.map((v) => v.host % r.hosts);
    let t = 0;
    for (const m of r.migrations) {
      const vm = m.vm % r.vms.length;
      t += m.atMs;
      const to = (at[vm]! + 1 + (m.to % (r.hosts - 1))) % r.hosts;
      at[vm] = to;
      m.to = to;
      m.atMs = t;
      const extra = m.mode === 'postcopy' ? '' : `, downtimeLimit: ${m.downtimeMs}ms${m.maxRounds === undefined ? '' : `, maxRounds: ${m.maxRounds}`}${m.autoConverge ? ', autoConverge: true' : ''}`;
      const timeout = r.timeoutMs === undefined ? '' : `, timeout: ${r.timeoutMs}ms`;
      lines.push(`  - { vm: vm${vm + 1}, to: ${hosts[m.to % r.hosts]}, at: ${m.atMs}ms, mode: ${m.mode}${extra}${timeout} }`);
    }
    // faults: some the loader refuses (a dhcp-down without dhcp, a cancel of a VM never moved …)
    if (r.faults.length > 0) lines.push('faults:');
    for (const f of r.faults) {
      const host = hosts[f.host % r.hosts];
      const vm = `vm${(f.vm % r.vms.length) + 1}`;
      const what = {
        'host-crash': `host: ${host}`,
        'link-down': `host: ${host}, for: ${f.forMs}ms`,
        'link-degrade': `host: ${host}, for: ${f.forMs}ms, bandwidth: 50Mbit/s, loss: ${f.lossPct}%`,
        'dhcp-down': `for: ${f.forMs}ms`,
        'switch-restart': `downFor: ${f.forMs}ms`,
        cancel: `vm: ${vm}`,
        'spoofed-associate': `host: ${host}, vm: ${vm}, vsiType: { id: 7 }`,
      }[f.kind];
      lines.push(`  - { at: ${f.atMs}ms, kind: ${f.kind}, ${what} }`);
    }
    return lines.join('\n') + '\n';
  });

describe('validate ⇒ run', () => {
  it('a scenario the loader accepts runs to an explained outcome, never a refusal or a crash', () => {
    let accepted = 0;
    fc.assert(
      fc.property(scenarioText, (text) => {
        let s;
        try {
          s = parseScenario(text, 'prop.yaml');
        } catch (e) {
          if (e instanceof ScenarioError) return; // refused up front, with its reasons: fine
          throw e;
        }
        accepted++;
        const r = runScenario(s); // an UnsupportedError or any other throw fails the property
        expect(r.migrations).toHaveLength(s.migrations.length);
        for (const m of r.migrations) {
          expect(OUTCOMES).toContain(m.outcome);
          if (m.outcome !== 'completed') expect(m.error, JSON.stringify(m)).toEqual(expect.any(String));
          // a fault's outcome is one of the rules of docs/faults.md, never a mixture
          if (m.vmLost) expect(m.outcome).toBe('failed');
          if (m.outcome === 'reverted') expect([m.endMs, m.downtimeMs, m.vmLost]).toEqual([null, null, false]);
          if (m.outcome === 'reverted') expect(m.gaveUpMs).toEqual(expect.any(Number));
          if (m.outcome === 'completed') expect([m.gaveUpMs, m.vmLost]).toEqual([null, false]);
          if (m.memoryVerified === false) expect(m.outcome).toBe('failed');
          expect(Number.isInteger(m.bytesSent) && m.bytesSent >= 0 && Number.isInteger(m.pagesSent) && m.pagesSent >= 0).toBe(true);
        }
        // a VM lost stays lost: none of its later migrations completes
        const lostAt = new Map<string, number>();
        for (const f of r.faults) for (const vm of f.lost) lostAt.set(vm, Math.min(lostAt.get(vm) ?? Infinity, f.atMs ?? 0));
        r.migrations.forEach((m) => {
          const at = lostAt.get(m.vm);
          if (at !== undefined && m.startMs > at) expect(m.outcome, JSON.stringify(m)).toBe('failed');
        });
        // every scheduled fault is reported, once, in time order
        expect(r.faults.filter((f) => f.scheduled)).toHaveLength(s.faults.length);
        const times = r.faults.map((f) => f.atMs ?? 0);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }),
      { numRuns: 80 },
    );
    expect(accepted).toBeGreaterThan(20); // the generator mostly makes scenarios the loader takes
  });
});
