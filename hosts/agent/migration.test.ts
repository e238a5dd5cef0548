// The host agent's memory migration on loopback: real RAM, a real workload thread, a TCP
// stream between two agents in this process. Sizes stay within 256 MiB of VM RAM per test
// (source + destination).

import { createServer, connect, type Server, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../test/support/processes.js';
import { HostAgent, type MigrationParams, type VmConfig } from './agent.js';
import type { AgentEvent } from './events.js';
import { Receiver, type ReceiveResult } from './receiver.js';
import { MigrationCancel } from './migration-cancel.js';
import { toMigrationResult, type SenderResult } from './migration-result.js';
import { emitChecksums, emitDeviceState, emitDone, emitHello, emitPages, emitRecord, emitRoundEnd, type StreamRecord } from '../../wire/page-stream.js';
import { StreamDecoder } from '../../wire/page-stream-decoder.js';
import { AutoConverge } from '../../model/memory/precopy.js';
import { pageWireBytes, wireBytes } from '../../model/page-cost.js';
import { runScenario } from '../../sim/engine.js';
import { KiB, MiB, migration, ms, scenario, vm } from '../../model/scenario/fixture.js';

const PAGE_WIRE = pageWireBytes(4096);

// ---- everything a test opens is closed after it, pass or fail ----
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agents(events?: AgentEvent[]): Promise<{ h1: HostAgent; h2: HostAgent; port: number }> {
  const onEvent = events ? (e: AgentEvent) => void events.push(e) : undefined;
  const h1 = new HostAgent('h1', onEvent ? { onEvent } : {});
  const h2 = new HostAgent('h2', onEvent ? { onEvent } : {});
  cleanups.push(() => h1.close(), () => h2.close());
  return { h1, h2, port: await h2.listen(0) };
}

/** A destination that is a bare Receiver, so the test holds its socket (to cut it). */
async function bareDestination(opts: { directReads?: boolean } = {}): Promise<{ port: number; sockets: Socket[]; results: Promise<ReceiveResult>[] }> {
  const sockets: Socket[] = [];
  const results: Promise<ReceiveResult>[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    results.push(new Receiver(s, opts).result);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as { port: number }).port, sockets, results };
}

function vmConfig(over: Partial<VmConfig>): VmConfig {
  return { name: 'vm1', memoryBytes: 64 * MiB, pageSize: 4096, zeroPages: 0, workload: { kind: 'idle' }, seed: 1, ...over };
}

const params = (over: Partial<MigrationParams> = {}): MigrationParams => ({
  bandwidthBps: null,
  linkBandwidthBps: 1e9,
  downtimeLimitNs: 300 * ms,
  maxRounds: 30,
  deviceStateBytes: 256 * KiB,
  autoConverge: false,
  ...over,
});

const downtimeMs = (r: SenderResult): number => (r.resumeNs! - r.switchoverNs!) / 1e6;
const totalMs = (r: SenderResult): number => (r.endNs! - r.startNs) / 1e6;

/** No unhandled rejection may happen during a test that calls this. */
function watchRejections(): unknown[] {
  const seen: unknown[] = [];
  const onRej = (e: unknown) => void seen.push(e);
  process.on('unhandledRejection', onRej);
  cleanups.push(() => void process.off('unhandledRejection', onRej));
  return seen;
}

describe('an idle 64 MiB VM, half zero pages', () => {
  it('one round of every page (zeros as markers), then device state only; verified; the sim agrees byte for byte', async () => {
    const { h1, h2, port } = await agents();
    const src = await h1.startVm(vmConfig({ zeroPages: 0.5 }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params());
    const N = (64 * MiB) / 4096;
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(r.rounds.length).toBe(1);
    // nothing dirty after round 0: the rest (device state) fits the limit at once
    expect(r.switchover).toBe('converged');
    expect(toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs }).switchover).toBe('converged');
    expect(r.rounds[0]!.pagesSent).toBe(N);
    expect(r.rounds[0]!.dirtyPagesAtEnd).toBe(0);
    expect(r.stopCopy).toMatchObject({ pagesSent: 0, bytesSent: 256 * KiB });
    // zero pages went as 9-byte markers: about half the bytes of a full copy
    expect(r.zeroPagesSent / N).toBeCloseTo(0.5, 1);
    expect(r.bytesSent).toBe((N - r.zeroPagesSent) * PAGE_WIRE + r.zeroPagesSent * 9 + 256 * KiB);
    expect(r.bytesSent / (N * PAGE_WIRE)).toBeCloseTo(0.5, 1);
    // the same seed and VM name pick the same zero pages as the sim's PagesMemory
    const sim = runScenario(scenario({ vms: [vm({ memoryBytes: 64 * MiB, zeroPages: 0.5 })] })).migrations[0]!;
    expect(r.zeroPagesSent).toBe(sim.zeroPagesSent);
    expect(r.bytesSent).toBe(sim.bytesSent);
    // the destination holds the very bytes
    const dest = h2.getVm('vm1')!;
    expect(dest.memory.buffer.equals(src.memory.buffer)).toBe(true);
    expect(h1.getVm('vm1')).toBeUndefined();
    // round 0 at the link's rate; the paused transfer is the device state at that rate
    expect(r.rounds[0]!.durationMs).toBeGreaterThan(((r.rounds[0]!.bytesSent * 8) / 1e9) * 1e3 * 0.85);
    expect(downtimeMs(r)).toBeLessThan(50);
  });
});

describe('a 128 MiB VM writing a 32 MiB hot set at 20k writes/s, capped at 1 Gbit/s', () => {
  // 32 MiB rather than the brief's example 8 MiB: at 8 MiB the paused transfer is ~20 ms
  // (3 rounds) or ~34 ms (2 rounds), where fixed millisecond costs (pause ack, timer
  // lateness, a busy 2-core host) are 5–15 % of the figure; here it is ~72 ms after 3 rounds.
  const LIMIT_MS = 100;
  const DEVICE = 256 * KiB;
  const workload = { kind: 'hotset' as const, writeRate: 20_000, hotsetBytes: 32 * MiB };

  it('converges, verified, with the sim’s round semantics and timing (the sim within 15 %)', async () => {
    const events: AgentEvent[] = [];
    const { h1, h2, port } = await agents(events);
    const src = await h1.startVm(vmConfig({ memoryBytes: 128 * MiB, workload }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ bandwidthBps: 1e9, linkBandwidthBps: 1e9, downtimeLimitNs: LIMIT_MS * ms, deviceStateBytes: DEVICE }));
    const N = (128 * MiB) / 4096;

    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(r.rounds.length).toBeGreaterThanOrEqual(2);
    expect(r.rounds.length).toBeLessThan(30);
    expect(r.rounds[0]!.pagesSent).toBe(N);
    // each round sends exactly what the previous one left dirty
    for (let i = 1; i < r.rounds.length; i++) expect(r.rounds[i]!.pagesSent).toBe(r.rounds[i - 1]!.dirtyPagesAtEnd);
    // the stop rule, recomputed from the round records (as sim/engine.test.ts does)
    r.rounds.forEach((round, i) => {
      const rateBps = (round.bytesSent * 8) / (round.durationMs / 1e3);
      const expectedPausedMs = (((round.dirtyPagesAtEnd * PAGE_WIRE + DEVICE) * 8) / rateBps) * 1e3;
      if (i === r.rounds.length - 1) expect(expectedPausedMs).toBeLessThanOrEqual(LIMIT_MS);
      else expect(expectedPausedMs).toBeGreaterThan(LIMIT_MS);
    });
    // the token bucket: each round lasts its bytes over the cap
    for (const round of r.rounds) {
      const ideal = ((round.bytesSent * 8) / 1e9) * 1e3;
      expect(Math.abs(round.durationMs - ideal) / ideal).toBeLessThan(0.15);
    }
    // the paused transfer: what the last round left, plus the few pages written before the
    // pause took effect, and device state — at the link's rate
    const last = r.rounds[r.rounds.length - 1]!;
    const stop = r.stopCopy!;
    expect(stop.pagesSent).toBeGreaterThanOrEqual(last.dirtyPagesAtEnd);
    expect(stop.pagesSent).toBeLessThan(last.dirtyPagesAtEnd * 1.05 + 20);
    expect(stop.bytesSent).toBe(stop.pagesSent * PAGE_WIRE + DEVICE);
    const idealStop = ((stop.bytesSent * 8) / 1e9) * 1e3;
    expect(Math.abs(stop.durationMs - idealStop) / idealStop).toBeLessThan(0.15);
    expect(downtimeMs(r)).toBeGreaterThanOrEqual(stop.durationMs * 0.99);
    // totals add up
    expect(r.pagesSent).toBe(r.rounds.reduce((a, x) => a + x.pagesSent, 0) + stop.pagesSent);
    expect(r.bytesSent).toBe(r.rounds.reduce((a, x) => a + x.bytesSent, 0) + stop.bytesSent);

    // the source's checksums were taken after the pause, over its final memory
    expect(r.checksumsStartNs!).toBeGreaterThanOrEqual(r.switchoverNs!);
    const srcMem = src.memory;
    const finalCrcs = Uint32Array.from({ length: N }, (_, p) => crc32(srcMem.page(p)));
    expect(Buffer.from(finalCrcs.buffer).equals(Buffer.from(r.sourceChecksums!.buffer))).toBe(true);
    // and the destination holds the source's final bytes
    expect(h2.getVm('vm1')!.memory.buffer.equals(srcMem.buffer)).toBe(true);
    // events on one clock, in order
    const kinds = events.filter((e) => e.host === 'h1').map((e) => e.kind);
    expect(kinds.indexOf('switchover')).toBeGreaterThan(kinds.lastIndexOf('round-end'));
    expect(kinds.indexOf('resumed')).toBeGreaterThan(kinds.indexOf('switchover'));

    // the sim, same parameters and seed
    const sim = runScenario(
      scenario({
        vms: [vm({ memoryBytes: 128 * MiB, workload })],
        migrations: [migration({ bandwidthBps: 1e9, downtimeLimitNs: LIMIT_MS * ms, deviceStateBytes: DEVICE })],
      }),
    ).migrations[0]!;
    const agentResult = toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs });
    const line = (m: typeof sim) =>
      `rounds ${m.rounds.map((x) => `${x.pagesSent}p/${x.durationMs.toFixed(1)}ms→${x.dirtyPagesAtEnd}`).join(' ')} | stop ${m.stopCopy!.pagesSent}p ${m.stopCopy!.durationMs.toFixed(1)}ms | total ${m.totalTimeMs!.toFixed(1)} ms | downtime ${m.downtimeMs!.toFixed(1)} ms`;
    const verifyMs = (r.endNs! - r.resumeNs!) / 1e6;
    console.log(`agent: ${line(agentResult)} (of which verification after resume ${verifyMs.toFixed(1)} ms)\nsim:   ${line(sim)}`);
    expect(agentResult.totalTimeMs).toBeCloseTo(totalMs(r), 6);
    expect(Math.abs(agentResult.totalTimeMs! - sim.totalTimeMs!) / sim.totalTimeMs!).toBeLessThan(0.15);
    expect(Math.abs(agentResult.downtimeMs! - sim.downtimeMs!) / sim.downtimeMs!).toBeLessThan(0.15);
    expect(agentResult.rounds.length).toBe(sim.rounds.length);
    // the rounds on the run clock (here: from the sender's start): round 0 begins at once, each
    // next one after the previous one's last byte plus the round-end record and the dirty-log
    // harvest (a few ms at most); the paused transfer at the switchover
    const rs = agentResult.rounds;
    expect(rs[0]!.startMs).toBeGreaterThanOrEqual(0);
    expect(rs[0]!.startMs).toBeLessThan(50);
    for (let i = 1; i < rs.length; i++) {
      const prevEnd = rs[i - 1]!.startMs + rs[i - 1]!.durationMs;
      expect(rs[i]!.startMs).toBeGreaterThanOrEqual(prevEnd);
      expect(rs[i]!.startMs - prevEnd).toBeLessThan(50);
    }
    expect(agentResult.switchoverMs!).toBeGreaterThanOrEqual(rs.at(-1)!.startMs + rs.at(-1)!.durationMs);
    expect(agentResult.stopCopy!.startMs).toBe(agentResult.switchoverMs);
  });
});

describe('auto-converge and stop-copy', () => {
  it('a guest that outruns the link is throttled as AutoConverge says, round by round', async () => {
    const { h1, port } = await agents();
    await h1.startVm(vmConfig({ memoryBytes: 32 * MiB, workload: { kind: 'uniform', writeRate: 60_000 } }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ bandwidthBps: 1e9, downtimeLimitNs: 5 * ms, maxRounds: 5, autoConverge: true }));
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(r.rounds.length).toBe(5);
    const ac = new AutoConverge();
    for (const round of r.rounds.slice(0, -1)) ac.afterRound(wireBytes(round.dirtyPagesAtEnd, 0, 4096), round.bytesSent);
    expect(r.throttlePct).toBe(ac.throttlePct);
    expect(r.throttlePct).toBeGreaterThanOrEqual(20);
    // a throttled guest dirties fewer pages per millisecond than the unthrottled round 1 did
    const perMs = (i: number) => r.rounds[i]!.dirtyPagesAtEnd / r.rounds[i]!.durationMs;
    expect(perMs(4)).toBeLessThan(perMs(1));
  });

  it('stopcopy: pause first, every page in the paused transfer', async () => {
    const { h1, port } = await agents();
    await h1.startVm(vmConfig({ memoryBytes: 16 * MiB, workload: { kind: 'uniform', writeRate: 5_000 } }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ mode: 'stopcopy' }));
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(r.rounds).toEqual([]);
    expect(r.stopCopy!.pagesSent).toBe((16 * MiB) / 4096);
    expect(r.switchover).toBe('immediate');
  });

  it('a guest that outruns the link, without auto-converge: the switchover is forced at maxRounds', async () => {
    const { h1, port } = await agents();
    await h1.startVm(vmConfig({ memoryBytes: 16 * MiB, workload: { kind: 'uniform', writeRate: 60_000 } }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ bandwidthBps: 1e9, downtimeLimitNs: 1 * ms, maxRounds: 2 }));
    expect(r.outcome).toBe('completed');
    expect(r.rounds.length).toBe(2);
    // the last round's rest, at the rate it ran, would not cross within 1 ms: forced
    const last = r.rounds[1]!;
    const pausedMs = (((wireBytes(last.dirtyPagesAtEnd, 0, 4096) + 256 * KiB) * 8) / ((last.bytesSent * 8) / (last.durationMs / 1e3))) * 1e3;
    expect(pausedMs).toBeGreaterThan(1);
    expect(r.switchover).toBe('forced');
    expect(toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs })).toMatchObject({ switchover: 'forced', lowerBounds: [] });
  });
});

describe('faults', () => {
  it('a forgotten page (cold, then hot) fails verification; the VM goes on running on the source', async () => {
    for (const page of [6000, 3]) {
      const { h1, h2, port } = await agents();
      const src = await h1.startVm(vmConfig({ memoryBytes: 32 * MiB, workload: { kind: 'hotset', writeRate: 10_000, hotsetBytes: 4 * MiB } }));
      const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ testHooks: { skipPage: page } }));
      expect(r.memoryVerified).toBe(false);
      expect(r.outcome).toBe('failed');
      expect(r.mismatches).toBe(1);
      expect(r.firstMismatch).toBe(page);
      expect(r.error).toMatch(new RegExp(`page ${page}\\b`));
      const incoming = await h2.incoming[0]!;
      expect(incoming.outcome).toBe('failed');
      expect(h2.getVm('vm1')).toBeUndefined();
      expect(h1.getVm('vm1')).toBe(src);
      const w = src.memory.writes;
      await sleep(50);
      expect(src.memory.writes).toBeGreaterThan(w);
      await h1.close();
      await h2.close();
    }
  });

  it('a connection cut mid-round: reverted, the source keeps its memory and keeps running, no unhandled rejection', async () => {
    const rejections = watchRejections();
    const events: AgentEvent[] = [];
    const h1 = new HostAgent('h1', { onEvent: (e) => void events.push(e) });
    cleanups.push(() => h1.close());
    const dest = await bareDestination();
    const src = await h1.startVm(vmConfig({ workload: { kind: 'hotset', writeRate: 20_000, hotsetBytes: 8 * MiB } }));
    // the cold part of RAM (above the hot set) must come out of this untouched
    const cold = () => crc32(src.memory.bytes.subarray(8 * MiB));
    const coldBefore = cold();
    // cut once 16 MB of round 0 (of 67 MB) have arrived
    let cut = false;
    const watcher = setInterval(() => {
      const s = dest.sockets[0];
      if (s && !cut && s.bytesRead > 16e6) {
        cut = true;
        s.destroy();
      }
    }, 1);
    cleanups.push(() => clearInterval(watcher));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port: dest.port }, params({ bandwidthBps: 1e9 }));
    expect(cut).toBe(true);
    expect(r.outcome).toBe('reverted');
    expect(r.error).toMatch(/connection/);
    expect(r.switchoverNs).toBeNull();
    expect(r.switchover).toBeNull();
    expect(r.rounds).toEqual([]);
    expect(toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs }).downtimeMs).toBeNull();
    expect(toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs }).switchover).toBeNull();
    const received = await dest.results[0]!;
    expect(received.outcome).toBe('discarded');
    expect(received.memory).toBeNull();
    expect(received.reason).toMatch(/closed/);
    // the VM is still here, logging off, running, its memory intact
    expect(h1.getVm('vm1')).toBe(src);
    expect(src.memory.logging).toBe(false);
    expect(src.guest!.alive).toBe(true);
    const w = src.memory.writes;
    await sleep(50);
    expect(src.memory.writes).toBeGreaterThan(w + 500);
    expect(cold()).toBe(coldBefore);
    expect(events.some((e) => e.kind === 'migration-reverted')).toBe(true);
    await sleep(20);
    expect(rejections).toEqual([]);
  });

  it('a connection cut during the paused transfer: reverted, and the paused guest resumes on the source', async () => {
    const rejections = watchRejections();
    let dest: Awaited<ReturnType<typeof bareDestination>> | null = null;
    const h1 = new HostAgent('h1', {
      onEvent: (e) => {
        if (e.kind === 'switchover') dest!.sockets[0]?.destroy();
      },
    });
    cleanups.push(() => h1.close());
    dest = await bareDestination();
    const src = await h1.startVm(vmConfig({ memoryBytes: 16 * MiB, workload: { kind: 'uniform', writeRate: 5_000 } }));
    // 16 MiB of device state: ~134 ms of paused transfer at 1 Gbit/s to cut into
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port: dest.port }, params({ downtimeLimitNs: 2000 * ms, deviceStateBytes: 16 * MiB }));
    expect(r.outcome).toBe('reverted');
    expect(r.switchoverNs).not.toBeNull();
    // it did pause: the reason stays (a 2 s limit takes a 16 MiB guest in one round)
    expect(r.switchover).toBe('converged');
    expect(r.resumeNs).toBeNull();
    expect((await dest.results[0]!).outcome).toBe('discarded');
    expect(src.guest!.paused).toBe(false);
    const w = src.memory.writes;
    await sleep(60);
    expect(src.memory.writes).toBeGreaterThan(w + 100);
    expect(rejections).toEqual([]);
  });

  it('aborted mid-round (a cancel): reverted at the abort, what was handed to the socket counted, gaveUpMs set, sourcePauseMs null', async () => {
    const { h1, port } = await agents();
    await h1.startVm(vmConfig({ workload: { kind: 'hotset', writeRate: 20_000, hotsetBytes: 8 * MiB } }));
    const cancel = new MigrationCancel();
    // 64 MiB at 200 Mbit/s: round 0 takes ~2.7 s; abort at 1 s
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => expect(cancel.abort('cancelled at 1s (test)')).toBe(true), 1000);
    cleanups.push(() => clearTimeout(timer));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ bandwidthBps: 200e6, cancel }));
    expect(r.outcome).toBe('reverted');
    expect(r.error).toBe('cancelled at 1s (test)');
    const m = toMigrationResult(r, { from: 'h1', to: 'h2', originNs: Number(t0) });
    // the abort's timer runs on libuv's cached loop time, which can trail hrtime by a few ms
    expect(m.gaveUpMs!).toBeGreaterThanOrEqual(990);
    expect(m.gaveUpMs!).toBeLessThan(1200);
    expect(m.sourcePauseMs).toBeNull();
    expect(m.rounds).toEqual([]);
    // 1 s at 200 Mbit/s is 25 MB; the socket's backlog (≤ 4 MiB) more at most
    expect(m.bytesSent).toBeGreaterThan(0.8 * 25e6);
    expect(m.bytesSent).toBeLessThan(25e6 + 5 * MiB);
    expect(m.pagesSent).toBe(Math.round(m.bytesSent / PAGE_WIRE));
    expect(h1.getVm('vm1')!.guest!.alive).toBe(true);
    // over: a second abort has nothing to abort
    expect(cancel.abort('again')).toBe(false);
  });

  it('aborted during a stop-copy pause: reverted, the guest resumes on the source, sourcePauseMs is the pause', async () => {
    const { h1, port } = await agents();
    const src = await h1.startVm(vmConfig({ workload: { kind: 'uniform', writeRate: 5_000 } }));
    const cancel = new MigrationCancel();
    let pausedNs = 0;
    const r = await (async () => {
      const p = h1.migrateVm('vm1', { host: '127.0.0.1', port }, params({ mode: 'stopcopy', linkBandwidthBps: 200e6, cancel }));
      await sleep(500);
      pausedNs = Number(process.hrtime.bigint());
      cancel.abort('cancelled (test)');
      return p;
    })();
    expect(r.outcome).toBe('reverted');
    const m = toMigrationResult(r, { from: 'h1', to: 'h2', originNs: r.startNs });
    expect(m.switchoverMs).not.toBeNull();
    // paused from the start (stop-copy) to the abort at ~500 ms
    expect(m.sourcePauseMs!).toBeGreaterThanOrEqual((pausedNs - r.switchoverNs!) / 1e6);
    expect(m.sourcePauseMs!).toBeLessThan((pausedNs - r.switchoverNs!) / 1e6 + 200);
    expect(m.downtimeMs).toBeNull();
    expect(src.guest!.paused).toBe(false);
  });

  it('nobody listening: reverted at once', async () => {
    const h1 = new HostAgent('h1');
    cleanups.push(() => h1.close());
    await h1.startVm(vmConfig({ memoryBytes: 1 * MiB }));
    const dest = await bareDestination(); // a port that was free a moment ago
    const port = dest.port;
    for (const c of cleanups.splice(-1)) await c();
    const r = await h1.migrateVm('vm1', `127.0.0.1:${port}`, params());
    expect(r.outcome).toBe('reverted');
    expect(r.error).toMatch(/ECONNREFUSED|closed/);
    expect(h1.getVm('vm1')!.guest!.alive).toBe(true);
  });

  it('a malformed stream is rejected with a reason; the agent goes on taking migrations', async () => {
    const { h1, h2, port } = await agents();
    const talk = async (bytes: Uint8Array): Promise<StreamRecord[]> => {
      const s = connect(port, '127.0.0.1');
      cleanups.push(() => void s.destroy());
      const replies: StreamRecord[] = [];
      const d = new StreamDecoder('reply');
      s.on('data', (c) => d.push(c, (r) => void replies.push(r)));
      s.on('error', () => undefined);
      s.write(bytes);
      await new Promise((r) => s.once('close', r));
      return replies;
    };
    const garbage = await talk(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(garbage).toEqual([{ type: 'error', reason: expect.stringMatching(/not a forward record|before HELLO/) }]);
    const early = await talk(Buffer.concat([emitHello({ vm: 'x', pageSize: 4096, pageCount: 16, deviceStateBytes: 0 }), emitDone()]));
    expect(early).toEqual([{ type: 'error', reason: 'DONE before CHECKSUMS' }]);
    const huge = await talk(emitHello({ vm: 'y', pageSize: 4096, pageCount: 2 ** 32 - 1, deviceStateBytes: 0 }));
    expect(huge[0]).toMatchObject({ type: 'error', reason: expect.stringMatching(/more than this host accepts/) });
    const results = await Promise.all(h2.incoming);
    expect(results.map((x) => x.outcome)).toEqual(['discarded', 'discarded', 'discarded']);
    expect(h2.counters).toMatchObject({ incoming: 3, discarded: 3, rejected: 3 });
    expect(h2.vmNames()).toEqual([]);
    await h1.startVm(vmConfig({ memoryBytes: 4 * MiB }));
    const ok = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params());
    expect(ok.outcome).toBe('completed');
    expect(h2.vmNames()).toEqual(['vm1']);
  });

  it('a VM that is already on the destination is refused', async () => {
    const { h1, h2, port } = await agents();
    await h1.startVm(vmConfig({ memoryBytes: 4 * MiB }));
    await h2.startVm(vmConfig({ memoryBytes: 4 * MiB }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params());
    expect(r.outcome).toBe('reverted');
    expect(r.error).toMatch(/rejected the stream: VM vm1 is already on h2/);
    expect(h1.getVm('vm1')!.guest!.alive).toBe(true);
  });
});

describe('the destination reads pages in place', () => {
  it('a hand-built stream of PAGES batches (a long run, scattered pages), PAGE and ZERO records lands byte for byte, the run straight into RAM', async () => {
    const { h2, port } = await agents();
    const PS = 4096;
    const N = 256; // 1 MiB
    const expected = new Uint8Array(N * PS);
    const fill = (p: number, seed: number): Uint8Array => {
      const d = Uint8Array.from({ length: PS }, (_, i) => (p * 131 + i * 7 + seed) & 0xff);
      expected.set(d, p * PS);
      return d;
    };
    const run = Array.from({ length: 64 }, (_, i) => 100 + i); // 256 KiB of consecutive pages
    const scattered = [3, 7, 8, 50, 255];
    const stream = [
      emitHello({ vm: 'handmade', pageSize: PS, pageCount: N, deviceStateBytes: 16 }),
      emitPages(run, run.map((p) => fill(p, 1))),
      emitPages(scattered, scattered.map((p) => fill(p, 2))),
      emitRecord({ type: 'page', page: 9, data: fill(9, 3) }),
      emitRecord({ type: 'zero', page: 10 }),
      emitRoundEnd(0, run.length + scattered.length + 2, 0),
      // the paused pages: one of the run again, newer
      emitPages([120], [fill(120, 4)]),
      emitDeviceState(new Uint8Array(16).fill(5)),
      emitChecksums(Uint32Array.from({ length: N }, (_, p) => crc32(expected.subarray(p * PS, (p + 1) * PS)))),
      emitDone(),
    ];
    const s = connect(port, '127.0.0.1');
    cleanups.push(() => void s.destroy());
    const replies: StreamRecord[] = [];
    const d = new StreamDecoder('reply');
    s.on('data', (c) => d.push(c, (r) => void replies.push(r)));
    // in pieces, with pauses: the reads land wherever the receiver asked
    for (const rec of stream) {
      for (let off = 0; off < rec.length; off += 50_000) {
        s.write(rec.subarray(off, off + 50_000));
        await sleep(2);
      }
    }
    await new Promise((r) => s.once('close', r));
    expect(replies.map((r) => r.type)).toEqual(['resumed', 'verdict']);
    expect(replies[1]).toMatchObject({ verified: true, mismatches: 0 });
    const [result] = await Promise.all(h2.incoming);
    expect(result!.outcome).toBe('completed');
    expect(Buffer.compare(h2.getVm('handmade')!.memory.bytes, expected)).toBe(0);
    // most of the long run was read in place (the first read after a header is the scratch buffer's)
    expect(result!.bytesInPlace).toBeGreaterThan(128 * 1024);
    expect(result!.bytesInPlace).toBeLessThanOrEqual(run.length * PS);
  });
});

describe('the destination reads as usual where it cannot read in place', () => {
  it('a socket already reading (not accepted paused) cannot be re-homed: the receiver takes its chunks, memory verified, nothing read in place', async () => {
    const { h1 } = await agents();
    const dest = await bareDestination({ directReads: true });
    await h1.startVm(vmConfig({ memoryBytes: 8 * MiB }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port: dest.port }, params());
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    const [got] = await Promise.all(dest.results);
    expect(got!.outcome).toBe('completed');
    expect(got!.bytesInPlace).toBe(0);
    expect(got!.bytesIn).toBeGreaterThan(8 * MiB);
  });
});

describe('a held resume (the testbed moves the VM’s network identity meanwhile)', () => {
  async function heldPair(gate: (vm: string) => Promise<void> | null, events: AgentEvent[]) {
    const onEvent = (e: AgentEvent) => void events.push(e);
    const h1 = new HostAgent('h1', { onEvent });
    const h2 = new HostAgent('h2', { onEvent, resumeGate: gate });
    cleanups.push(() => h1.close(), () => h2.close());
    return { h1, h2, port: await h2.listen(0) };
  }

  it('the VM resumes when the gate opens: the downtime includes the hold, memory verified', async () => {
    const events: AgentEvent[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { h1, h2, port } = await heldPair((vm) => (vm === 'vm1' ? gate : null), events);
    await h1.startVm(vmConfig({ memoryBytes: 16 * MiB }));
    const run = h1.migrateVm('vm1', { host: '127.0.0.1', port }, params());
    // wait until the destination holds the complete VM, then keep it 150 ms longer
    for (let i = 0; i < 500 && !events.some((e) => e.kind === 'incoming-held'); i++) await sleep(10);
    const held = events.find((e) => e.kind === 'incoming-held');
    expect(held).toBeDefined();
    expect(events.some((e) => e.kind === 'incoming-resumed')).toBe(false);
    await sleep(150);
    open();
    const r = await run;
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(downtimeMs(r)).toBeGreaterThanOrEqual(150);
    const resumed = events.find((e) => e.kind === 'incoming-resumed')!;
    expect(Number(resumed.t) - Number(held!.t)).toBeGreaterThanOrEqual(150e6);
    expect(h2.getVm('vm1')).toBeDefined();
  });

  it('a gate that refuses discards the copy; the VM goes on running on the source', async () => {
    const events: AgentEvent[] = [];
    const { h1, h2, port } = await heldPair(() => Promise.reject(new Error('the vNIC did not move')), events);
    const src = await h1.startVm(vmConfig({ memoryBytes: 8 * MiB, workload: { kind: 'uniform', writeRate: 2000 } }));
    const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, params());
    expect(r.outcome).toBe('reverted');
    expect(r.error).toMatch(/vNIC did not move/);
    expect((await h2.incoming[0]!).outcome).toBe('discarded');
    expect(h2.getVm('vm1')).toBeUndefined();
    expect(h1.getVm('vm1')).toBe(src);
    const w = src.memory.writes;
    await sleep(50);
    expect(src.memory.writes).toBeGreaterThan(w);
  });
});
