// Faults in the sim: what each does to the migrations, the VMs and the network, against the
// timers that bound it (keepalive, TCP's backoff, the lease, RFC 3376's startup queries).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../model/scenario/load.js';
import { runScenario } from './engine.js';

const s = 1e3; // ms

const memoryOnly = (migrations: string, faults: string, extra = '') => parseScenario(`name: f
duration: 40s
hosts: [h1, h2, h3]
network:
  migrationLink: { bandwidth: 1Gbit/s, latency: 100us }
  keepalive: { interval: 1s, count: 4 }
${extra}vms:
  - { name: vm1, host: h1, memory: 256MiB, workload: { kind: hotset, writeRate: 20000/s, hotset: 16MiB } }
  - { name: vm2, host: h3, memory: 64MiB }
migrations:
${migrations}faults:
${faults}`, 'f.yaml');

describe('host crashes', () => {
  it("a destination crash reverts pre-copy when keepalive gives up (interval × (count + 1)); the VM stays and can move again", () => {
    const r = runScenario(memoryOnly('  - { vm: vm1, to: h2, at: 1s }\n  - { vm: vm1, to: h3, at: 10s }\n', '  - { at: 1.5s, kind: host-crash, host: h2 }\n'));
    const [first, retry] = r.migrations;
    expect(first).toMatchObject({ outcome: 'reverted', vmLost: false, gaveUpMs: 1.5 * s + 5 * s, endMs: null, downtimeMs: null });
    // 0.5 s of the link before the crash
    expect(first!.bytesSent).toBe(62_500_000);
    expect(retry).toMatchObject({ outcome: 'completed', from: 'h1', to: 'h3', memoryVerified: true });
    expect(r.faults).toEqual([expect.objectContaining({ atMs: 1500, kind: 'host-crash', target: 'h2', scheduled: true, lost: [] })]);
  });

  it('a source crash loses the migrating VM and any VM on it; their later migrations fail as lost', () => {
    const r = runScenario(memoryOnly('  - { vm: vm1, to: h2, at: 1s }\n  - { vm: vm1, to: h3, at: 10s }\n  - { vm: vm2, to: h2, at: 10s }\n',
      '  - { at: 1.5s, kind: host-crash, host: h1 }\n  - { at: 2s, kind: host-crash, host: h3 }\n'));
    expect(r.migrations[0]).toMatchObject({ outcome: 'failed', vmLost: true, gaveUpMs: 1500 });
    expect(r.migrations[1]).toMatchObject({ outcome: 'failed', vmLost: false, error: 'vm1 was lost before this migration should start' });
    expect(r.migrations[2]).toMatchObject({ outcome: 'failed', error: 'vm2 was lost before this migration should start' });
    expect(r.faults.map((f) => f.lost)).toEqual([['vm1'], ['vm2']]);
  });

  it('a migration to a host that crashed earlier fails at its start, and the VM stays where it is', () => {
    const r = runScenario(memoryOnly('  - { vm: vm1, to: h2, at: 5s }\n  - { vm: vm1, to: h3, at: 6s }\n', '  - { at: 1s, kind: host-crash, host: h2 }\n'));
    expect(r.migrations[0]).toMatchObject({ outcome: 'failed', vmLost: false, error: 'h2 is down (crashed at 1s): the destination cannot be reached' });
    expect(r.migrations[1]).toMatchObject({ outcome: 'completed', from: 'h1', memoryVerified: true });
  });
});

describe('cancel and timeout', () => {
  it('a cancel with nothing migrating has no effect and says so', () => {
    const r = runScenario(memoryOnly('  - { vm: vm1, to: h2, at: 10s }\n', '  - { at: 1s, kind: cancel, vm: vm1 }\n'));
    expect(r.faults[0]!.effect).toBe('no effect: vm1 was not migrating');
    expect(r.migrations[0]!.outcome).toBe('completed');
  });

  it("a timeout that falls after post-copy's switchover does nothing: the destination already runs the VM", () => {
    const r = runScenario(memoryOnly('  - { vm: vm1, to: h2, at: 1s, mode: postcopy, timeout: 1s }\n', '  []\n'));
    // 256 MiB at 1 Gbit/s: the push runs past the 1 s timeout
    expect(r.migrations[0]).toMatchObject({ outcome: 'completed', memoryVerified: true });
    expect(r.migrations[0]!.totalTimeMs!).toBeGreaterThan(2 * s);
  });
});

describe('the shipped fault scenarios (scenarios/faults)', () => {
  const dir = 'scenarios/faults';
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const results = new Map(files.map((f) => [f, runScenario(loadScenario(join(dir, f)))]));
  const events = (f: string) => results.get(f)!.network!.events;

  it.each(files)('%s meets every expect: bound', (f) => {
    const r = results.get(f)!;
    expect(r.expectations.length).toBeGreaterThan(0);
    expect(r.expectations.filter((e) => !e.ok)).toEqual([]);
    // each injects a fault, or gives a migration a timeout
    expect(r.faults.length > 0 || loadScenario(join(dir, f)).migrations.some((m) => m.timeoutNs !== null)).toBe(true);
  });

  it('a restarted switch says what it restored: nothing without a database, the binding with one', () => {
    expect(events('switch-restart.yaml').filter((e) => e.kind === 'switch-restarted')).toEqual([{ t: 9500, kind: 'switch-restarted', downMs: 500, bindingsRestored: 0 }]);
    expect(events('switch-restart-persistent.yaml').filter((e) => e.kind === 'switch-restarted')).toEqual([{ t: 9500, kind: 'switch-restarted', downMs: 500, bindingsRestored: 1 }]);
  });

  it("a restarted switch knows no VSI until the station's keep-alive associates the VM again", () => {
    const lan = parseScenario(`name: restart
duration: 30s
hosts: [h1, h2]
dhcp: { subnet: 10.77.0.0/24, leaseTime: 4m }
probe: { rate: 100/s }
switch: { vdp: extended, bindingDatabase: persistent }
vms: [{ name: vm1, host: h1, memory: 64MiB }]
faults: [{ at: 5s, kind: switch-restart, downFor: 500ms }]
`, 'restart.yaml');
    const r = runScenario(lan);
    // lldpad's keep-alive: the request again every 10 µs · 2^20 = 10.486 s after its answer (≈ 0 s here)
    const again = r.network!.events.find((e) => e.kind === 'vdp-request' && e.t > 5500 && e.port === 'h1')!;
    expect(again).toMatchObject({ mode: 'assoc' });
    expect(again.t).toBeGreaterThan(10_000);
    expect(again.t).toBeLessThan(10_600);
    expect(r.network!.events.find((e) => e.kind === 'vdp-response' && e.t >= again.t)).toMatchObject({ port: 'h1', mode: 'assoc', error: 0 });
    // the binding came back from the database: the VM's traffic passes IP source guard after that
    expect(r.network!.counters.sourceGuardDrops).toBe(0);
  });

  it('without an answer to leasequery the fallback sends the assistance request when it gives up, 3 s after the resume', () => {
    const fb = events('dhcp-down-fallback.yaml');
    const resume = results.get('dhcp-down-fallback.yaml')!.migrations[0]!.resumeMs!;
    const gaveUp = fb.find((e) => e.kind === 'leasequery-gave-up')!;
    expect(gaveUp.t).toBeCloseTo(resume + 3000, 0);
    expect(fb.find((e) => e.kind === 'assist-sent')).toMatchObject({ t: gaveUp.t, cause: 'fallback', port: 'h2' });
    expect(events('dhcp-down-no-fallback.yaml').some((e) => e.kind === 'assist-sent')).toBe(false);
  });

  it("a spoofed associate is refused and vm1's binding never goes to the spoofer's port", () => {
    const ev = events('spoofed-associate.yaml');
    expect(ev.filter((e) => e.kind === 'refused')).toEqual([expect.objectContaining({ port: 'h3', what: 'vdp', reason: 'takeover-not-authorised', mac: '02:00:00:00:01:01' })]);
    expect(ev.filter((e) => e.kind === 'binding-moved').map((e) => e.to)).toEqual(['h2']);
  });
});

describe('a switch down while the VMs boot', () => {
  it('leaves a VM without a lease: its service interruption is null with the reason, not a crash', () => {
    // found by the validate ⇒ run property: the switch is gone from 0 to 113 ms, over the boot at 10 ms
    const r = runScenario(parseScenario(`name: boot
duration: 5s
hosts: [h1, h2]
dhcp: { subnet: 10.77.0.0/24, leaseTime: 60s }
probe: { rate: 1/s }
vms: [{ name: vm1, host: h1, memory: 1MiB }]
migrations: [{ vm: vm1, to: h2, at: 0ms }]
faults: [{ at: 0ms, kind: switch-restart, downFor: 113ms }]
`, 'boot.yaml'));
    const m = r.migrations[0]!;
    expect(m.outcome).toBe('completed');
    expect(m.serviceInterruptionMs).toBeNull();
    expect(m.unmeasured.serviceInterruptionMs).toBe('vm1 never got a DHCP lease, so the probe never had its address');
  });
});
