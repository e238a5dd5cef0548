// Every data-plane process of a testbed run together, without Docker: the real switch
// process (node dist/hosts/switch/main.js) in the root namespace on one veth per port, and the
// processes of this change in network namespaces wired the testbed's way
// (testbed/network.ts): a host's `uplink` to the switch, the VM's eth0 peered with
// `vnic-vm1` inside its current host, tc-redirected to the uplink; moving the VM moves that
// peer into the other host. One migration with `vdp: extended`, `dhcpRebind: leasequery`,
// `igmpRebind: query`, measured from the Redis stream and the processes' logs.
//
//   switch (root)  h1:host  h2:host  dhcp:dhcp-server  ms0:mrouter  probe:access
//   h1, h2         node dist/hosts/agent/main.js (pre-copy over the `mgmt` veth, VDP station)
//   vm             node dist/hosts/vm/main.js (udhcpc, kernel IGMP, echo)
//   dhcp           node dist/hosts/dhcp/main.js (ISC dhcpd), ms / probe: hosts/traffic/*.js
//
// `npm run test:procs` (root; iproute2, isc-dhcp-server, busybox, redis-server, ethtool, libpcap-dev).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressing } from '../../model/scenario/addressing.js';
import { readEvents, type StreamEvent } from '../../hosts/control/event-stream.js';
import type { RedisBus, SwitchRunConfig } from '../../hosts/control/redis-bus.js';
import { Bed, build, dist, ms, PREFIX, readNdjson, runSync, sleep, startRunRedis, UNIX_PROXY, until, type Child, type Obs } from './helpers.js';

const RUN = `pe${process.pid}`;
const SUBNET = '10.77.0.0/24';
const ADDR = addressing(SUBNET, 1);
const GROUP = '239.1.1.1';
const LISTEN = 7100;
const VM = {
  name: 'vm1', memoryBytes: 16 * 1024 * 1024, pageSize: 4096, mac: '02:00:00:00:01:01', vlan: 10,
  vsiType: { id: 100, version: 1 }, multicast: [GROUP], workload: { kind: 'hotset', writeRate: 2000, hotsetBytes: 2 * 1024 * 1024 },
};
const CONFIG: SwitchRunConfig = {
  vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query', ipSourceGuard: true, igmpQueryIntervalNs: 125e9,
  mac: '02:5e:00:00:00:01', ip: ADDR.switchIp, pvid: 10,
};
/** switch port name, role, root-side interface, the namespace and its interface */
const PORTS = [
  { name: 'h1', role: 'host', ifname: `${PREFIX}s1`, ns: 'h1', peer: 'uplink', mac: '02:48:00:00:00:01' },
  { name: 'h2', role: 'host', ifname: `${PREFIX}s2`, ns: 'h2', peer: 'uplink', mac: '02:48:00:00:00:02' },
  { name: 'dhcp', role: 'dhcp-server', ifname: `${PREFIX}s3`, ns: 'dhcp', peer: 'eth0', mac: '02:d0:00:00:00:01' },
  { name: 'ms0', role: 'mrouter', ifname: `${PREFIX}s4`, ns: 'ms', peer: 'eth0', mac: '02:4d:00:00:00:01' },
  { name: 'probe', role: 'access', ifname: `${PREFIX}s5`, ns: 'probe', peer: 'eth0', mac: '02:50:00:00:00:01' },
] as const;

interface Tb {
  bed: Bed;
  redis: Redis;
  bus: RedisBus;
  sw: Child;
  agents: Map<string, Child>;
  dhcp: Child;
  vm: Child;
  ms: Child | null;
  probe: Child | null;
  vmLog: string;
  probeLog: string;
  vmIp: string;
}

let tb: Tb | null = null;
const report: string[] = [];
const T = (): Tb => {
  if (!tb) throw new Error('set-up failed');
  return tb;
};
const events = (): Promise<StreamEvent[]> => readEvents(T().redis, RUN);
const more = () => (tb ? tb.bed.diagnostics() : '');
const vmObs = (): Obs[] => readNdjson(T().vmLog);

async function event(pred: (e: StreamEvent) => boolean, timeoutMs: number, what: string): Promise<StreamEvent> {
  let last: StreamEvent[] = [];
  return until(async () => (last = await events()).find(pred), timeoutMs, what, () =>
    `${last.slice(-50).map((e) => `${e.t} ${e.source} ${e.kind} ${JSON.stringify(e.data).slice(0, 240)}`).join('\n')}\n${more()}`);
}

const control = (to: string, type: string, body: Record<string, unknown> = {}) => T().bus.publishControl({ ...body, type, to });

describe('a testbed LAN in namespaces: the real switch process with the host agents, the guest, dhcpd, the source and the probe', () => {
  beforeAll(async () => {
    let bed: Bed | null = null;
    try {
      bed = new Bed('e2e');
      build();
      const { redisServer, redis, bus } = await startRunRedis(bed, RUN, [{ id: VM.vsiType.id, version: VM.vsiType.version, vlan: VM.vlan, macs: [VM.mac] }], CONFIG);

      for (const ns of ['h1', 'h2', 'vm', 'dhcp', 'ms', 'probe']) bed.addNetns(ns);
      for (const p of PORTS) bed.veth(null, p.ifname, bed.ns(p.ns), p.peer, { bMac: p.mac });
      bed.veth(bed.ns('h1'), 'mgmt', bed.ns('h2'), 'mgmt');
      bed.addr(bed.ns('h1'), 'mgmt', '10.99.0.1/24');
      bed.addr(bed.ns('h2'), 'mgmt', '10.99.0.2/24');
      // the VM's identity: eth0 in its namespace, its peer in its host, forwarded to the uplink
      bed.veth(bed.ns('vm'), 'eth0', bed.ns('h1'), 'vnic-vm1', { aMac: VM.mac });
      bed.hub(bed.ns('h1'), ['vnic-vm1', 'uplink']);
      bed.addr(bed.ns('ms'), 'eth0', `${ADDR.sourceIp(0)}/24`);
      bed.addr(bed.ns('probe'), 'eth0', `${ADDR.probeIp}/24`);

      const sw = bed.node(null, dist('hosts/switch/main.js'), ['--redis', `127.0.0.1:${redisServer.port}`, '--run', RUN, ...PORTS.flatMap((p) => ['--port', `${p.name}:${p.role}:${p.ifname}`])], 'switch');
      await until(async () => (await bus.readSwitchReady()) !== null || !sw.running, 20_000, 'switch ready', () => sw.output());
      if (!sw.running) throw new Error(`switch exited\n${sw.output()}`);

      const dhcpLog = join(bed.tmp, 'dhcpd.ndjson');
      const dhcp = bed.node(bed.ns('dhcp'), dist('hosts/dhcp/main.js'), ['--subnet', SUBNET, '--lease-time', '10m', '--sources', '1', '--dir', join(bed.tmp, 'dhcp'), '--log', dhcpLog], 'dhcp');
      await until(() => readNdjson(dhcpLog).some((o) => o.kind === 'dhcpd' && String(o.line).includes('Server starting service')), 15_000, 'dhcpd serving', () => bed!.diagnostics());

      const proxy = join(bed.tmp, 'redis-proxy.mjs');
      writeFileSync(proxy, UNIX_PROXY);
      const agents = new Map<string, Child>();
      for (const [h, ip] of [['h1', '10.99.0.1'], ['h2', '10.99.0.2']] as const) {
        const p = bed.node(bed.ns(h), proxy, ['6379', redisServer.socket], `redis proxy ${h}`);
        await until(() => p.lines.includes('ready'), 10_000, `redis proxy in ${h}`, () => p.output());
        agents.set(h, bed.node(bed.ns(h), dist('hosts/agent/main.js'), ['--redis', '127.0.0.1:6379', '--run', RUN, '--host', h, '--uplink', 'uplink', '--listen', String(LISTEN), '--advertise', `${ip}:${LISTEN}`], `agent ${h}`));
      }
      for (const [h, a] of agents) await until(() => a.lines.includes('ready') || !a.running, 30_000, `agent ${h} ready`, () => a.output());

      tb = { bed, redis, bus, sw, agents, dhcp, vm: null as unknown as Child, ms: null, probe: null, vmLog: join(bed.tmp, 'vm', 'vm.ndjson'), probeLog: join(bed.tmp, 'probe.ndjson'), vmIp: '' };

      // libvirt: associate the vNIC, then start the VM
      await control('host:h1', 'vm-create', { vm: VM, seed: 1 });
      await control('host:h1', 'vdp', { op: 'assoc', vm: VM, migrated: false });
      await event((e) => e.source === 'host:h1' && e.kind === 'vdp-response' && e.data.mode === 'assoc', 10_000, 'the switch answers the associate');
      tb.vm = bed.node(bed.ns('vm'), dist('hosts/vm/main.js'), ['--name', 'vm1', '--group', GROUP, '--log', tb.vmLog, '--dhcp-log', join(bed.tmp, 'vm', 'udhcpc.ndjson')], 'vm');
      const leased = await until(() => vmObs().find((o) => o.kind === 'leased'), 20_000, 'the VM leased through the switch', more);
      tb.vmIp = String(leased.ip);
    } catch (e) {
      tb?.redis.disconnect();
      bed?.cleanup();
      tb = null;
      throw e;
    }
  });

  afterAll(() => {
    if (!tb) return;
    tb.redis.disconnect();
    tb.bed.cleanup();
    const left = tb.bed.leftovers();
    if (report.length > 0) process.stdout.write(`\n${report.join('\n')}\n`);
    expect(left).toEqual([]);
  });

  it('the VM is bound by DHCP snooping on h1, joins its group through IGMP snooping, and the stream and the probe reach it', async () => {
    const { bed, vmIp } = T();
    const bound = await event((e) => e.source === 'switch' && e.kind === 'binding-added', 5000, 'binding-added');
    expect(bound.data).toMatchObject({ mac: VM.mac, ip: vmIp, port: 'h1', vlan: VM.vlan });
    await event((e) => e.source === 'switch' && e.kind === 'igmp-join' && e.data.port === 'h1' && e.data.group === GROUP, 5000, 'igmp-join on h1');
    T().ms = bed.node(bed.ns('ms'), dist('hosts/traffic/msource.js'), ['--ip', ADDR.sourceIp(0), '--group', GROUP, '--rate', '1000', '--size', '1200', '--duration', '120s', '--log', join(bed.tmp, 'msource.ndjson')], 'msource');
    T().probe = bed.node(bed.ns('probe'), dist('hosts/traffic/probe.js'), ['--ip', ADDR.probeIp, '--rate', '200', '--target', `vm1=${vmIp}`, '--duration', '120s', '--log', T().probeLog], 'probe');
    await until(() => vmObs().filter((o) => o.kind === 'multicast').length >= 500, 10_000, 'the stream at the VM', more);
    await until(() => readNdjson(T().probeLog).filter((o) => o.kind === 'reply').length >= 100, 10_000, 'probe replies', more);
    const seqs = vmObs().filter((o) => o.kind === 'multicast').map((o) => o.seq as number);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
    const sw = await events();
    expect(sw.filter((e) => e.source === 'switch' && e.kind === 'malformed')).toEqual([]);
  });

  it('a migration h1→h2 with the M-bit: pre-copy completes, the switch rebinds by leasequery to the real dhcpd and re-learns the group by query', async () => {
    const { bed, vmIp } = T();
    await control('host:h2', 'vdp', { op: 'preassoc', vm: VM });
    await event((e) => e.source === 'host:h2' && e.kind === 'vdp-response' && e.data.mode === 'preassoc', 10_000, 'preassoc answered');
    await control('host:h1', 'migrate', { vm: 'vm1', dest: `10.99.0.2:${LISTEN}`, destHost: 'h2', params: { mode: 'precopy', downtimeLimitNs: 300e6, maxRounds: 30, bandwidthBps: null, linkBandwidthBps: 1e9, deviceStateBytes: 262144, autoConverge: false } });
    const res = await event((e) => e.source === 'host:h1' && e.kind === 'migration-result', 60_000, 'migration-result');
    expect(res.data.result).toMatchObject({ outcome: 'completed', memoryVerified: true });

    // the orchestrator's move: the vNIC peer goes to h2 (testbed/network.ts moveVm)
    const moveAt = process.hrtime.bigint();
    bed.unhub(bed.ns('h1'), ['vnic-vm1', 'uplink']);
    runSync(bed.ip, ['-n', bed.ns('h1'), 'link', 'set', 'vnic-vm1', 'netns', bed.ns('h2')]);
    runSync(bed.ip, ['-n', bed.ns('h2'), 'link', 'set', 'vnic-vm1', 'up']);
    bed.hub(bed.ns('h2'), ['vnic-vm1', 'uplink']);
    const resumeAt = process.hrtime.bigint();
    await control('host:h2', 'vdp', { op: 'assoc', vm: 'vm1', migrated: true });
    await control('host:h1', 'vdp', { op: 'deassoc', vm: 'vm1', migrated: true });

    const req = await event((e) => e.source === 'switch' && e.kind === 'vdp-request' && e.data.port === 'h2' && e.data.mode === 'assoc', 5000, 'the M-bit associate at the switch');
    expect(req.data).toMatchObject({ migratedTo: true, mac: VM.mac });
    await event((e) => e.source === 'switch' && e.kind === 'migration-detected' && e.data.port === 'h2', 5000, 'migration-detected');
    const lq = await event((e) => e.source === 'switch' && e.kind === 'leasequery-reply', 5000, 'leasequery-reply from dhcpd');
    expect(lq.data).toMatchObject({ mac: VM.mac, reply: 'DHCPLEASEACTIVE', ip: vmIp });
    const moved = await event((e) => e.source === 'switch' && e.kind === 'binding-moved', 5000, 'binding-moved');
    expect(moved.data).toMatchObject({ mac: VM.mac, ip: vmIp, from: 'h1', to: 'h2', evidence: 'leaseactive' });
    const q = await event((e) => e.source === 'switch' && e.kind === 'igmp-query-sent' && e.data.port === 'h2', 5000, 'the rebind query');
    expect(q.data).toMatchObject({ group: GROUP, to: VM.mac, maxRespMs: 100 });
    const join_ = await event((e) => e.source === 'switch' && e.kind === 'igmp-join' && e.data.port === 'h2' && e.data.group === GROUP, 5000, 'igmp-join on h2');
    const sent = (await events()).find((e) => e.source === 'switch' && e.kind === 'leasequery-sent')!;

    // the stream and the probe come back at the VM's new place
    const after = (o: Obs) => o.t > join_.t;
    await until(() => vmObs().some((o) => o.kind === 'multicast' && after(o)), 5000, 'multicast after the move', more);
    await until(() => readNdjson(T().probeLog).some((o) => o.kind === 'reply' && o.t > moved.t), 5000, 'probe replies after the move', more);
    const mc = vmObs().filter((o) => o.kind === 'multicast');
    const before = mc.filter((o) => o.t < moveAt).at(-1)!;
    const first = mc.find((o) => o.t > resumeAt)!;
    const lost = (first.seq as number) - (before.seq as number) - 1;
    const plog = readNdjson(T().probeLog);
    const answered = new Set(plog.filter((o) => o.kind === 'reply').map((o) => o.seq as number));
    const sentEchoes = plog.filter((o) => o.kind === 'sent' && o.t > moveAt - 200_000_000n && o.t < moved.t + 500_000_000n);
    let run = 0;
    let longest = 0;
    for (const s of sentEchoes) {
      run = answered.has(s.seq as number) ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    const r = res.data.result as Record<string, number>;
    report.push(
      `e2e migration 16 MiB h1→h2: downtime ${r.downtimeMs!.toFixed(2)} ms, total ${r.totalTimeMs!.toFixed(0)} ms; at the switch after the M-bit associate: ` +
      `leasequery sent +${ms(sent.t - req.t).toFixed(2)} ms, DHCPLEASEACTIVE from the real dhcpd +${ms(lq.t - req.t).toFixed(2)} ms (round trip ${ms(lq.t - sent.t).toFixed(2)} ms), binding moved +${ms(moved.t - req.t).toFixed(2)} ms; ` +
      `rebind query +${ms(q.t - req.t).toFixed(2)} ms → the guest kernel's report (igmp-join on h2) +${ms(join_.t - q.t).toFixed(1)} ms after the query; ` +
      `multicast: ${lost} datagrams lost, gap ${ms(first.t - before.t).toFixed(1)} ms (vNIC move → first datagram ${ms(first.t - resumeAt).toFixed(1)} ms); probe: longest unanswered run ${longest} (${longest * 5} ms at 200/s)`,
    );
    expect(ms(moved.t - req.t)).toBeLessThan(100);
    expect(ms(join_.t - q.t)).toBeLessThan(150);
  });

  it('with TX checksum offload on in the VM the switch forwards its UDP without calling it malformed', async () => {
    // A pcap switch re-sends a captured frame as a plain packet, so an unfinished (offloaded)
    // checksum then fails at the receiving kernel: testbed senders keep TX offload off. The
    // switch itself is not the endpoint and must neither drop nor flag such frames.
    const { bed } = T();
    runSync(bed.ip, ['netns', 'exec', bed.ns('vm'), 'ethtool', '-K', 'eth0', 'tx', 'on']);
    const t1 = process.hrtime.bigint();
    try {
      await sleep(500);
      const sent = readNdjson(T().probeLog).filter((o) => o.kind === 'sent' && o.t > t1).length;
      expect(sent).toBeGreaterThan(40);
      const bad = (await events()).filter((e) => e.source === 'switch' && e.kind === 'malformed' && e.t > t1);
      expect(bad).toEqual([]);
    } finally {
      runSync(bed.ip, ['netns', 'exec', bed.ns('vm'), 'ethtool', '-K', 'eth0', 'tx', 'off']);
    }
    const t2 = process.hrtime.bigint();
    await until(() => readNdjson(T().probeLog).some((o) => o.kind === 'reply' && o.t > t2), 5000, 'replies with offload off', more);
  });

  it('stops: a `stop` to everyone ends the switch and both agents with every event flushed (exit 0)', async () => {
    const { sw, agents, ms: src, probe, vm, dhcp } = T();
    for (const c of [src, probe, vm, dhcp]) if (c) process.kill(c.pid, 'SIGTERM');
    await T().bus.publishControl({ type: 'stop' });
    for (const c of [sw, ...agents.values()]) {
      const exit = await c.exitWithin(20_000);
      expect(exit, c.output()).toEqual({ code: 0, signal: null });
    }
    for (const c of [src, probe, vm, dhcp]) if (c) expect((await c.exited).code, c.output()).toBe(0);
    const all = await events();
    for (const source of ['switch', 'host:h1', 'host:h2']) {
      const mine = all.filter((e) => e.source === source);
      expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i));
    }
  });
});
