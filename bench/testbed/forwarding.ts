// The switch process forwarding 64 B and 1518 B frames blasted through it (pacing lifted):
// frames/s out of the switch, and where the rest went.

import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { loadScenario } from '../../model/scenario/load.js';
import { switchCommand, switchRunConfig, vsiTypes } from '../../testbed/commands.js';
import { ContainerProcess } from '../../testbed/container-process.js';
import { EventFollower } from '../../testbed/event-follower.js';
import { listInterfaces } from '../../testbed/link.js';
import { TestbedNetwork } from '../../testbed/network.js';
import { portName } from '../../testbed/topo.js';
import { TestbedNode } from '../../testbed/node.js';
import { addressing } from '../../model/scenario/addressing.js';
import { quitRedis, RedisBus, runKeys } from '../../hosts/control/redis-bus.js';
import { sleep } from '../../hosts/runtime/process-kit.js';
import { type Row } from '../report.js';
import { REDIS_PORT, fmt, hrMs, int, log, nodeIn, quick, removeOwnTopology } from './kit.js';

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

export async function forwarding(): Promise<Row[]> {
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

