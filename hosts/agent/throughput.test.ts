// Uncapped loopback throughput of the migration stream: an idle VM (no page is sent twice),
// no rate cap, no emulated link — the socket's own pace. 64 MiB by default (≤ 256 MiB of VM
// RAM per test); AGENT_BENCH=1 measures the 256 MiB VM of the report (512 MiB of RAM).

import { afterEach, describe, expect, it } from 'vitest';
import { HostAgent } from './agent.js';
import type { SenderResult } from './migration-result.js';
import { startRemoteAgent, type RemoteAgent } from './remote-agent.js';

const MiB = 1024 ** 2;
const SIZE_MIB = process.env.AGENT_BENCH ? 256 : 64;

const open: (HostAgent | RemoteAgent)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

const gbps = (r: SenderResult): number => {
  const r0 = r.rounds[0]!;
  return (r0.bytesSent * 8) / (r0.durationMs / 1e3) / 1e9;
};

async function run(dest: 'same thread' | 'own thread', reserve: boolean): Promise<SenderResult> {
  const h1 = new HostAgent('h1');
  open.push(h1);
  let port: number;
  const geometry = { memoryBytes: SIZE_MIB * MiB, pageSize: 4096 };
  let reservedMs: number | null = null;
  if (dest === 'same thread') {
    const h2 = new HostAgent('h2');
    open.push(h2);
    port = await h2.listen(0);
    if (reserve) reservedMs = (await h2.reserve('vm1', geometry)).ms;
  } else {
    const h2 = await startRemoteAgent('h2');
    open.push(h2);
    port = h2.port;
    if (reserve) reservedMs = await h2.reserve('vm1', geometry);
  }
  await h1.startVm({ name: 'vm1', memoryBytes: SIZE_MIB * MiB, pageSize: 4096, zeroPages: 0, workload: { kind: 'idle' }, seed: 1 });
  const r = await h1.migrateVm('vm1', { host: '127.0.0.1', port }, {
    bandwidthBps: null,
    linkBandwidthBps: null,
    downtimeLimitNs: 300e6,
    maxRounds: 30,
    deviceStateBytes: 256 * 1024,
    autoConverge: false,
  });
  console.log(
    `${SIZE_MIB} MiB, destination in its ${dest}, RAM ${reservedMs === null ? 'not reserved' : `reserved (${reservedMs.toFixed(1)} ms)`}: round 0 ${r.rounds[0]!.durationMs.toFixed(1)} ms = ${gbps(r).toFixed(2)} Gbit/s; ` +
      `total ${((r.endNs! - r.startNs) / 1e6).toFixed(1)} ms, downtime ${((r.resumeNs! - r.switchoverNs!) / 1e6).toFixed(2)} ms`,
  );
  return r;
}

describe(`uncapped loopback transfer of a ${SIZE_MIB} MiB VM`, () => {
  it('destination agent in this thread', async () => {
    const r = await run('same thread', false);
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(r.rounds.length).toBe(1);
    expect(gbps(r)).toBeGreaterThan(0.2);
  });

  it('destination agent in its own thread (as in its own container)', async () => {
    const r = await run('own thread', false);
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    expect(gbps(r)).toBeGreaterThan(0.2);
  });

  it('destination agent in its own thread, its RAM reserved and faulted in ahead: the stream lands in that RAM', async () => {
    const r = await run('own thread', true);
    expect(r.outcome).toBe('completed');
    expect(r.memoryVerified).toBe(true);
    const h2 = open.at(-1) as RemoteAgent;
    const start = h2.events.find((e) => e.kind === 'incoming-start');
    expect(start?.reserved).toBe(true);
    expect(h2.events.find((e) => e.kind === 'vm-reserved')).toMatchObject({ vm: 'vm1', bytes: SIZE_MIB * MiB, complete: true });
    expect(gbps(r)).toBeGreaterThan(0.2);
  });
});
