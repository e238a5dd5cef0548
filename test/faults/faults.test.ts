// Real faults against real testbed runs (`npm run test:faults`; root and a Docker engine, as
// test:testbed): Ctrl-C and SIGTERM to the CLI, Redis paused and killed, the switch process
// and ISC dhcpd killed, the destination host's container killed, the source host's migration
// interface down for 2 s — each during vm1's pre-copy (test/faults/net.yaml: round 0 alone takes ~5.4 s),
// found by following the run's event stream. Each asserts the exit status, the time to give
// up against the documented bound (docs/testbed-wiring.md "When things fail"), the VM's state
// and the faults entry, and that the run left no container, veth or namespace behind.
// Cleanup: each test kills its own CLI if still running, brings Redis back and, if anything
// was left, runs `migsim testbed down`; afterAll takes the base down too.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MigrationResult, RunResult } from '../../model/result/format.js';
import { BUS_LOST_EXIT_MS, BUS_LOST_MS, BUS_PING_MS } from '../../testbed/bus-watch.js';
import { NETWORK_FIELDS } from '../../testbed/faults.js';
import { SIGNAL_EXIT_MS } from '../../testbed/run-watch.js';
import { containerPid, dhcpdPid, dockerCli, leftovers, migsim, migsimContainers, msSince, REPO, reviveRedis, Run, sleep, StreamWatch, switchPid } from './kit.js';

const FIXTURE = 'test/faults/net.yaml';
/** net.yaml: 128 MiB of 4 KiB pages at (4096 + 8) bytes each, capped at 200 Mbit/s: round 0's least duration */
const ROUND0_MS = ((128 * 1024 * 1024) / 4096) * (4096 + 8) * 8 / 200e6 * 1000;
const PROBE_RATE = 50;
const dir = mkdtempSync(join(tmpdir(), 'migsim-faults-'));
const say = (line: string): void => void process.stdout.write(`faults: ${line}\n`);

interface Ctx {
  run: Run;
  watch: StreamWatch;
  out: string;
}

/** A run of the fixture, its pre-copy reached; `body` injects and checks; cleanup whatever happens. */
async function faultRun(name: string, body: (c: Ctx) => Promise<void>): Promise<void> {
  const out = join(dir, `${name}.json`);
  const watch = await StreamWatch.open();
  const run = new Run(FIXTURE, out);
  try {
    await watch.waitFor((e) => e.source === 'host:h1' && e.kind === 'migration-start', 90_000, "vm1's pre-copy", run);
    await sleep(500);
    await body({ run, watch, out });
  } finally {
    run.kill();
    await run.exited;
    watch.close();
    reviveRedis();
    if ((await leftovers()).length > 0) migsim(['testbed', 'down']);
  }
}

function result(out: string): RunResult {
  return JSON.parse(readFileSync(out, 'utf8')) as RunResult;
}

/** The switch's last snapshot in the saved stream (its `switch-stopped` event), or null. */
function switchStopped(out: string): { ports: { name: string; rx: number; down: string | null }[] } | null {
  const lines = readFileSync(out.replace(/\.json$/, '.events.ndjson'), 'utf8').split('\n').filter(Boolean);
  const e = lines.map((l) => JSON.parse(l) as { source: string; kind: string; data: unknown }).find((x) => x.source === 'switch' && x.kind === 'switch-stopped');
  return (e?.data as ReturnType<typeof switchStopped>) ?? null;
}

/** stderr lines that are not the run's progress lines (created / wired / set up / removing / died). */
function saidLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^migsim: testbed: (created|wired|set up|removing|built|started|unpaused|agent|switch|dhcpd|guest|probe)/.test(l));
}

beforeAll(() => {
  execFileSync('bash', [join(REPO, 'testbed/ensure-docker.sh')], { stdio: 'inherit' });
  migsim(['testbed', 'down']);
});

// each run starts from the base up (a test before may have killed or paused Redis)
beforeEach(() => {
  migsim(['testbed', 'up']);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  migsim(['testbed', 'down']);
  expect(await migsimContainers()).toEqual([]);
});

describe('signals to `migsim run --engine testbed`', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} during pre-copy, and again during the cleanup: everything removed within ${SIGNAL_EXIT_MS / 1000} s, one line, exit ${code}, no result`, async () => {
      await faultRun(sig, async ({ run, out }) => {
        const t = process.hrtime.bigint();
        run.child.kill(sig);
        await sleep(150);
        run.child.kill(sig); // a second one while it cleans up changes nothing
        const x = await run.exited;
        const ms = msSince(t, x.atNs);
        say(`${sig}: exit ${x.code} ${ms.toFixed(0)} ms after the signal`);
        expect(x.code, run.output()).toBe(code);
        expect(ms).toBeLessThan(SIGNAL_EXIT_MS);
        const said = saidLines(run.stderr);
        expect(said, run.output()).toHaveLength(1);
        expect(said[0]).toMatch(new RegExp(`^migsim: .*\\(${sig}\\): faults-net stopped, .*removed in [\\d.]+ s, no result for it$`));
        expect(run.stdout).toBe('');
        expect(existsSync(out)).toBe(false);
        expect(existsSync(out.replace(/\.json$/, '.events.ndjson'))).toBe(false);
        expect(await leftovers()).toEqual([]);
      });
    });
  }
});

describe('the control bus (Redis) lost during pre-copy', () => {
  for (const how of ['pause', 'kill'] as const) {
    it(`docker ${how}: the run gives up after ${BUS_LOST_MS / 1000} s without an answer, writes what it measured, exits 1 within ${BUS_LOST_EXIT_MS / 1000} s`, async () => {
      await faultRun(`redis-${how}`, async ({ run, watch, out }) => {
        const origin = watch.origin();
        const t = process.hrtime.bigint();
        dockerCli(how, 'migsim-redis');
        const x = await run.exited;
        const ms = msSince(t, x.atNs);
        say(`redis ${how}: exit ${x.code} ${ms.toFixed(0)} ms after Redis stopped`);
        expect(x.code, run.output()).toBe(1);
        // it waited the documented grace, and no longer than the documented bound
        expect(ms).toBeGreaterThanOrEqual(BUS_LOST_MS - BUS_PING_MS);
        expect(ms).toBeLessThan(BUS_LOST_EXIT_MS);
        const r = result(out);
        const m = r.migrations[0]!;
        expect(m).toMatchObject({ outcome: 'failed', downtimeMs: null, totalTimeMs: null, memoryVerified: null, vmLost: false });
        expect(m.error).toMatch(/control bus \(Redis\) was lost/);
        for (const f of ['downtimeMs', 'totalTimeMs', 'memoryVerified', ...NETWORK_FIELDS]) expect(m.unmeasured[f], f).toMatch(/control bus \(Redis\) was lost/);
        const lost = r.faults.filter((f) => f.kind === 'control-bus-lost');
        expect(lost).toHaveLength(1);
        expect(lost[0]).toMatchObject({ target: 'redis', scheduled: false, lost: [] });
        // its time is Redis's last answer: at most one ping interval (and the pause's own lag) from the injection
        const atMs = msSince(origin, t);
        expect(lost[0]!.atMs!).toBeGreaterThan(atMs - BUS_PING_MS - 300);
        expect(lost[0]!.atMs!).toBeLessThan(atMs + 500);
        expect(r.network!.counters).toEqual({});
        expect(r.network!.countersUnmeasured).toMatch(/control bus \(Redis\) was lost/);
        expect(run.stderr).toMatch(/migsim: fault: faults-net: control-bus-lost redis/);
        expect(await leftovers()).toEqual([]);
      });
    });
  }
});

describe('components that die during pre-copy', () => {
  it('the switch process (SIGKILL): the migration completes, its network fields are null with the reason, exit 1', async () => {
    await faultRun('switch-kill', async ({ run, watch, out }) => {
      const origin = watch.origin();
      const t = process.hrtime.bigint();
      process.kill(switchPid(), 'SIGKILL');
      const x = await run.exited;
      expect(x.code, run.output()).toBe(1);
      const r = result(out);
      const m: MigrationResult = r.migrations[0]!;
      expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, vmLost: false, lowerBounds: [] });
      for (const f of NETWORK_FIELDS) {
        expect(m[f], f).toBeNull();
        expect(m.unmeasured[f], f).toMatch(/^the switch process died at \d+\.\d\d s$/);
      }
      const died = r.faults.find((f) => f.kind === 'component-died');
      const killMs = msSince(origin, t);
      say(`switch killed at ${(killMs / 1000).toFixed(2)} s, seen dead at ${(died!.atMs! / 1000).toFixed(2)} s`);
      expect(died).toMatchObject({ target: 'switch', scheduled: false, lost: [] });
      expect(died!.atMs!).toBeGreaterThanOrEqual(killMs);
      expect(died!.atMs! - killMs).toBeLessThan(1000);
      expect(r.network!.counters).toEqual({});
      expect(r.network!.countersUnmeasured).toMatch(/the switch process died at/);
      expect(switchStopped(out)).toBeNull();
      expect(await leftovers()).toEqual([]);
    });
  });

  it('dhcpd stopped (SIGKILL): the migration completes, its rebind is null with the reason, exit 1', async () => {
    await faultRun('dhcpd-kill', async ({ run, watch, out }) => {
      const origin = watch.origin();
      const t = process.hrtime.bigint();
      process.kill(dhcpdPid(), 'SIGKILL');
      const x = await run.exited;
      expect(x.code, run.output()).toBe(1);
      const r = result(out);
      const m: MigrationResult = r.migrations[0]!;
      expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, vmLost: false, dhcpRebindMs: null });
      expect(m.unmeasured.dhcpRebindMs).toMatch(/^the dhcpd process died at \d+\.\d\d s$/);
      const killMs = msSince(origin, t);
      const died = r.faults.find((f) => f.kind === 'component-died');
      say(`dhcpd killed at ${(killMs / 1000).toFixed(2)} s, seen dead at ${(died!.atMs! / 1000).toFixed(2)} s`);
      expect(died).toMatchObject({ target: 'dhcpd', scheduled: false, lost: [] });
      expect(died!.atMs! - killMs).toBeLessThan(1000);
      expect(await leftovers()).toEqual([]);
    });
  });

  it('the destination host container (docker kill): reverted, the VM runs on at the source, the switch serves its other ports, exit 1', async () => {
    await faultRun('dest-kill', async ({ run, watch, out }) => {
      const origin = watch.origin();
      const t = process.hrtime.bigint();
      dockerCli('kill', 'migsim-host-h2');
      const x = await run.exited;
      expect(x.code, run.output()).toBe(1);
      const r = result(out);
      const m = r.migrations[0]!;
      expect(m).toMatchObject({ outcome: 'reverted', vmLost: false, downtimeMs: null, endMs: null });
      const killMs = msSince(origin, t);
      const died = r.faults.find((f) => f.kind === 'component-died');
      say(`host h2 killed at ${(killMs / 1000).toFixed(2)} s, seen dead at ${(died!.atMs! / 1000).toFixed(2)} s`);
      expect(died).toMatchObject({ target: 'container:migsim-host-h2', scheduled: false, lost: [] });
      expect(died!.atMs!).toBeGreaterThanOrEqual(killMs);
      expect(died!.atMs! - killMs).toBeLessThan(2000);
      expect(r.faults.find((f) => f.kind === 'port-down')).toMatchObject({ target: 'h2', scheduled: false });
      // the VM went on at the source: h1's agent reverted and still held it when told to stop
      const events = readFileSync(out.replace(/\.json$/, '.events.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { source: string; kind: string; data: Record<string, unknown> });
      expect(events.some((e) => e.source === 'host:h1' && e.kind === 'migration-reverted')).toBe(true);
      expect(JSON.stringify(events.find((e) => e.source === 'host:h1' && e.kind === 'host-stopped')?.data.vms)).toContain('vm1');
      // the switch lived to the end: its snapshot is there, h2 marked down, and the probe's echoes
      // went on crossing it — more than the whole run's worth up to the kill could account for
      const snap = switchStopped(out)!;
      expect(snap).not.toBeNull();
      expect(r.network!.countersUnmeasured).toBeNull();
      expect(snap.ports.find((p) => p.name === 'h2')!.down).toBe('vanished');
      const probeRx = snap.ports.find((p) => p.name === 'probe')!.rx;
      expect(probeRx).toBeGreaterThan(0.9 * PROBE_RATE * (r.durationMs - 1000) / 1000);
      expect(probeRx).toBeGreaterThan(PROBE_RATE * (killMs + 1000) / 1000);
      expect(await leftovers()).toEqual([]);
    });
  });
});

describe("a host's migration interface down for 2 s", () => {
  it('eth0 of the source down during pre-copy, then up: the transfer resumes, the migration completes 2 s later, exit 0', async () => {
    let pid = 0;
    try {
      await faultRun('mgmt-down', async ({ run, out }) => {
        pid = containerPid('migsim-host-h1');
        execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', 'eth0', 'down']);
        await sleep(2000);
        execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', 'eth0', 'up']);
        const x = await run.exited;
        expect(x.code, run.output()).toBe(0);
        const m = result(out).migrations[0]!;
        say(`mgmt down 2 s: total ${m.totalTimeMs!.toFixed(0)} ms (round 0 at the cap alone: ${ROUND0_MS.toFixed(0)} ms)`);
        expect(m).toMatchObject({ outcome: 'completed', memoryVerified: true, vmLost: false });
        // the 2 s show: pacing never catches up beyond its cap (a few ms of slack and the socket's backlog)
        expect(m.totalTimeMs!).toBeGreaterThan(ROUND0_MS + 2000 - 500);
        expect(result(out).faults).toEqual([]);
        expect(await leftovers()).toEqual([]);
      });
    } finally {
      // the container may be gone already (the run removed it): nothing to bring back then
      if (pid > 0) spawnSync('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', 'eth0', 'up'], { stdio: 'ignore' });
    }
  });
});
