// `npm run bench:testbed`: the Docker testbed's benchmarks, side by side in one run, printed
// as Markdown rows like bench/run.ts.
//   node dist/bench/testbed.js [--only transfer|forwarding|rebind] [--quick]
//
//   transfer    page-transfer throughput between two host containers (round 0 of an idle
//               guest's pre-copy, bench/testbed/transfer.yaml, link uncapped) vs a plain TCP
//               stream of the same bytes between the same containers over the same `mgmt`
//               addresses (bench/testbed/tcp-stream.ts); goal ≥ 80 %. iperf3 between them
//               too, for the kernel's own ceiling.
//   forwarding  the switch process (hosts/switch/main.js, pacing lifted) forwarding unicast
//               IPv4/UDP frames of 64 and 1518 bytes (60 and 1514 without the FCS) blasted
//               from the probe container to the dhcp container's learned MAC
//               (bench/testbed/blast.ts); frames/s out of the switch, and where the rest went.
//   rebind      leasequery rebind latency (dhcpRebindMs) over 200 migrations of a 16 MiB guest
//               (bench/testbed/rebind-200.yaml): p50, p99, max and the moves never rebound.
//
// Needs root and a Docker engine with the testbed's image (testbed/ensure-docker.sh);
// there is one testbed per engine, so nothing else may run scenarios meanwhile. Each
// benchmark brings up its own topology and removes it at the end (on failure too).
// `--quick`: a 256 MiB guest, 50,000 frames per size, 20 migrations.

import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { RunResult } from '../model/result/format.js';
import { loadScenario } from '../model/scenario/load.js';
import type { Scenario } from '../model/scenario/types.js';
import { switchCommand, switchRunConfig, vsiTypes } from '../testbed/commands.js';
import { loadCompose, serviceOf } from '../testbed/compose.js';
import { CONTAINER_NODE, CONTAINER_REPO, ContainerProcess } from '../testbed/container-process.js';
import { runTestbed } from '../testbed/engine.js';
import { EventFollower } from '../testbed/event-follower.js';
import { listInterfaces } from '../testbed/link.js';
import { TestbedNetwork } from '../testbed/network.js';
import { MGMT_NETWORK, portName } from '../testbed/topo.js';
import { LABEL, removeContainer, TestbedNode } from '../testbed/node.js';
import { addressing } from '../model/scenario/addressing.js';
import { quitRedis, RedisBus, runKeys } from '../hosts/control/redis-bus.js';
import { sleep, withTimeout } from '../hosts/runtime/process-kit.js';
import { benchArgs, machineLine, printRows, type Row } from './report.js';

const { only, quick } = benchArgs();

const MiB = 1024 * 1024;
const REDIS_PORT = 6379;
const TCP_PORT = 7101;
const docker = new Docker();
const log = (line: string) => process.stderr.write(`bench:testbed: ${line}\n`);
const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

const median = (xs: number[]): number => percentile(xs, 0.5);
/** Nearest-rank percentile (p in 0..1) of a non-empty list. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number) => Math.round(x).toLocaleString('en-US');

// ---- testbed plumbing ---------------------------------------------------------------------

/** A testbed container by role and name, for exec and inspect only (no topology object needed). */
function container(role: 'host' | 'switch' | 'dhcp' | 'probe', name: string | null = null): TestbedNode {
  return new TestbedNode(serviceOf(loadCompose(), role), name, { docker, image: '', runId: '' });
}

/**
 * Removes the topology of `s` (kept by keepTopology, or ours after a failure). Only ours: if
 * another scenario's containers are up (someone else's testbed run), those are left alone.
 */
async function removeOwnTopology(net: TestbedNetwork, s: Scenario): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
  const mine = all.filter((c) => c.Labels[LABEL.scenario] === s.name);
  if (mine.length === 0) return;
  if (mine.length === all.length) {
    await net.removeTopology();
  } else {
    log(`other topologies are up: removing only the ${mine.length} containers of ${s.name}`);
    await Promise.all(mine.map((c) => removeContainer(docker, c.Id)));
  }
}

/** Runs `node /migsim/dist/SCRIPT ARGS` in a container; its last stdout line as JSON. */
async function nodeIn<T>(n: TestbedNode, script: string, argv: string[], timeoutMs: number, onStdout?: (s: string) => void): Promise<T> {
  const r = await n.exec([CONTAINER_NODE, `${CONTAINER_REPO}/dist/${script}`, ...argv], { timeoutMs, ...(onStdout ? { onStdout } : {}) });
  if (r.code !== 0) throw new Error(`${n.containerName}: ${script} ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${n.containerName}: ${script}: no JSON result: ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
}

// ---- 1. page transfer vs plain TCP --------------------------------------------------------

interface TcpSend {
  bytes: number;
  ms: number;
  connectMs: number;
}
interface TcpRecv {
  bytes: number;
  acceptToEndMs: number;
  firstToLastMs: number;
}

/** One plain TCP stream of `bytes` from host `from` to host `to` over their mgmt addresses. */
async function tcpStream(from: string, to: string, bytes: number): Promise<{ send: TcpSend; recv: TcpRecv }> {
  const src = container('host', from);
  const dst = container('host', to);
  const ip = await dst.networkIp(MGMT_NETWORK);
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const recv = nodeIn<TcpRecv>(dst, 'bench/testbed/tcp-stream.js', ['recv', '--port', String(TCP_PORT)], 600_000, (s) => {
    if (s.includes('listening')) listening();
  });
  recv.catch(() => undefined);
  await Promise.race([ready, recv.then(() => Promise.reject(new Error('the TCP receiver ended before listening')))]);
  const send = await nodeIn<TcpSend>(src, 'bench/testbed/tcp-stream.js', ['send', '--to', `${ip}:${TCP_PORT}`, '--bytes', String(bytes)], 600_000);
  const r = await recv;
  if (r.bytes !== bytes || send.bytes !== bytes) throw new Error(`TCP stream: sent ${send.bytes}, received ${r.bytes}, wanted ${bytes}`);
  return { send, recv: r };
}

const gbps = (bytes: number, ms: number) => (bytes * 8) / (ms * 1e6);

const IPERF_PORT = 7102;
interface Iperf {
  /** the client's (sender's) rate and the server's (receiver's), Gbit/s */
  sentGbps: number;
  receivedGbps: number;
}

/** iperf3 (the C tool, defaults: 128 KiB writes) sending `bytes` from host `from` to host `to` over their mgmt addresses. */
async function iperfStream(from: string, to: string, bytes: number): Promise<Iperf> {
  const src = container('host', from);
  const dst = container('host', to);
  const ip = await dst.networkIp(MGMT_NETWORK);
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  // --forceflush: its stdout is a pipe here, and "Server listening" must arrive before the client starts
  const server = dst.exec(['iperf3', '--server', '--one-off', '--forceflush', '--port', String(IPERF_PORT)], {
    timeoutMs: 600_000,
    onStdout: (s) => {
      if (s.includes('listening')) listening();
    },
  });
  server.catch(() => undefined);
  await withTimeout(
    Promise.race([ready, server.then((r) => Promise.reject(new Error(`iperf3 server ended before listening: ${r.stdout} ${r.stderr}`)))]),
    15_000,
    'iperf3 server listening',
  );
  const c = await src.exec(['iperf3', '--client', ip, '--port', String(IPERF_PORT), '--bytes', String(bytes), '--json'], { timeoutMs: 600_000 });
  await server;
  if (c.code !== 0) throw new Error(`iperf3 client: exit ${c.code}: ${c.stdout.slice(0, 500)} ${c.stderr}`);
  const j = JSON.parse(c.stdout) as { end: { sum_sent: { bits_per_second: number; bytes: number }; sum_received: { bits_per_second: number } } };
  if (j.end.sum_sent.bytes < bytes) throw new Error(`iperf3 sent ${j.end.sum_sent.bytes} bytes, wanted ${bytes}`);
  return { sentGbps: j.end.sum_sent.bits_per_second / 1e9, receivedGbps: j.end.sum_received.bits_per_second / 1e9 };
}

async function transfer(): Promise<Row[]> {
  let s = loadScenario('bench/testbed/transfer.yaml');
  if (quick) {
    // a quarter of the guest, and moves 4 s apart instead of 12 (its adoption is quicker too)
    s = {
      ...s,
      vms: s.vms.map((v) => ({ ...v, memoryBytes: 256 * MiB, pageCount: (256 * MiB) / v.pageSize })),
      migrations: s.migrations.map((m, i) => ({ ...m, atNs: 3e9 + i * 4e9 })),
    };
  }
  const vm = s.vms[0]!;
  const net = new TestbedNetwork({ log });
  const pages: { from: string; to: string; bytes: number; ms: number; gbps: number; total: number; downtime: number }[] = [];
  const tcp: { from: string; to: string; send: TcpSend; recv: TcpRecv; gbps: number; recvGbps: number }[] = [];
  const iperf: Iperf[] = [];
  /** the destinations' RAM reservations, ms; and the share of each stream read straight into RAM */
  const reservedMs: number[] = [];
  const inPlace: number[] = [];
  let result: RunResult;
  try {
    log(`transfer: ${s.migrations.length} migrations of a ${vm.memoryBytes / MiB} MiB idle guest`);
    const eventsFile = '/tmp/migsim-bench-testbed-transfer.events.ndjson';
    result = await runTestbed(s, { keepTopology: true, log, eventsFile });
    writeFileSync('/tmp/migsim-bench-testbed-transfer.json', JSON.stringify(result, null, 1));
    for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { kind: string; data: Record<string, unknown> };
      if (e.kind === 'vm-reserved') reservedMs.push(Number(e.data.ms));
      if (e.kind === 'incoming-verdict') inPlace.push(Number(e.data.bytesInPlace) / Number(e.data.bytesIn));
    }
    for (const m of result.migrations) {
      const r0 = m.rounds[0];
      if (m.outcome !== 'completed' || m.memoryVerified !== true || !r0) {
        throw new Error(`migration ${m.from}→${m.to}: ${m.outcome}, verified ${String(m.memoryVerified)}: ${m.error ?? ''}`);
      }
      pages.push({ from: m.from, to: m.to, bytes: r0.bytesSent, ms: r0.durationMs, gbps: gbps(r0.bytesSent, r0.durationMs), total: m.totalTimeMs ?? NaN, downtime: m.downtimeMs ?? NaN });
    }
    // the same containers, the same directions, the same bytes: plain TCP
    for (const p of pages) {
      const t = await tcpStream(p.from, p.to, p.bytes);
      tcp.push({ from: p.from, to: p.to, ...t, gbps: gbps(p.bytes, t.send.ms), recvGbps: gbps(p.bytes, t.recv.firstToLastMs) });
      iperf.push(await iperfStream(p.from, p.to, p.bytes));
      log(`transfer: ${p.from}→${p.to} pages ${fmt(p.gbps)} Gbit/s, TCP ${fmt(tcp.at(-1)!.gbps)} Gbit/s, iperf3 ${fmt(iperf.at(-1)!.sentGbps)} Gbit/s`);
    }
  } finally {
    await removeOwnTopology(net, s);
  }
  const pg = median(pages.map((p) => p.gbps));
  const tg = median(tcp.map((t) => t.gbps));
  const ig = median(iperf.map((t) => t.sentGbps));
  const ratio = pg / tg;
  const size = `${vm.memoryBytes / MiB >= 1024 ? `${vm.memoryBytes / 1024 / MiB} GiB` : `${vm.memoryBytes / MiB} MiB`}`;
  const each = (xs: number[]) => xs.map((x) => fmt(x)).join(', ');
  return [
    {
      name: `Page transfer between two host containers: round 0 of a ${size} idle guest, link uncapped (median of ${pages.length} moves)`,
      measured: `${fmt(pg)} Gbit/s = ${fmt(ratio * 100, 0)} % of plain TCP in Node, ${fmt((pg / ig) * 100, 0)} % of iperf3`,
      target: '≥ 80 % of plain TCP (both)',
      ok: ratio >= 0.8 && pg / ig >= 0.8,
      detail: `moves ${pages.map((p) => `${p.from}→${p.to}`).join(', ')}: ${each(pages.map((p) => p.gbps))} Gbit/s; ${int(pages[0]!.bytes)} bytes of page records each; ` +
        `total ${each(pages.map((p) => p.total / 1000))} s, downtime ${pages.map((p) => fmt(p.downtime, 1)).join(', ')} ms; every move verified; ` +
        `read straight into the destination's RAM: ${inPlace.map((x) => fmt(x * 100, 1)).join(', ')} % of each stream; ` +
        `destination RAM reserved ahead in ${reservedMs.map((x) => fmt(x, 0)).join(', ')} ms`,
    },
    {
      name: `Plain TCP stream (Node, bench/testbed/tcp-stream.ts), same containers, mgmt addresses, directions and bytes (reference, median of ${tcp.length})`,
      measured: `${fmt(tg)} Gbit/s`,
      target: 'reference',
      ok: null,
      detail: `sender side (first write → last write handed to the kernel, as a round is timed), 256 KiB writes, each waited out ('drain') before the next, Nagle off: ${each(tcp.map((t) => t.gbps))} Gbit/s; ` +
        `receiver side (first → last byte): ${each(tcp.map((t) => t.recvGbps))} Gbit/s`,
    },
    {
      name: `iperf3 (Debian's, defaults: 128 KiB writes of one buffer), same containers, directions and bytes (reference, median of ${iperf.length})`,
      measured: `${fmt(ig)} Gbit/s`,
      target: 'reference',
      ok: null,
      detail: `sender ${each(iperf.map((t) => t.sentGbps))} Gbit/s; receiver ${each(iperf.map((t) => t.receivedGbps))} Gbit/s`,
    },
  ];
}

// ---- 2. switch forwarding -----------------------------------------------------------------

interface PortSnapshot {
  name: string;
  rx: number;
  tx: number;
  pcap: { rx: number; tx: number; sendErrors: number; truncated: number };
  pace: { sent: number; dropped: number; maxQueued: number };
}
interface SwitchSnapshot {
  counters: Record<string, number>;
  ports: PortSnapshot[];
  runner: { receiveErrors: number; uncaught: number };
}
interface BlastResult {
  sent: number;
  errors: number;
  ms: number;
  fps: number;
}

/** An interface counter in a container's network namespace, read through its /sys (no process started). */
function ifCounter(pid: number, ifname: string, counter: string): number {
  return Number(readFileSync(`/proc/${pid}/root/sys/class/net/${ifname}/statistics/${counter}`, 'utf8'));
}

async function forwarding(): Promise<Row[]> {
  const s = loadScenario('bench/testbed/forwarding.yaml');
  const N = quick ? 50_000 : 200_000;
  const net = new TestbedNetwork({ log });
  let redis: Redis | null = null;
  let follower: EventFollower | null = null;
  let sw: ContainerProcess | null = null;
  let run = '';
  const rows: Row[] = [];
  try {
    const up = await net.upFresh(s);
    run = `${up.runId}-fwd${Date.now().toString(36)}`;
    const redisIp = await net.mgmtIp('redis');
    redis = new Redis({ host: redisIp, port: REDIS_PORT, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    const bus = new RedisBus(redis, run);
    await bus.defineVsiTypes(vsiTypes(s));
    await bus.writeSwitchConfig(switchRunConfig(s));
    follower = new EventFollower(redis.duplicate(), run);
    const f = follower;
    // the testbed's switch command, with the egress pacing (50,000 frames/s per port) lifted:
    // what is measured is the process, not the policy
    const cmd = switchCommand(net.topology!, run, `${redisIp}:${REDIS_PORT}`);
    sw = await ContainerProcess.start(net.node('switch'), 'switch', cmd.script, [...cmd.args, '--pace-rate', '100000000', '--pace-burst', '1000000']);
    await f.waitFor((e) => e.source === 'switch' && e.kind === 'switch-ready', 60_000, 'switch-ready');

    const stats = async (): Promise<SwitchSnapshot> => {
      const from = f.mark();
      await bus.publishControl({ type: 'stats', to: 'switch' });
      const e = await f.waitFor((x) => x.source === 'switch' && x.kind === 'switch-stats', 30_000, 'switch-stats', from);
      return e.data as unknown as SwitchSnapshot;
    };
    const probe = net.node('probe');
    const dhcp = net.node('dhcp');
    const [probePid, dhcpPid, swPid] = await Promise.all([probe.pid(), dhcp.pid(), net.node('switch').pid()]);
    const probeMac = (await listInterfaces(probePid)).get('eth0')?.mac;
    const dhcpMac = (await listInterfaces(dhcpPid)).get('eth0')?.mac;
    if (!probeMac || !dhcpMac) throw new Error('no eth0 in the probe or dhcp container');
    const a = addressing(s.dhcp!.subnet, 0);
    const blast = (from: TestbedNode, src: string, dst: string, srcIp: string, dstIp: string, size: number, count: number) =>
      nodeIn<BlastResult>(from, 'bench/testbed/blast.js', ['--if', 'eth0', '--src', src, '--dst', dst, '--src-ip', srcIp, '--dst-ip', dstIp, '--size', String(size), '--count', String(count)], 300_000);

    // the switch learns the dhcp container's MAC on its dhcp-server port (one frame, flooded to the probe)
    await blast(dhcp, dhcpMac, probeMac, a.serverIp, a.probeIp, 60, 1);
    await sleep(300);
    const learned = await stats();
    const dhcpPort = learned.ports.find((p) => p.name === 'dhcp');
    const probePort = learned.ports.find((p) => p.name === 'probe');
    if (!dhcpPort || !probePort || dhcpPort.rx < 1) throw new Error(`the switch did not see the learning frame from dhcp: ${JSON.stringify(learned.ports)}`);
    const swIn = portName('probe');
    // warm-up (not measured): the switch's forwarding path compiled by the JIT before the clock runs
    for (const size of [60, 1514]) await blast(probe, probeMac, dhcpMac, a.probeIp, a.serverIp, size, 20_000);
    await sleep(1000);

    interface Trial {
      blast: BlastResult;
      atSwitch: number;
      handed: number;
      swTx: number;
      paceDropped: number;
      received: number;
      fps: number;
      spanMs: number;
    }
    const port = (snap: SwitchSnapshot, name: string) => snap.ports.find((p) => p.name === name)!;
    const trial = async (size: number): Promise<Trial> => {
      const before = await stats();
      const in0 = ifCounter(swPid, swIn, 'rx_packets');
      const out0 = ifCounter(dhcpPid, 'eth0', 'rx_packets');
      const samples: [number, number][] = [[hrMs(), out0]];
      const poll = setInterval(() => samples.push([hrMs(), ifCounter(dhcpPid, 'eth0', 'rx_packets')]), 5);
      let b: BlastResult;
      try {
        b = await blast(probe, probeMac, dhcpMac, a.probeIp, a.serverIp, size, N);
        // until the switch has drained its ring: no frame out for 500 ms
        for (let last = -1, still = 0; still < 5; ) {
          await sleep(100);
          const now = ifCounter(dhcpPid, 'eth0', 'rx_packets');
          still = now === last ? still + 1 : 0;
          last = now;
        }
      } finally {
        clearInterval(poll);
      }
      const out1 = ifCounter(dhcpPid, 'eth0', 'rx_packets');
      const in1 = ifCounter(swPid, swIn, 'rx_packets');
      const after = await stats();
      const d = (name: string, k: (p: PortSnapshot) => number) => k(port(after, name)) - k(port(before, name));
      // the rate while frames flowed: between the first and the last sample taken strictly
      // inside the flow (so every interval counted was busy from end to end)
      const inside = samples.filter(([, n]) => n > out0 && n < out1);
      const first = inside[0];
      const last = inside.at(-1);
      const spanMs = first && last ? last[0] - first[0] : 0;
      return {
        blast: b, atSwitch: in1 - in0, handed: d('probe', (p) => p.pcap.rx), swTx: d('dhcp', (p) => p.pcap.tx), paceDropped: d('dhcp', (p) => p.pace.dropped),
        received: out1 - out0, fps: spanMs > 50 ? ((last![1] - first![1]) * 1000) / spanMs : NaN, spanMs,
      };
    };

    const TRIALS = quick ? 1 : 3;
    for (const size of [60, 1514]) {
      const trials: Trial[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const t = await trial(size);
        trials.push(t);
        log(`forwarding ${size + 4} B: blaster ${int(t.blast.sent)} at ${int(t.blast.fps)} fps; ${int(t.atSwitch)} reached sw-probe, ${int(t.handed)} handed to the switch, ${int(t.swTx)} sent, ${int(t.received)} received; ${int(t.fps)} fps over ${fmt(t.spanMs, 0)} ms`);
      }
      const t = [...trials].sort((x, y) => x.fps - y.fps)[Math.floor(trials.length / 2)]!;
      const wire = size + 4;
      const loss = 1 - t.received / t.blast.sent;
      rows.push({
        name: `Switch process forwarding ${wire}-byte frames (${size} B + FCS), probe port → learned MAC on the dhcp-server port, pacing lifted${TRIALS > 1 ? ` (median of ${TRIALS})` : ''}`,
        measured: `${int(Math.round(t.fps / 1000) * 1000)} frames/s (${fmt((t.fps * wire * 8) / 1e9, 2)} Gbit/s), loss ${fmt(loss * 100, 1)} %`,
        target: 'none (tracked)',
        ok: null,
        detail: `${TRIALS > 1 ? `trials ${trials.map((x) => int(x.fps)).join(', ')} frames/s; median trial: ` : ''}${int(t.blast.sent)} unicast IPv4/UDP frames blasted from the probe container at ${int(t.blast.fps)} frames/s (libpcap inject); ` +
          `${int(t.atSwitch)} reached sw-probe, ${int(t.handed)} were handed to the switch by libpcap (${int(t.atSwitch - t.handed)} dropped in its 64 MiB ring), ` +
          `${int(t.swTx)} sent out of sw-dhcp (${int(t.paceDropped)} pacing drops), ${int(t.received)} reached the dhcp container; ` +
          `rate at the receiving interface's counter over ${fmt(t.spanMs / 1000, 2)} s of flow (the testbed's own runs pace each port at 50,000 frames/s)`,
      });
    }
    const final = await stats();
    if (final.runner.receiveErrors > 0 || final.runner.uncaught > 0) log(`forwarding: switch faults ${JSON.stringify(final.runner)}`);
  } finally {
    if (sw) {
      const exit = await sw.stop(10_000).catch(() => ({ code: -1 }));
      if (exit.code !== 0) log(`forwarding: the switch exited with ${exit.code}\n${sw.output()}`);
    }
    await follower?.stop().catch(() => undefined);
    if (redis) {
      if (run) {
        const k = runKeys(run);
        await redis.del(k.events, k.vsiTypes, k.switchConfig, k.switchReady).catch(() => undefined);
      }
      await quitRedis(redis);
    }
    await removeOwnTopology(net, s);
  }
  return rows;
}

// ---- 3. leasequery rebind over 200 migrations ---------------------------------------------

async function rebind(): Promise<Row[]> {
  let s = loadScenario('bench/testbed/rebind-200.yaml');
  if (quick) {
    const ms = s.migrations.slice(0, 20);
    s = { ...s, migrations: ms, durationNs: ms.at(-1)!.atNs + 5e9 };
  }
  const net = new TestbedNetwork({ log });
  let r: RunResult;
  try {
    log(`rebind: ${s.migrations.length} migrations, ${(s.durationNs ?? 0) / 1e9} s`);
    r = await runTestbed(s, { log, eventsFile: '/tmp/migsim-bench-testbed-rebind.events.ndjson' });
  } finally {
    await removeOwnTopology(net, s);
  }
  writeFileSync('/tmp/migsim-bench-testbed-rebind.json', JSON.stringify(r, null, 1));
  const ms = r.migrations;
  const completed = ms.filter((m) => m.outcome === 'completed').length;
  const values = ms.map((m) => m.dhcpRebindMs);
  const got = values.filter((v): v is number => v !== null);
  const nulls = values.length - got.length;
  const zeros = got.filter((v) => v === 0).length;
  // from the switch's log: the move (switchover) → the binding on the destination port, and
  // the leasequery's round trip, each within the move's window (up to the next move's start)
  const ev = r.network?.events ?? [];
  const mac = s.vms[0]!.mac;
  const moveToBound: number[] = [];
  const rtt: number[] = [];
  ms.forEach((m, i) => {
    if (m.switchoverMs === null) return;
    const until = s.migrations[i + 1]?.atNs !== undefined ? s.migrations[i + 1]!.atNs / 1e6 : r.durationMs;
    const win = ev.filter((e) => e.t >= m.switchoverMs! && e.t < Math.max(until, m.endMs ?? 0) && e.mac === mac);
    const bound = win.find((e) => e.kind === 'binding-moved' && e.to === m.to);
    if (bound) moveToBound.push(bound.t - m.switchoverMs);
    const sent = win.find((e) => e.kind === 'leasequery-sent');
    const reply = sent && win.find((e) => e.kind === 'leasequery-reply' && e.t >= sent.t);
    if (sent && reply) rtt.push(reply.t - sent.t);
  });
  const lag = ms.map((m, i) => m.startMs - s.migrations[i]!.atNs / 1e6);
  const totals = ms.map((m) => m.totalTimeMs).filter((x): x is number => x !== null);
  const downtimes = ms.map((m) => m.downtimeMs).filter((x): x is number => x !== null);
  return [
    {
      name: `Leasequery rebind (vdp extended, dhcpRebind leasequery): dhcpRebindMs over ${ms.length} migrations of a 16 MiB guest, 1 Gbit/s, every 600 ms`,
      measured: got.length > 0 ? `p50 ${fmt(percentile(got, 0.5))} ms, p99 ${fmt(percentile(got, 0.99))} ms, max ${fmt(Math.max(...got))} ms` : 'no value',
      target: 'none (tracked); every move rebound',
      ok: nulls === 0 && completed === ms.length,
      detail: `${nulls} null (never rebound in its window), ${zeros} of ${got.length} bound before the guest resumed (0); ${completed}/${ms.length} completed; ` +
        `switchover → binding moved p50 ${fmt(median(moveToBound))} ms, p99 ${fmt(percentile(moveToBound, 0.99))} ms (${moveToBound.length} seen); ` +
        `leasequery round trip p50 ${fmt(median(rtt))} ms, p99 ${fmt(percentile(rtt, 0.99))} ms; ` +
        `downtime p50 ${fmt(median(downtimes), 1)} ms, p99 ${fmt(percentile(downtimes, 0.99), 1)} ms; migration total p50 ${fmt(median(totals), 0)} ms, max ${fmt(Math.max(...totals), 0)} ms; ` +
        `start behind schedule by up to ${fmt(Math.max(...lag), 0)} ms`,
    },
  ];
}

// ---- the run ------------------------------------------------------------------------------

const benches: Record<string, () => Promise<Row[]>> = { transfer, forwarding, rebind };
if (only && !(only in benches)) {
  process.stderr.write(`--only ${only}: expected one of ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}

const rows: Row[] = [];
/** the 1-minute load average as each benchmark started: other work on the machine shows here */
const loads: string[] = [];
for (const [name, fn] of Object.entries(benches)) {
  if (only && only !== name) continue;
  loads.push(`${name} ${loadavg()[0]!.toFixed(2)}`);
  log(`${name}${quick ? ' (quick)' : ''}…`);
  const t0 = Date.now();
  try {
    rows.push(...(await fn()));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`${name} failed: ${msg}`);
    rows.push({ name, measured: 'failed', target: '', ok: false, detail: msg.split('\n')[0]! });
  }
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

let dockerVersion = 'unknown';
try {
  dockerVersion = (await docker.version()).Version;
} catch {
  // no engine: every row above failed already
}
console.log(machineLine([`Docker ${dockerVersion}`]));
console.log(`Date: ${new Date().toISOString().slice(0, 10)}${quick ? ' (--quick)' : ''}; 1-minute load average at each benchmark's start: ${loads.join(', ')}\n`);
printRows(rows);
