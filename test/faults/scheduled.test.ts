// The scenario's own faults on the testbed (`npm run test:faults`): each file of
// scenarios/faults/testbed/ run with `migsim check --engine testbed` and with the sim, the
// outcomes compared, and the testbed's numbers checked against bounds computed here from the
// scenario's timers (docs/faults.md): the outcome, where the VM runs at the end, memoryVerified,
// gaveUpMs, the `faults` entry, the exit status, and that nothing is left behind.
// Cleanup: `migsim testbed down` if anything was left, and after the file.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationResult, RunResult } from '../../model/result/format.js';
import { leftovers, MIGSIM, migsim, migsimContainers, REPO } from './kit.js';

const dir = mkdtempSync(join(tmpdir(), 'migsim-scheduled-'));
const say = (line: string): void => void process.stdout.write(`faults: ${line}\n`);

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  result: RunResult;
  /** the saved event stream (testbed only) */
  events: { source: string; kind: string; data: Record<string, unknown> }[];
}

/** `migsim check FILE --engine ENGINE --out …`: its exit, output and result. */
function check(file: string, engine: 'sim' | 'testbed'): Outcome {
  const out = join(dir, `${file.replace(/\W+/g, '-')}-${engine}.json`);
  const p = spawnSync(process.execPath, [MIGSIM, 'check', join(REPO, file), '--engine', engine, '--out', out], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });
  const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
  const events = engine === 'testbed'
    ? readFileSync(out.replace(/\.json$/, '.events.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Outcome['events'][number])
    : [];
  return { code: p.status, stdout: p.stdout, stderr: p.stderr, result, events };
}

const mig = (r: RunResult, vm: string): MigrationResult => r.migrations.find((m) => m.vm === vm)!;

/** The VMs a host agent held when it was told to stop (its `host-stopped` event). */
function heldAtEnd(o: Outcome, host: string): string[] {
  const e = o.events.find((x) => x.source === `host:${host}` && x.kind === 'host-stopped');
  return (e?.data.vms as string[] | undefined) ?? [];
}

/** Both engines on one file; the testbed's run leaves nothing behind. */
async function both(file: string): Promise<{ sim: Outcome; tb: Outcome }> {
  const sim = check(file, 'sim');
  try {
    const tb = check(file, 'testbed');
    expect(await leftovers()).toEqual([]);
    return { sim, tb };
  } finally {
    if ((await leftovers()).length > 0) migsim(['testbed', 'down']);
  }
}

beforeAll(() => {
  execFileSync('bash', [join(REPO, 'testbed/ensure-docker.sh')], { stdio: 'inherit' });
  migsim(['testbed', 'down']);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  migsim(['testbed', 'down']);
  expect(await migsimContainers()).toEqual([]);
});

describe('cancel and the migration timeout', () => {
  it('cancel at 3 s: the pre-copy reverts at once, the paused stop-and-copy resumes on its source after ~2 s; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/cancel.yaml');
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const [v1, v2] = [mig(tb.result, 'vm1'), mig(tb.result, 'vm2')];
    say(`cancel: vm1 gave up at ${v1.gaveUpMs} ms (${v1.bytesSent} B sent); vm2 gave up at ${v2.gaveUpMs} ms, paused ${v2.sourcePauseMs} ms on its source`);
    for (const vm of ['vm1', 'vm2']) expect(mig(tb.result, vm).outcome).toBe(mig(sim.result, vm).outcome);
    expect(v1).toMatchObject({ outcome: 'reverted', vmLost: false, downtimeMs: null, endMs: null, memoryVerified: null, sourcePauseMs: null });
    expect(v1.unmeasured.memoryVerified).toMatch(/reverted/);
    // the cancel at 3 s, one control round trip to the source
    expect(v1.gaveUpMs!).toBeGreaterThanOrEqual(3000);
    expect(v1.gaveUpMs!).toBeLessThan(3000 + 100);
    // what crossed a 100 Mbit/s link from the start (≥ 1 s) to the cancel, at most the socket's 4 MiB backlog more
    const linkBytes = ((v1.gaveUpMs! - v1.startMs) / 1000) * 100e6 / 8;
    expect(v1.bytesSent).toBeGreaterThan(0.85 * linkBytes);
    expect(v1.bytesSent).toBeLessThan(linkBytes + 4 * 1024 * 1024 + 1e6);
    expect(v2).toMatchObject({ outcome: 'reverted', vmLost: false, downtimeMs: null });
    // paused at its switchover (its start), resumed at the cancel
    expect(v2.sourcePauseMs!).toBeCloseTo(v2.gaveUpMs! - v2.switchoverMs!, -1);
    expect(v2.sourcePauseMs!).toBeGreaterThan(3000 - v2.switchoverMs! - 5);
    // each VM runs where it started
    expect(heldAtEnd(tb, 'h1')).toContain('vm1');
    expect(heldAtEnd(tb, 'h2')).toContain('vm2');
    const faults = tb.result.faults.filter((f) => f.scheduled);
    expect(faults).toHaveLength(2);
    for (const [f, vm, to, from] of [[faults.find((x) => x.target === 'vm1'), 'vm1', 'h2', 'h1'], [faults.find((x) => x.target === 'vm2'), 'vm2', 'h1', 'h2']] as const) {
      expect(f).toMatchObject({ kind: 'cancel', lost: [], effect: `${vm}'s migration to ${to} cancelled: the VM stays on ${from}` });
      expect(f!.atMs!).toBeGreaterThanOrEqual(3000);
      expect(f!.atMs!).toBeLessThan(3050);
    }
    expect(tb.result.faults.filter((f) => !f.scheduled)).toEqual([]);
    expect(tb.result.expectations.every((e) => e.ok), tb.stdout).toBe(true);
  });

  it('timeout 3 s on a pre-copy that cannot converge: reverted at start + 3 s, the VM stays on h1; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/timeout.yaml');
    expect(sim.code, sim.stdout + sim.stderr).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    say(`timeout: started at ${m.startMs} ms, gave up at ${m.gaveUpMs} ms`);
    expect(m.outcome).toBe(mig(sim.result, 'vm1').outcome);
    expect(m).toMatchObject({ outcome: 'reverted', vmLost: false, downtimeMs: null, error: 'timed out: not done 3s after its start (migrations[0].timeout)' });
    expect(m.gaveUpMs!).toBeGreaterThanOrEqual(1000 + 3000);
    expect(m.gaveUpMs! - m.startMs).toBeLessThan(3000 + 100);
    expect(heldAtEnd(tb, 'h1')).toContain('vm1');
    expect(heldAtEnd(tb, 'h2')).not.toContain('vm1');
    expect(tb.result.faults).toEqual([]);
  });
});

describe('dhcp-down across the switchover', () => {
  it('with dhcpRebindFallback: assist: leasequery gives up 3 s after the resume, the assistance request moves the binding ~3 s after it; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/dhcp-down-fallback.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    say(`dhcp-down, assist: resumed at ${m.resumeMs} ms, rebound ${m.dhcpRebindMs} ms later (sim ${mig(sim.result, 'vm1').dhcpRebindMs}), ${m.sourceGuardDrops} frames dropped`);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true });
    // 3 tries by MAC and 3 by IP, 500 ms each, then a renewal's round trip and the orchestrator's hop
    expect(m.dhcpRebindMs!).toBeGreaterThanOrEqual(3000);
    expect(m.dhcpRebindMs!).toBeLessThan(3000 + 300);
    const lq = tb.result.faults.find((f) => f.kind === 'leasequery-unanswered')!;
    expect(lq).toMatchObject({ scheduled: false, target: 'vm1' });
    expect(lq.effect).toMatch(/fell back to the assistance request/);
    expect(lq.atMs! - m.resumeMs!).toBeGreaterThanOrEqual(3000 - 20);
    expect(lq.atMs! - m.resumeMs!).toBeLessThan(3000 + 50);
    const down = tb.result.faults.find((f) => f.kind === 'dhcp-down')!;
    expect(down).toMatchObject({ scheduled: true, target: 'dhcp', effect: 'the DHCP server answers nothing for 4.35 s', lost: [] });
    expect(down.atMs!).toBeGreaterThanOrEqual(3000);
    expect(down.atMs!).toBeLessThan(3050);
    // the switch sent the assistance request and the guest was told to renew
    expect(tb.events.some((e) => e.source === 'orchestrator' && e.kind === 'assist-signalled')).toBe(true);
    expect(tb.events.some((e) => e.kind === 'fault-ended' && e.data.fault === 'dhcp-down')).toBe(true);
  });

  it('without a fallback: the binding stays on h1 until the VM renews at T1 (15 s after its lease); as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/dhcp-down-no-fallback.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    say(`dhcp-down, no fallback: rebound ${m.dhcpRebindMs} ms after the resume (sim ${mig(sim.result, 'vm1').dhcpRebindMs}), ${m.sourceGuardDrops} frames dropped`);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true });
    // T1 = 15 s after the lease (near time 0, within its first second), less the resume
    expect(m.resumeMs! + m.dhcpRebindMs!).toBeGreaterThan(15_000);
    expect(m.resumeMs! + m.dhcpRebindMs!).toBeLessThan(16_500);
    // the probe's echoes were dropped by IP source guard meanwhile: ~100/s for ~10 s
    expect(m.sourceGuardDrops!).toBeGreaterThan(0.8 * 100 * (m.dhcpRebindMs! / 1000));
    expect(tb.result.faults.find((f) => f.kind === 'leasequery-unanswered')!.effect).toMatch(/no fallback/);
    expect(tb.events.some((e) => e.source === 'orchestrator' && e.kind === 'assist-signalled')).toBe(false);
  });
});

describe('link faults on a migration NIC', () => {
  it('link-down 2 s on the source during pre-copy: the stream moves again after the cut, the migration completes 2–3 s later, verified; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/link-down.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    const round0 = ((128 * 1024 * 1024) / 4096) * (4096 + 8) * 8 / 200e6 * 1000;
    say(`link-down 2 s: total ${m.totalTimeMs} ms (sim ${mig(sim.result, 'vm1').totalTimeMs}; round 0 alone ${round0.toFixed(0)} ms)`);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, vmLost: false });
    expect(m.totalTimeMs!).toBeGreaterThan(round0 + 2000 - 300);
    expect(m.totalTimeMs!).toBeLessThan(round0 + 3000 + 1500);
    const f = tb.result.faults.find((x) => x.kind === 'link-down')!;
    expect(f).toMatchObject({ scheduled: true, target: 'h1', effect: "h1's migration NIC carries nothing for 2 s", lost: [] });
    expect(tb.result.faults.filter((x) => !x.scheduled)).toEqual([]);
    // the link came back up at 5 s
    expect(tb.events.some((e) => e.kind === 'fault-ended' && e.data.fault === 'link-down')).toBe(true);
  });

  it('link-degrade: h2 at 100 Mbit/s holds vm1 to that rate; h4 drops 1 % of its packets and vm2 still completes; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/link-degrade.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const [v1, v2] = [mig(tb.result, 'vm1'), mig(tb.result, 'vm2')];
    say(`link-degrade: vm1 ${v1.totalTimeMs} ms at 100 Mbit/s (sim ${mig(sim.result, 'vm1').totalTimeMs}); vm2 ${v2.totalTimeMs} ms at 1 % loss (sim ${mig(sim.result, 'vm2').totalTimeMs})`);
    for (const v of [v1, v2]) expect(v).toMatchObject({ outcome: 'completed', memoryVerified: true });
    // vm1's bytes at 100 Mbit/s, no faster
    expect(v1.totalTimeMs!).toBeGreaterThanOrEqual((v1.bytesSent * 8) / 100e6 * 1000 * 0.97);
    expect(v1.totalTimeMs!).toBeLessThan((v1.bytesSent * 8) / 100e6 * 1000 + 1500);
    // vm2 at most at the link's rate; the loss rules did drop packets
    expect(v2.totalTimeMs!).toBeGreaterThan((v2.bytesSent * 8) / 1e9 * 1000);
    const dropped = tb.events.find((e) => e.kind === 'loss-dropped' && e.data.host === 'h4');
    say(`link-degrade: the 1 % loss dropped ${String(dropped?.data.packets)} packets`);
    expect(Number(dropped?.data.packets)).toBeGreaterThan(0);
    const faults = tb.result.faults.filter((x) => x.scheduled);
    expect(faults.map((x) => [x.kind, x.target, x.effect])).toEqual([
      ['link-degrade', 'h2', "h2's migration NIC runs at 100 Mbit/s for 10 s"],
      ['link-degrade', 'h4', "h4's migration NIC runs at 1% loss for 10 s"],
    ]);
  });
});

describe('host-crash', () => {
  it('the destination during pre-copy: no reset reaches the source, which reverts when the keepalive (3 s) gives up; a retry elsewhere completes; a move to the crashed host fails at its start; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/host-crash-dest.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const [first, retry, back] = tb.result.migrations;
    say(`host-crash (destination): gave up at ${first!.gaveUpMs} ms (crash at 3000 + keepalive 3000); the retry took ${retry!.totalTimeMs} ms`);
    tb.result.migrations.forEach((m, i) => expect(m.outcome, `vm1[${i}]`).toBe(sim.result.migrations[i]!.outcome));
    expect(first).toMatchObject({ outcome: 'reverted', vmLost: false, from: 'h1', to: 'h2', downtimeMs: null });
    expect(first!.error).toBe('the destination h2 crashed at 3s; the source gave up on it 3 s later (keepalive)');
    // a reset would have reverted it at the crash: it waited the keepalive out
    expect(first!.gaveUpMs!).toBeGreaterThanOrEqual(3000 + 3000);
    expect(first!.gaveUpMs!).toBeLessThan(3000 + 3000 + 100);
    // from where the VM was (h1: the first move reverted), to h3
    expect(retry).toMatchObject({ outcome: 'completed', memoryVerified: true, from: 'h1', to: 'h3' });
    expect(back).toMatchObject({ outcome: 'failed', from: 'h3', error: 'h2 is down (crashed at 3s): the destination cannot be reached' });
    const f = tb.result.faults.filter((x) => x.scheduled);
    expect(f).toEqual([{ atMs: expect.any(Number), kind: 'host-crash', target: 'h2', scheduled: true, lost: [], effect: "h2 stopped for good; vm1's migration reverts when the keepalive gives up (3 s)" }]);
    expect(f[0]!.atMs!).toBeGreaterThanOrEqual(3000);
    // the crashed host's agent and port are the scheduled fault's doing: nothing observed breaks the run
    expect(tb.result.faults.filter((x) => !x.scheduled)).toEqual([]);
    expect(heldAtEnd(tb, 'h3')).toContain('vm1');
    expect(tb.stderr).not.toMatch(/migsim: fault:/);
  });

  it('the source during pre-copy: its VMs are lost at once (vmLost, `lost`), a later move of one fails at its start; as the sim; run exits 1', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/host-crash-source.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const [v1, v2] = [mig(tb.result, 'vm1'), mig(tb.result, 'vm2')];
    say(`host-crash (source): vm1 lost at ${v1.gaveUpMs} ms`);
    for (const vm of ['vm1', 'vm2']) expect(mig(tb.result, vm).outcome).toBe(mig(sim.result, vm).outcome);
    expect(v1).toMatchObject({ outcome: 'failed', vmLost: true, error: 'the source h1 crashed at 3s with the VM running there', memoryVerified: null });
    expect(v1.gaveUpMs!).toBeGreaterThanOrEqual(3000);
    expect(v1.gaveUpMs!).toBeLessThan(3100);
    // its source reported nothing: the counts are not measurements
    expect(v1.unmeasured.bytesSent).toMatch(/crashed/);
    expect(v2).toMatchObject({ outcome: 'failed', vmLost: false });
    expect(v2.error).toMatch(/^vm2 was lost before this migration should start/);
    const f = tb.result.faults.find((x) => x.kind === 'host-crash')!;
    expect(f).toMatchObject({ scheduled: true, target: 'h1', lost: ['vm1', 'vm2'], effect: 'h1 stopped for good; lost: vm1, vm2' });
    expect(tb.result.faults.filter((x) => !x.scheduled)).toEqual([]);
    // `run` (not `check`) says a VM was lost: exit 1
    const r = spawnSync(process.execPath, [MIGSIM, 'run', join(REPO, 'scenarios/faults/testbed/host-crash-source.yaml'), '--out', join(dir, 'src-crash-sim.json')], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(1);
  });
});

describe('switch-restart before a migration', () => {
  /** The switch's incarnations in the saved stream: each `switch-ready`, the kill, the restart. */
  function incarnations(o: Outcome) {
    return {
      ready: o.events.filter((e) => e.source === 'switch' && e.kind === 'switch-ready').map((e) => Number(e.data.t)),
      killed: o.events.find((e) => e.source === 'orchestrator' && e.kind === 'switch-killed'),
      restored: o.events.find((e) => e.source === 'switch' && e.kind === 'bindings-restored' && Number(e.data.stored) > 0),
    };
  }

  it('without a binding database: the bindings are gone, IP source guard drops the VM until it renews at T1; counters summed over both switches; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/switch-restart.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    const inc = incarnations(tb);
    const downMs = (inc.ready[1]! - Number(inc.killed!.data.t)) / 1e6;
    say(`switch-restart: down ${downMs.toFixed(0)} ms (500 ms + the new process's start-up); rebind ${m.dhcpRebindMs} ms after the resume (sim ${mig(sim.result, 'vm1').dhcpRebindMs}), ${m.sourceGuardDrops} dropped`);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true });
    expect(inc.ready).toHaveLength(2);
    expect(downMs).toBeGreaterThanOrEqual(500);
    expect(downMs).toBeLessThan(500 + 2000);
    // no binding to move: the VM's renewal at T1 (15 s after its lease within the first second) moves it
    expect(m.resumeMs! + m.dhcpRebindMs!).toBeGreaterThan(15_000);
    expect(m.resumeMs! + m.dhcpRebindMs!).toBeLessThan(16_500);
    expect(m.sourceGuardDrops!).toBeGreaterThan(0.8 * 100 * (m.dhcpRebindMs! / 1000));
    // the first switch's counters count: the sum exceeds the second's alone
    const first = (inc.killed!.data.stats as { counters: Record<string, number> }).counters;
    const last = tb.events.filter((e) => e.source === 'switch' && e.kind === 'switch-stopped').at(-1)!.data.counters as Record<string, number>;
    expect(first.forwarded).toBeGreaterThan(0);
    expect(tb.result.network!.counters.forwarded).toBe(first.forwarded! + last.forwarded!);
    expect(tb.result.network!.countersUnmeasured).toBeNull();
    expect(tb.result.faults.filter((f) => f.scheduled)).toMatchObject([{ kind: 'switch-restart', target: 'switch', effect: 'the switch lost its state and was gone for 500 ms', lost: [] }]);
    // the killed switch is the fault's doing, not a component that died
    expect(tb.result.faults.filter((f) => !f.scheduled)).toEqual([]);
    expect(inc.restored).toBeUndefined();
  });

  it('with bindingDatabase: persistent (Redis): the restarted switch restores the binding and the migration rebinds it at once; as the sim; exit 0', async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/switch-restart-persistent.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    say(`switch-restart, persistent: rebind ${m.dhcpRebindMs} ms after the resume (sim ${mig(sim.result, 'vm1').dhcpRebindMs}), ${m.sourceGuardDrops} dropped`);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, sourceGuardDrops: 0 });
    expect(m.dhcpRebindMs!).toBeLessThan(100);
    const inc = incarnations(tb);
    expect(inc.restored?.data).toMatchObject({ count: 1, stored: 1, skipped: 0 });
    expect(tb.events.some((e) => e.source === 'switch' && e.kind === 'binding-restored' && e.data.mac === '02:00:00:00:07:01')).toBe(true);
    expect(tb.result.faults.filter((f) => f.scheduled)).toMatchObject([{ kind: 'switch-restart', effect: 'the switch lost its state and was gone for 500 ms; bindings restored from its database' }]);
    expect(tb.result.faults.filter((f) => !f.scheduled)).toEqual([]);
  });
});

describe('spoofed-associate', () => {
  it("another tenant's station claims vm1's MAC as migrated: refused (VDP error 5), the binding stays, the real migration rebinds at once; as the sim; exit 0", async () => {
    const { sim, tb } = await both('scenarios/faults/testbed/spoofed-associate.yaml');
    expect(sim.code).toBe(0);
    expect(tb.code, tb.stdout + tb.stderr).toBe(0);
    const m = mig(tb.result, 'vm1');
    say(`spoofed-associate: refused ${tb.result.network!.counters.vdpTakeoverRefused}×; the real migration rebound in ${m.dhcpRebindMs} ms (sim ${mig(sim.result, 'vm1').dhcpRebindMs})`);
    expect(tb.result.network!.counters.vdpTakeoverRefused).toBe(sim.result.network!.counters.vdpTakeoverRefused);
    expect(tb.result.network!.counters.vdpTakeoverRefused).toBe(1);
    const refused = tb.events.find((e) => e.source === 'switch' && e.kind === 'refused');
    expect(refused?.data).toMatchObject({ port: 'h3', what: 'vdp', reason: 'takeover-not-authorised', mac: '02:00:00:00:08:01' });
    // h3's station sent it with the M-bit under vm2's type (the default: a VM starting on h3)
    const sent = tb.events.find((e) => e.source === 'host:h3' && e.kind === 'vdp-sent' && e.data.vm === 'vm1');
    expect(sent?.data).toMatchObject({ op: 'assoc', mBit: true, asType: { id: 801, version: 1 } });
    expect(tb.events.find((e) => e.source === 'host:h3' && e.kind === 'vdp-response' && e.data.vm === 'vm1')?.data.error).toBe(5);
    expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, sourceGuardDrops: 0 });
    expect(m.dhcpRebindMs!).toBeLessThan(100);
    expect(tb.result.faults).toMatchObject([{ kind: 'spoofed-associate', target: 'h3', scheduled: true, effect: "a station on h3 associated vm1's MAC with the M-bit under VSI type 801/1", lost: [] }]);
  });
});
