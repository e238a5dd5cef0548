// The sim with the sweep knobs of issue 12: auto-converge tuned (throttleInitial/Increment)
// against its throttle sequence worked out by hand, and post-copy after N pre-copy rounds
// against what must hold whatever the workload: N rounds, the same rounds as a pre-copy of N,
// a switch at their end, and exactly the pages they left dirty moved after it.

import { describe, expect, it } from 'vitest';
import { runScenario } from './engine.js';
import type { MigrationResult } from '../model/result/format.js';
import { KiB, MiB, migration, ms, scenario, vm } from '../model/scenario/fixture.js';
import type { MigrationSpec, VmSpec } from '../model/scenario/types.js';

const PAGE_WIRE = 4096 + 8;
const PAGES = (64 * MiB) / (4 * KiB); // 16384
/** round 0 sends every page at the fixture's 1 Gbit/s link: 16384 × 4104 B × 8 / 1e9 s */
const ROUND0_MS = ((PAGES * PAGE_WIRE * 8) / 1e9) * 1e3; // 537.919488
/** the paused transfer of post-copy: 256 KiB of device state at 1 Gbit/s, plus the 100 µs latency */
const DEVICE_MS = ((256 * KiB * 8) / 1e9) * 1e3 + 0.1; // 2.197152

function run(guest: VmSpec, over: Partial<MigrationSpec>): MigrationResult {
  return runScenario(scenario({ vms: [guest], migrations: [migration(over)] })).migrations[0]!;
}

describe('auto-converge tuned: the throttle after k live rounds', () => {
  // 10^6 writes/s over 16384 pages: every round dirties every page (more than half of what it
  // sent) while the throttle is ≤ 80 %, so each afterRound raises it
  const hot = vm({ memoryBytes: 64 * MiB, workload: { kind: 'uniform', writeRate: 1_000_000 } });
  // the throttle is raised after every round but the last (the switchover is decided there)
  const after = (k: number, tuning: Partial<MigrationSpec>) => run(hot, { maxRounds: k, downtimeLimitNs: 1 * ms, autoConverge: true, ...tuning });

  it('initial 30 %, increment 25 %: 30, 55, 80, then the 99 % cap', () => {
    const seen = [1, 2, 3, 4, 5, 6].map((k) => after(k, { throttleInitialPct: 30, throttleIncrementPct: 25 }).throttlePct);
    expect(seen).toEqual([0, 30, 55, 80, 99, 99]);
  });

  it("QEMU's defaults when not tuned: 20, 30, 40, 50", () => {
    expect([2, 3, 4, 5].map((k) => after(k, {}).throttlePct)).toEqual([20, 30, 40, 50]);
  });

  it('the throttle slows the guest: at 99 % a round dirties fewer pages than at 0 %', () => {
    const m = after(6, { throttleInitialPct: 30, throttleIncrementPct: 25 });
    expect(m.rounds[0]!.dirtyPagesAtEnd).toBe(PAGES);
    // round 5 runs at 99 %: 10^4 writes/s for its length touch at most that many pages
    const last = m.rounds[5]!;
    expect(last.dirtyPagesAtEnd).toBeLessThanOrEqual(Math.ceil((10_000 * last.durationMs) / 1e3));
    expect(m.memoryVerified).toBe(true);
  });
});

describe('post-copy after N pre-copy rounds', () => {
  // 10^4 writes/s over 16384 pages: round 0 (0.54 s) leaves ~4600 pages dirty, round 1 ~1400,
  // round 2 ~460 — never within a 1 ms downtime limit, so the rounds never converge
  const warm = vm({ memoryBytes: 64 * MiB, workload: { kind: 'uniform', writeRate: 10_000 } });
  const postcopy = (n: number, over: Partial<MigrationSpec> = {}) => run(warm, { mode: 'postcopy', postcopyAfterRounds: n, downtimeLimitNs: 1 * ms, ...over });

  /** What holds for any N ≥ 1: the switch at the end of round N, then only round N's dirty pages move. */
  function checkSwitchAfter(m: MigrationResult, n: number): void {
    expect(m.rounds.map((r) => r.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(m.switchover).toBe('forced');
    expect(m.rounds[0]!.pagesSent).toBe(PAGES);
    expect(m.rounds[0]!.durationMs).toBeCloseTo(ROUND0_MS, 6);
    // each later round sends the set the one before left dirty
    for (let i = 1; i < n; i++) expect(m.rounds[i]!.pagesSent).toBe(m.rounds[i - 1]!.dirtyPagesAtEnd);
    const liveMs = m.rounds.reduce((sum, r) => sum + r.durationMs, 0);
    expect(m.switchoverMs!).toBeCloseTo(m.startMs! + liveMs, 6);
    expect(m.downtimeMs!).toBeCloseTo(DEVICE_MS, 6);
    expect(m.stopCopy).toBeNull();
    const left = m.rounds[n - 1]!.dirtyPagesAtEnd;
    expect(left).toBeGreaterThan(0);
    // the pages the rounds left dirty, and only those, are pushed or faulted after the switch
    expect(m.postcopy!.pagesPushed + m.postcopy!.faults).toBe(left);
    // on the wire: the rounds, then those pages (a pushed copy a fault overtook counts too), and the device state
    const live = m.rounds.reduce((sum, r) => sum + r.pagesSent, 0);
    expect(m.pagesSent).toBeGreaterThanOrEqual(live + left);
    expect(m.pagesSent).toBeLessThanOrEqual(live + left + m.postcopy!.faults);
    expect(m.bytesSent).toBe(m.pagesSent * PAGE_WIRE + 256 * KiB);
    expect(m.outcome).toBe('completed');
    expect(m.memoryVerified).toBe(true);
  }

  it('0 (the default): no pre-copy round; paused at the start; every page moves after it', () => {
    const m = postcopy(0);
    expect(m.rounds).toEqual([]);
    expect(m.switchover).toBe('immediate');
    expect(m.switchoverMs).toBe(m.startMs);
    expect(m.downtimeMs!).toBeCloseTo(DEVICE_MS, 6);
    expect(m.postcopy!.pagesPushed + m.postcopy!.faults).toBe(PAGES);
    expect(m.memoryVerified).toBe(true);
    // the same as a scenario that does not name the field
    expect(run(warm, { mode: 'postcopy', downtimeLimitNs: 1 * ms })).toEqual(m);
  });

  it('1: round 0 sends every page, then the switch; only its dirty pages follow', () => {
    checkSwitchAfter(postcopy(1), 1);
  });

  it('3: three rounds, identical to a pre-copy forced after 3, then the switch', () => {
    const m = postcopy(3);
    checkSwitchAfter(m, 3);
    const pre = run(warm, { mode: 'precopy', maxRounds: 3, downtimeLimitNs: 1 * ms });
    expect(pre.switchover).toBe('forced');
    expect(m.rounds).toEqual(pre.rounds);
    // post-copy pauses for the device state only; pre-copy for the rest of the dirty pages too
    expect(pre.downtimeMs!).toBeCloseTo((((m.rounds[2]!.dirtyPagesAtEnd * PAGE_WIRE + 256 * KiB) * 8) / 1e9) * 1e3 + 0.1, 6);
    expect(m.downtimeMs!).toBeLessThan(pre.downtimeMs!);
  });

  it('rounds that converge first end the migration as a pre-copy, as QEMU does before migrate-start-postcopy', () => {
    // with the default 300 ms limit, round 0's ~4600 dirty pages (~150 ms at 1 Gbit/s) already fit
    const m = run(warm, { mode: 'postcopy', postcopyAfterRounds: 3 });
    expect(m.rounds).toHaveLength(1);
    expect(m.switchover).toBe('converged');
    expect(m.postcopy).toBeNull();
    expect(m.stopCopy!.pagesSent).toBe(m.rounds[0]!.dirtyPagesAtEnd);
    expect(m.memoryVerified).toBe(true);
  });

  it('auto-converge acts in the live rounds only: 2 raises for 3 rounds, and the guest runs on', () => {
    const hot = vm({ memoryBytes: 64 * MiB, workload: { kind: 'uniform', writeRate: 1_000_000 } });
    const m = run(hot, { mode: 'postcopy', postcopyAfterRounds: 3, downtimeLimitNs: 1 * ms, autoConverge: true, throttleInitialPct: 30, throttleIncrementPct: 25 });
    expect(m.throttlePct).toBe(55);
    checkSwitchAfter(m, 3);
  });
});
