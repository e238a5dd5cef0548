import { describe, expect, it } from 'vitest';
import { runScenario } from './engine.js';
import type { MigrationResult } from '../model/result/format.js';
import { GiB, KiB, MiB, migration, ms, s, scenario, us, vm } from '../model/scenario/fixture.js';
import { loadScenario } from '../model/scenario/load.js';

const PAGE_WIRE = 4096 + 8; // page + QEMU-style 8-byte header
const first = (r: { migrations: MigrationResult[] }) => r.migrations[0]!;

describe('pre-copy rounds against the analytic series', () => {
  // uniform writes over H pages at D writes/s: a round of length t dirties H(1 − e^(−D·t/H)) pages
  const H = 262144;
  const D = 50_000;
  const bw = 1e9;
  const result = runScenario(
    scenario({
      vms: [vm({ memoryBytes: 1 * GiB, workload: { kind: 'uniform', writeRate: D } })],
      migrations: [migration({ maxRounds: 6 })],
    }),
  );
  const m = first(result);

  it('round 0 sends every page', () => {
    expect(m.rounds[0]!.pagesSent).toBe(H);
    expect(m.rounds[0]!.bytesSent).toBe(H * PAGE_WIRE);
  });

  it('each round lasts its bytes over the bandwidth', () => {
    for (const r of m.rounds) expect(r.durationMs).toBeCloseTo(((r.bytesSent * 8) / bw) * 1e3, 5);
  });

  it('dirty pages at the end of each round follow H(1 − e^(−D·t/H)) within 2 %', () => {
    expect(m.rounds.length).toBe(6);
    for (const r of m.rounds) {
      const t = r.durationMs / 1e3;
      const expected = H * (1 - Math.exp((-D * t) / H));
      expect(Math.abs(r.dirtyPagesAtEnd - expected) / expected).toBeLessThan(0.02);
    }
  });

  it('each round sends exactly the pages the previous one left dirty', () => {
    for (let i = 1; i < m.rounds.length; i++) expect(m.rounds[i]!.pagesSent).toBe(m.rounds[i - 1]!.dirtyPagesAtEnd);
  });

  it('round 0 starts with the migration and each next one when the bytes before it have crossed; the paused transfer at the switchover', () => {
    let sentBits = 0;
    for (const r of m.rounds) {
      expect(r.startMs).toBeCloseTo(m.startMs + (sentBits / bw) * 1e3, 5);
      sentBits += r.bytesSent * 8;
    }
    expect(m.switchoverMs!).toBeCloseTo(m.startMs + (sentBits / bw) * 1e3, 5);
    expect(m.stopCopy!.startMs).toBe(m.switchoverMs);
  });

  it('this write rate defeats pre-copy: the switchover is forced at maxRounds', () => {
    const last = m.rounds[m.rounds.length - 1]!;
    expect(m.stopCopy!.pagesSent).toBe(last.dirtyPagesAtEnd);
    expect(m.downtimeMs!).toBeGreaterThan(300);
  });
});

describe('stop rule and downtime', () => {
  const latency = 100 * us;
  const device = 256 * KiB;
  const limitMs = 300;
  const result = runScenario(
    scenario({
      vms: [vm({ memoryBytes: 1 * GiB, workload: { kind: 'hotset', writeRate: 20_000, hotsetBytes: 64 * MiB } })],
      migrations: [migration({ downtimeLimitNs: limitMs * ms, deviceStateBytes: device })],
    }),
  );
  const m = first(result);

  it('continues while the rest would not fit the downtime limit, stops as soon as it would', () => {
    m.rounds.forEach((r, i) => {
      const rateBps = (r.bytesSent * 8) / (r.durationMs / 1e3);
      const expectedPausedMs = (((r.dirtyPagesAtEnd * PAGE_WIRE + device) * 8) / rateBps) * 1e3;
      const isLast = i === m.rounds.length - 1;
      if (isLast) expect(expectedPausedMs).toBeLessThanOrEqual(limitMs);
      else expect(expectedPausedMs).toBeGreaterThan(limitMs);
    });
    expect(m.outcome).toBe('completed');
  });

  it('downtime = the paused transfer over the link + latency', () => {
    const stopBytes = m.stopCopy!.pagesSent * PAGE_WIRE + device;
    expect(m.stopCopy!.bytesSent).toBe(stopBytes);
    const expectedMs = ((stopBytes * 8) / 1e9) * 1e3 + latency / 1e6;
    expect(m.downtimeMs!).toBeCloseTo(expectedMs, 5);
    expect(m.resumeMs! - m.switchoverMs!).toBeCloseTo(m.downtimeMs!, 6);
  });

  it('totals add up and the memory arrived intact', () => {
    const pages = m.rounds.reduce((a, r) => a + r.pagesSent, 0) + m.stopCopy!.pagesSent;
    const bytes = m.rounds.reduce((a, r) => a + r.bytesSent, 0) + m.stopCopy!.bytesSent;
    expect(m.pagesSent).toBe(pages);
    expect(m.bytesSent).toBe(bytes);
    expect(m.memoryVerified).toBe(true);
    expect(m.totalTimeMs).toBeCloseTo(m.endMs! - m.startMs, 6);
  });

  it('the paused transfer ignores the bandwidth cap; rounds obey it', () => {
    const capped = first(runScenario(scenario({
      vms: [vm({ memoryBytes: 256 * MiB, workload: { kind: 'hotset', writeRate: 5_000, hotsetBytes: 16 * MiB } })],
      migrations: [migration({ bandwidthBps: 250e6, deviceStateBytes: device })],
    })));
    for (const r of capped.rounds) expect(r.durationMs).toBeCloseTo(((r.bytesSent * 8) / 250e6) * 1e3, 5);
    expect(capped.stopCopy!.durationMs).toBeCloseTo(((capped.stopCopy!.bytesSent * 8) / 1e9) * 1e3, 5);
  });
});

describe('determinism', () => {
  const sc = scenario({
    vms: [vm({ memoryBytes: 256 * MiB, workload: { kind: 'zipf', writeRate: 30_000, skew: 0.9 } })],
  });
  const strip = (r: ReturnType<typeof runScenario>) => JSON.stringify({ ...r, wallClock: null });

  it('same seed, byte-identical result apart from wall-clock fields', () => {
    expect(strip(runScenario(sc))).toBe(strip(runScenario(sc)));
  });

  it('another seed gives another run', () => {
    expect(strip(runScenario(sc, { seed: 2 }))).not.toBe(strip(runScenario(sc)));
  });
});

describe('memory verification', () => {
  const sc = scenario({
    vms: [vm({ memoryBytes: 64 * MiB, workload: { kind: 'hotset', writeRate: 10_000, hotsetBytes: 4 * MiB } })],
  });

  it('catches a page the engine forgets to send, and the run fails loudly', () => {
    const m = first(runScenario(sc, { forgetPage: { vm: 'vm1', page: 12345 } }));
    expect(m.memoryVerified).toBe(false);
    expect(m.outcome).toBe('failed');
    expect(m.error).toMatch(/page 12345.*; the VM resumed on h1$/);
    // the destination discarded its copy: the VM ran on at the source, after its pause
    expect(m.resumeMs).toBeNull();
    expect(m.downtimeMs).toBeNull();
    expect(m.sourcePauseMs).toBeGreaterThan(0);
    const again = runScenario(scenario({ ...sc, migrations: [migration(), migration({ index: 1, atNs: 60e9, from: 'h1', to: 'h3' })] }), { forgetPage: { vm: 'vm1', page: 12345 } });
    expect(again.migrations[1]).toMatchObject({ from: 'h1', to: 'h3' });
  });

  it('catches a forgotten hot page too (one that is re-sent every round)', () => {
    const m = first(runScenario(sc, { forgetPage: { vm: 'vm1', page: 3 } }));
    expect(m.memoryVerified).toBe(false);
  });

  it('catches a page the post-copy push forgets', () => {
    const post = scenario({ ...sc, migrations: [migration({ mode: 'postcopy' })] });
    expect(first(runScenario(post)).memoryVerified).toBe(true);
    // a cold page: the guest never touches it, so only the push could have brought it
    expect(first(runScenario(post, { forgetPage: { vm: 'vm1', page: 16000 } })).memoryVerified).toBe(false);
  });
});

describe('link sharing', () => {
  const twoVms = (to2: string, host2: string) =>
    scenario({
      vms: [vm({ name: 'a', mac: '02:00:00:00:00:01' }), vm({ name: 'b', host: host2, mac: '02:00:00:00:00:02' })],
      migrations: [migration({ vm: 'a', to: 'h2' }), migration({ index: 1, vm: 'b', from: host2, to: to2 })],
    });
  const alone = first(runScenario(scenario())).rounds[0]!.durationMs;

  it('two concurrent migrations out of one host each get half the link', () => {
    const r = runScenario(twoVms('h2', 'h1'));
    for (const m of r.migrations) expect(m.rounds[0]!.durationMs).toBeCloseTo(2 * alone, 3);
  });

  it('migrations between disjoint host pairs do not slow each other', () => {
    const r = runScenario(twoVms('h4', 'h3'));
    for (const m of r.migrations) expect(m.rounds[0]!.durationMs).toBeCloseTo(alone, 3);
  });
});

describe('zero pages', () => {
  it('an idle 1 GiB guest that is 90 % zeros migrates in about a tenth of the time', () => {
    const run = (zeroPages: number) =>
      first(runScenario(scenario({ vms: [vm({ memoryBytes: 1 * GiB, zeroPages })] })));
    const full = run(0);
    const sparse = run(0.9);
    const N = 262144;
    expect(sparse.zeroPagesSent / N).toBeCloseTo(0.9, 2);
    expect(sparse.bytesSent).toBe((N - sparse.zeroPagesSent) * PAGE_WIRE + sparse.zeroPagesSent * 9 + 256 * KiB);
    const ratio = sparse.totalTimeMs! / full.totalTimeMs!;
    expect(ratio).toBeGreaterThan(0.09);
    expect(ratio).toBeLessThan(0.115);
    expect(sparse.memoryVerified).toBe(true);
  });
});

describe('modes', () => {
  const base = vm({ memoryBytes: 512 * MiB, workload: { kind: 'hotset', writeRate: 20_000, hotsetBytes: 32 * MiB } });
  const N = (512 * MiB) / (4 * KiB);

  it('stopcopy pauses first and sends everything: downtime = all pages + device state over the link + latency', () => {
    const m = first(runScenario(scenario({ vms: [base], migrations: [migration({ mode: 'stopcopy' })] })));
    expect(m.rounds).toEqual([]);
    expect(m.switchoverMs).toBe(m.startMs);
    expect(m.stopCopy!.pagesSent).toBe(N);
    expect(m.downtimeMs!).toBeCloseTo((((N * PAGE_WIRE + 256 * KiB) * 8) / 1e9) * 1e3 + 0.1, 5);
    expect(m.memoryVerified).toBe(true);
  });

  it('postcopy: downtime is device state only; every page arrives once by push or fault', () => {
    const m = first(runScenario(scenario({ vms: [base], migrations: [migration({ mode: 'postcopy' })] })));
    expect(m.downtimeMs!).toBeCloseTo(((256 * KiB * 8) / 1e9) * 1e3 + 0.1, 5);
    const pc = m.postcopy!;
    expect(pc.faults).toBeGreaterThan(0);
    expect(pc.faults + pc.pagesPushed).toBe(N);
    // a fault costs a round trip plus the page on the wire
    const faultMs = 0.2 + ((PAGE_WIRE * 8) / 1e9) * 1e3;
    expect(pc.faultLatencyMs).toBeCloseTo(pc.faults * faultMs, 3);
    // the push sends all N pages at link rate, so the whole takes at least that long
    expect(m.totalTimeMs!).toBeGreaterThanOrEqual(((N * PAGE_WIRE * 8) / 1e9) * 1e3);
    expect(m.memoryVerified).toBe(true);
    expect(m.outcome).toBe('completed');
  });

  it('auto-converge throttles a guest that defeats pre-copy and gets it across with less downtime', () => {
    const heavy = vm({ memoryBytes: 512 * MiB, workload: { kind: 'uniform', writeRate: 40_000 } });
    const plain = first(runScenario(scenario({ vms: [heavy], migrations: [migration({ maxRounds: 12 })] })));
    const ac = first(runScenario(scenario({ vms: [heavy], migrations: [migration({ maxRounds: 12, autoConverge: true })] })));
    expect(plain.rounds.length).toBe(12);
    expect(plain.throttlePct).toBe(0);
    expect(ac.throttlePct).toBeGreaterThanOrEqual(20);
    expect(ac.downtimeMs!).toBeLessThan(plain.downtimeMs!);
    expect(ac.memoryVerified).toBe(true);
  });
});

describe('run length', () => {
  it('a run that ends before the migration finishes reverts it, leaving the VM on the source', () => {
    const r = runScenario(scenario({ durationNs: 2 * s, vms: [vm({ memoryBytes: 1 * GiB })] }));
    const m = first(r);
    expect(m.outcome).toBe('reverted');
    expect(m.downtimeMs).toBeNull();
    expect(r.durationMs).toBe(2000);
  });

  it('a second migration of the same VM starts from where the first left it', () => {
    const r = runScenario(scenario({
      vms: [vm({ workload: { kind: 'uniform', writeRate: 1000 } })],
      migrations: [migration(), migration({ index: 1, from: 'h2', to: 'h1', atNs: 10 * s })],
    }));
    expect(r.migrations.map((m) => [m.from, m.to, m.outcome])).toEqual([['h1', 'h2', 'completed'], ['h2', 'h1', 'completed']]);
    expect(r.migrations[1]!.memoryVerified).toBe(true);
  });
});

describe('what decided the switchover (ext)', () => {
  /** The stop rule, worked out from a round's own figures: would the rest cross within the limit? */
  const fitsAfter = (r: MigrationResult['rounds'][number], deviceBytes: number, limitMs: number): boolean => {
    const rateBps = (r.bytesSent * 8) / (r.durationMs / 1e3);
    return (((r.dirtyPagesAtEnd * PAGE_WIRE + deviceBytes) * 8) / rateBps) * 1e3 <= limitMs;
  };

  it('no-convergence-plain: forced at maxRounds — its rounds equal maxRounds and the last still did not fit', () => {
    const s = loadScenario('scenarios/no-convergence-plain.yaml');
    const spec = s.migrations[0]!;
    const m = first(runScenario(s));
    expect(m.switchover).toBe('forced');
    expect(m.outcome).toBe('completed');
    expect(m.rounds.length).toBe(spec.maxRounds);
    expect(fitsAfter(m.rounds.at(-1)!, spec.deviceStateBytes, spec.downtimeLimitNs / 1e6)).toBe(false);
  });

  it('the quickstart: converged — the last round fits the limit, before maxRounds', () => {
    const s = loadScenario('scenarios/quickstart.yaml');
    const spec = s.migrations[0]!;
    const m = first(runScenario(s));
    expect(m.switchover).toBe('converged');
    expect(m.rounds.length).toBeLessThan(spec.maxRounds);
    expect(fitsAfter(m.rounds.at(-1)!, spec.deviceStateBytes, spec.downtimeLimitNs / 1e6)).toBe(true);
  });

  it('a round that fits at maxRounds converged: meeting the limit wins', () => {
    const m = first(runScenario(scenario({ migrations: [migration({ maxRounds: 1 })] })));
    expect(m.rounds.length).toBe(1);
    expect(m.switchover).toBe('converged');
  });

  it('stopcopy and postcopy: immediate', () => {
    for (const mode of ['stopcopy', 'postcopy'] as const) {
      const m = first(runScenario(scenario({ migrations: [migration({ mode })] })));
      expect(m.switchover).toBe('immediate');
      expect(m.rounds).toEqual([]);
    }
  });

  it('null exactly when the VM never paused on the source', () => {
    // live rounds cut by the end of the run: reverted, never paused
    const live = first(runScenario(scenario({ durationNs: 2 * s, vms: [vm({ memoryBytes: 1 * GiB })] })));
    expect([live.outcome, live.switchoverMs, live.switchover]).toEqual(['reverted', null, null]);
    // a stop-and-copy cut in its paused transfer (1 GiB at 1 Gbit/s ≈ 8.6 s): it did switch over
    const paused = first(runScenario(scenario({ durationNs: 3 * s, vms: [vm({ memoryBytes: 1 * GiB })], migrations: [migration({ mode: 'stopcopy' })] })));
    expect([paused.outcome, paused.switchoverMs, paused.switchover]).toEqual(['reverted', 1000, 'immediate']);
    // a migration that could not start
    const r = runScenario(scenario({ migrations: [migration(), migration({ index: 1, atNs: 1 * s })] }));
    expect([r.migrations[1]!.outcome, r.migrations[1]!.switchover]).toEqual(['failed', null]);
  });
});

describe('a run that ends in an outage: lower bounds, not measurements (ext)', () => {
  // the prior-art switch: the VM's binding waits for T1 (≈ 120 s), its stream for the general
  // query at 60 s; the run ends at 30 s, 20 s after the resume, with both still out
  const base = loadScenario('scenarios/rebind/standard-none-none.yaml');
  const endMs = 30_000;
  const cut = { ...base, durationNs: endMs * ms, expect: [] };
  const m = first(runScenario(cut));
  const rate = cut.multicastSources[0]!.rate;
  const inFlightMs = 50;

  it('the rebinds that never happened are null; what was still going on at the end is named in lowerBounds', () => {
    expect(m.outcome).toBe('completed');
    expect(m.dhcpRebindMs).toBeNull();
    expect(m.igmpRebindMs).toBeNull();
    expect([...m.lowerBounds].sort()).toEqual(['multicastGapMs', 'multicastLost', 'serviceInterruptionMs', 'sourceGuardDrops']);
  });

  it('the stream is gone from the switchover to the end: the gap runs to the end, the datagrams sent to the end (less those in flight) are lost', () => {
    // the last datagram arrived within one interval (+ the links) before the switchover
    const gapFromSwitchover = endMs - m.switchoverMs!;
    expect(m.multicastGapMs!).toBeGreaterThanOrEqual(gapFromSwitchover);
    expect(m.multicastGapMs!).toBeLessThan(gapFromSwitchover + 1000 / rate + 1);
    const lastDatagramMs = endMs - m.multicastGapMs!;
    expect(Math.abs(m.multicastLost! - (rate * (endMs - inFlightMs - lastDatagramMs)) / 1000)).toBeLessThanOrEqual(1);
  });

  it('echoes unanswered from the switchover to the end, less those in flight; the guard dropped the replies after the resume', () => {
    const interval = 1000 / cut.probe!.rate;
    expect(Math.abs(m.serviceInterruptionMs! - (endMs - inFlightMs - m.switchoverMs!))).toBeLessThanOrEqual(2 * interval);
    expect(m.sourceGuardDrops!).toBeGreaterThan(0.95 * cut.probe!.rate * ((endMs - m.resumeMs!) / 1000));
  });

  it('the full run (150 s) sees both come back: no lower bounds', () => {
    const full = first(runScenario(base));
    expect(full.lowerBounds).toEqual([]);
    expect(full.dhcpRebindMs).not.toBeNull();
  });
});
