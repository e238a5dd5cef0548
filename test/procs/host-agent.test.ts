// The host agent process (hosts/agent/main.ts), compiled, twice — "h1" and "h2", each in its
// own network namespace, joined to each other by a management veth (10.99.0.1/.2) and each
// with an `uplink` veth whose other end is in the root namespace, where this test listens
// with our PcapPort and plays the bridge's side of ECP/VDP (ACKs, answers, an assistance
// request). A private redis-server on 127.0.0.1 carries control and events; the agents reach
// it as 127.0.0.1:6379 of their namespace, forwarded to its unix socket (helpers.ts
// UNIX_PROXY), as they would reach the testbed's Redis container.
//
// `npm run test:procs` (root; apt-get install iproute2 redis-server libpcap-dev).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpEndpoint } from '../../switch/ecp-endpoint.js';
import { readEvents, type StreamEvent } from '../../hosts/control/event-stream.js';
import { PcapPort } from '../../hosts/runtime/pcap-port.js';
import { wallClock } from '../../hosts/runtime/wall-clock.js';
import type { RedisBus, SwitchRunConfig } from '../../hosts/control/redis-bus.js';
import { decodeFrame, type DecodedFrame } from '../../wire/decode.js';
import { ECP_SUBTYPE, parseEcp } from '../../wire/ecp.js';
import { ETHERTYPE, parseEthernet } from '../../wire/ethernet.js';
import { emitVdp, managerIdFromText, parseVdp, responseStatus, VSI_ID_FORMAT, vsiIdFromMac } from '../../wire/vdp.js';
import { Bed, build, dist, ms, PREFIX, sleep, startRunRedis, UNIX_PROXY, until, type Child } from './helpers.js';

const RUN = `pt${process.pid}`;
const HOSTS = [
  { name: 'h1', mgmt: '10.99.0.1', uplinkMac: '02:48:00:00:00:01', root: `${PREFIX}u1` },
  { name: 'h2', mgmt: '10.99.0.2', uplinkMac: '02:48:00:00:00:02', root: `${PREFIX}u2` },
] as const;
type HostName = (typeof HOSTS)[number]['name'];
const LISTEN = 7100;
const BRIDGE_MAC = '02:5e:00:00:be:01';
const VM = {
  name: 'vm1', host: 'h1', memoryBytes: 32 * 1024 * 1024, pageSize: 4096, zeroPages: 0.1, mac: '02:00:00:00:01:01', vlan: 10,
  vsiType: { id: 100, version: 1 }, multicast: ['239.1.1.1'], announceOnResume: 'none',
  workload: { kind: 'hotset', writeRate: 5000, hotsetBytes: 4 * 1024 * 1024 },
};
const CONFIG: SwitchRunConfig = {
  vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query', ipSourceGuard: true, igmpQueryIntervalNs: 125e9,
  mac: BRIDGE_MAC, ip: '10.77.0.254', pvid: 10,
};

/** The bridge's side of one uplink: every frame with its time, ECP ACKed, VDP requests answered. */
class BridgeSide {
  readonly frames: { t: bigint; bytes: Uint8Array; decoded: DecodedFrame }[] = [];
  readonly ecp: EcpEndpoint;
  answer = true;

  constructor(readonly port: PcapPort) {
    this.ecp = new EcpEndpoint(wallClock, BRIDGE_MAC, (f) => port.send(f), (payload, subtype) => this.deliver(payload, subtype), { maxRetries: 3, rte: 10 });
    port.onFrame((f) => {
      this.frames.push({ t: process.hrtime.bigint(), bytes: f, decoded: decodeFrame(f) });
      const e = parseEthernet(f);
      if (e.ok && e.value.ethertype === ETHERTYPE.ECP) {
        const c = parseEcp(e.value.payload);
        if (c.ok) this.ecp.receive(c.value);
      }
    });
  }

  private deliver(payload: Uint8Array, subtype: number): void {
    if (subtype !== ECP_SUBTYPE.VDP || !this.answer) return;
    const v = parseVdp(payload);
    if (!v.ok) return;
    // the bridge echoes each request with the response bit and error 0 (protocols.md 3.4)
    const vsis = v.value.vsis.filter((t) => !t.status.response).map((t) => ({ ...t, status: responseStatus(0) }));
    if (vsis.length > 0) this.ecp.send(ECP_SUBTYPE.VDP, emitVdp({ managerId: v.value.managerId, vsis, assists: [], orgTlvs: [], unknown: [] }));
  }

  /** VDP TLVs the station sent (decoded), with their frame's time. */
  vdpRequests(): { t: bigint; vsi: Record<string, unknown> }[] {
    const out: { t: bigint; vsi: Record<string, unknown> }[] = [];
    for (const f of this.frames) {
      const vdp = f.decoded.layers.find((l) => l.layer === 'vdp');
      if (!vdp) continue;
      for (const v of vdp.vsis as Record<string, unknown>[]) out.push({ t: f.t, vsi: v });
    }
    return out;
  }
}

interface AgentBed {
  bed: Bed;
  redis: Redis;
  bus: RedisBus;
  agents: Map<HostName, Child>;
  bridges: Map<HostName, BridgeSide>;
  ports: PcapPort[];
}

let ab: AgentBed | null = null;
const report: string[] = [];

function A(): AgentBed {
  if (!ab) throw new Error('set-up failed');
  return ab;
}

const events = (): Promise<StreamEvent[]> => readEvents(A().redis, RUN);
const more = () => (ab ? ab.bed.diagnostics() : '');

async function event(pred: (e: StreamEvent) => boolean, timeoutMs: number, what: string): Promise<StreamEvent> {
  let last: StreamEvent[] = [];
  return until(async () => (last = await events()).find(pred), timeoutMs, what, () =>
    `${last.slice(-40).map((e) => `${e.t} ${e.source} ${e.kind} ${JSON.stringify(e.data).slice(0, 300)}`).join('\n')}\n${more()}`);
}

function control(to: HostName, type: string, body: Record<string, unknown> = {}): Promise<number> {
  return A().bus.publishControl({ ...body, type, to: `host:${to}` });
}

describe('the host agent process: Redis control, pre-copy between two namespaces, the VDP station on its uplink', () => {
  beforeAll(async () => {
    let bed: Bed | null = null;
    const ports: PcapPort[] = [];
    try {
      bed = new Bed('agent');
      build();
      const { redisServer, redis, bus } = await startRunRedis(bed, RUN, [{ id: VM.vsiType.id, version: VM.vsiType.version, vlan: VM.vlan }], CONFIG);
      ab = { bed, redis, bus, agents: new Map(), bridges: new Map(), ports };

      for (const h of HOSTS) bed.addNetns(h.name);
      bed.veth(bed.ns('h1'), 'mgmt', bed.ns('h2'), 'mgmt');
      for (const h of HOSTS) {
        bed.addr(bed.ns(h.name), 'mgmt', `${h.mgmt}/24`);
        bed.veth(null, h.root, bed.ns(h.name), 'uplink', { bMac: h.uplinkMac });
        const port = PcapPort.open(h.root);
        ports.push(port);
        ab.bridges.set(h.name, new BridgeSide(port));
      }
      const proxy = join(bed.tmp, 'redis-proxy.mjs');
      writeFileSync(proxy, UNIX_PROXY);
      for (const h of HOSTS) {
        const p = bed.node(bed.ns(h.name), proxy, ['6379', redisServer.socket], `redis proxy ${h.name}`);
        await until(() => p.lines.includes('ready'), 10_000, `redis proxy in ${h.name}`, () => p.output());
      }
      for (const h of HOSTS) {
        const agent = bed.node(bed.ns(h.name), dist('hosts/agent/main.js'), [
          '--redis', '127.0.0.1:6379', '--run', RUN, '--host', h.name, '--uplink', 'uplink',
          '--listen', String(LISTEN), '--advertise', `${h.mgmt}:${LISTEN}`,
        ], `agent ${h.name}`);
        ab.agents.set(h.name, agent);
      }
      for (const h of HOSTS) {
        const agent = ab.agents.get(h.name)!;
        await until(() => agent.lines.includes('ready') || !agent.running, 30_000, `agent ${h.name} ready`, () => agent.output());
        if (!agent.running) throw new Error(`agent ${h.name} exited\n${agent.output()}`);
      }
    } catch (e) {
      for (const p of ports) p.close();
      ab?.redis.disconnect();
      bed?.cleanup();
      ab = null;
      throw e;
    }
  });

  afterAll(() => {
    if (!ab) return;
    for (const p of ab.ports) p.close();
    ab.redis.disconnect();
    ab.bed.cleanup();
    const left = ab.bed.leftovers();
    if (report.length > 0) process.stdout.write(`\n${report.join('\n')}\n`);
    expect(left).toEqual([]);
  });

  it('each agent announces itself: host-ready in the stream, its ready key, an LLDP EVB station TLV on its uplink', async () => {
    const { redis, bridges } = A();
    for (const h of HOSTS) {
      const ready = JSON.parse((await redis.get(`migsim:${RUN}:host:${h.name}:ready`))!) as Record<string, unknown>;
      expect(ready).toMatchObject({ advertise: `${h.mgmt}:${LISTEN}`, uplink: 'uplink', stationMac: h.uplinkMac, hints: true, listen: `0.0.0.0:${LISTEN}` });
      const ev = await event((e) => e.source === `host:${h.name}` && e.kind === 'host-ready', 5000, `host-ready of ${h.name}`);
      expect(ev.data).toMatchObject({ stationMac: h.uplinkMac, hints: true });
      const lldp = await until(() => bridges.get(h.name)!.frames.find((f) => f.decoded.layers.some((l) => l.layer === 'lldp')), 5000, `LLDP on ${h.name}'s uplink`);
      const l = lldp.decoded.layers.find((x) => x.layer === 'lldp')!;
      expect(l.evb).toMatchObject({ modeName: 'station', retries: 3, rte: 8, rka: 20 });
      expect(lldp.decoded.layers[0]).toMatchObject({ src: h.uplinkMac });
    }
  });

  it('vm-create boots a 32 MiB VM with its workload; a bad control message is answered with control-error', async () => {
    await control('h1', 'vm-create', { vm: { ...VM, memoryBytes: undefined } });
    const err = await event((e) => e.source === 'host:h1' && e.kind === 'control-error', 5000, 'control-error');
    expect(err.data).toMatchObject({ type: 'vm-create', error: 'vm.memoryBytes is required' });
    const t0 = process.hrtime.bigint();
    await control('h1', 'vm-create', { vm: VM, seed: 7 });
    const started = await event((e) => e.source === 'host:h1' && e.kind === 'vm-started' && e.data.vm === 'vm1', 20_000, 'vm-started');
    expect(started.data).toMatchObject({ memoryBytes: VM.memoryBytes, workload: 'hotset', host: 'h1' });
    report.push(`vm-create (32 MiB: allocate, fill, start the workload worker) → vm-started ${ms(started.t - t0).toFixed(0)} ms`);
  });

  it('migrate over the management veth: a migration-result with memoryVerified in the stream, the VM running on h2', async () => {
    const { bridges } = A();
    // libvirt's order: pre-associate on the destination when the migration starts (the full VM: h2 learns its workload)
    await control('h2', 'vdp', { op: 'preassoc', vm: VM });
    const pre = await until(() => bridges.get('h2')!.vdpRequests().find((r) => r.vsi.mode === 'preassoc'), 5000, 'the pre-associate on h2’s uplink');
    expect(pre.vsi).toMatchObject({ status: { response: false, migratedTo: false, migratedFrom: false }, typeId: 100, typeVersion: 1, filters: [{ mac: VM.mac, vid: 0 }] });
    await event((e) => e.source === 'host:h2' && e.kind === 'vdp-response' && e.data.mode === 'preassoc', 5000, 'the preassoc answered');

    await control('h1', 'migrate', {
      vm: 'vm1', dest: `10.99.0.2:${LISTEN}`, destHost: 'h2',
      params: { mode: 'precopy', downtimeLimitNs: 300e6, maxRounds: 30, bandwidthBps: null, linkBandwidthBps: 1e9, deviceStateBytes: 256 * 1024, autoConverge: false },
    });
    const res = await event((e) => e.source === 'host:h1' && e.kind === 'migration-result', 60_000, 'migration-result');
    const r = res.data.result as Record<string, unknown>;
    expect(r, JSON.stringify(res.data)).toMatchObject({ vm: 'vm1', from: 'h1', to: 'h2', mode: 'precopy', outcome: 'completed', memoryVerified: true, error: null });
    expect((r.rounds as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect(r.pagesSent as number).toBeGreaterThanOrEqual(VM.memoryBytes / VM.pageSize);
    expect(r.downtimeMs as number).toBeGreaterThan(0);
    expect(r.downtimeMs as number).toBeLessThan(1000);
    const arrived = await event((e) => e.source === 'host:h2' && e.kind === 'vm-arrived', 10_000, 'vm-arrived on h2');
    expect(arrived.data).toMatchObject({ vm: 'vm1', running: true });
    await event((e) => e.source === 'host:h1' && e.kind === 'vm-released', 5000, 'vm-released on h1');
    const ns = res.data.ns as Record<string, number>;
    expect(ns.switchoverNs!).toBeGreaterThan(ns.startNs!);
    report.push(`migration 32 MiB h1→h2 over a veth (1 Gbit/s paced): ${(r.rounds as unknown[]).length} rounds, total ${(r.totalTimeMs as number).toFixed(1)} ms, downtime ${(r.downtimeMs as number).toFixed(2)} ms, ${r.pagesSent as number} pages, ${((r.bytesSent as number) / 2 ** 20).toFixed(1)} MiB, memoryVerified ${String(r.memoryVerified)}`);
  });

  it('vdp assoc migrated → an associate with the M-bit on the destination uplink; deassoc migrated → the S-bit on the source', async () => {
    const { bridges } = A();
    const t0 = process.hrtime.bigint();
    await control('h2', 'vdp', { op: 'assoc', vm: 'vm1', migrated: true });
    const assoc = await until(() => bridges.get('h2')!.vdpRequests().find((r) => r.t >= t0 && r.vsi.mode === 'assoc'), 5000, 'the associate on h2’s uplink');
    expect(assoc.vsi).toMatchObject({ status: { response: false, migratedTo: true, migratedFrom: false }, idFormat: 'MAC', filters: [{ mac: VM.mac }] });
    const sent = await event((e) => e.source === 'host:h2' && e.kind === 'vdp-sent' && e.data.op === 'assoc', 5000, 'vdp-sent assoc');
    expect(sent.data).toMatchObject({ vm: 'vm1', mac: VM.mac, migrated: true, mBit: true });
    const answered = await event((e) => e.source === 'host:h2' && e.kind === 'vdp-response' && e.data.mode === 'assoc', 5000, 'the assoc answered');
    expect(answered.data).toMatchObject({ vm: 'vm1', mac: VM.mac, error: 0 });
    report.push(`vdp assoc (control message published) → associate with M-bit on the uplink ${ms(assoc.t - t0).toFixed(1)} ms`);

    // h1 knows vm1 from vm-create; the source's de-associate carries the S-bit
    await control('h1', 'vdp', { op: 'deassoc', vm: 'vm1', migrated: true });
    const de = await until(() => bridges.get('h1')!.vdpRequests().find((r) => r.t >= t0 && r.vsi.mode === 'deassoc'), 5000, 'the de-associate on h1’s uplink');
    expect(de.vsi).toMatchObject({ status: { response: false, migratedTo: false, migratedFrom: true }, filters: [{ mac: VM.mac }] });
  });

  it('the bridge’s assistance request becomes an `assist` event naming the VM', async () => {
    const { bridges } = A();
    const t0 = process.hrtime.bigint();
    bridges.get('h2')!.ecp.send(ECP_SUBTYPE.VDP, emitVdp({
      managerId: managerIdFromText('migsim'), vsis: [],
      assists: [{ idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac(VM.mac), mac: VM.mac, ip: '10.77.0.5', dhcp: true, igmp: true }],
      orgTlvs: [], unknown: [],
    }));
    const assist = await event((e) => e.source === 'host:h2' && e.kind === 'assist', 5000, 'assist');
    expect(assist.data).toMatchObject({ vm: 'vm1', mac: VM.mac, ip: '10.77.0.5', dhcp: true, igmp: true });
    report.push(`assistance request on the uplink → assist event in Redis ${ms(assist.t - t0).toFixed(1)} ms`);
  });

  it('the uplink’s other traffic stays in the kernel: 200 IPv4 frames from the bridge reach no callback, the ECP frame after them does', async () => {
    const { ports, bridges } = A();
    const stats = async (): Promise<{ pcap: { rx: number }; frames: { framesIgnored: number; framesToStation: number } }> => {
      const seen = (await events()).length;
      await control('h2', 'stats');
      const got = await until(async () => (await events()).slice(seen).find((e) => e.source === 'host:h2' && e.kind === 'host-stats'), 5000, 'host-stats');
      return got.data as never;
    };
    const before = await stats();
    const h2 = HOSTS.find((h) => h.name === 'h2')!;
    const frame = new Uint8Array(60);
    frame.set(h2.uplinkMac.split(':').map((x) => parseInt(x, 16)), 0);
    frame.set([0x02, 0, 0, 0, 0x77, 0x01, 0x08, 0x00], 6); // a VM's MAC, IPv4
    for (let i = 0; i < 200; i++) ports[HOSTS.indexOf(h2)]!.send(frame);
    bridges.get('h2')!.ecp.send(ECP_SUBTYPE.VDP, emitVdp({
      managerId: managerIdFromText('migsim'), vsis: [],
      assists: [{ idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac(VM.mac), mac: VM.mac, ip: '10.77.0.6', dhcp: true, igmp: false }],
      orgTlvs: [], unknown: [],
    }));
    await event((e) => e.source === 'host:h2' && e.kind === 'assist' && e.data.ip === '10.77.0.6', 5000, 'the second assist');
    const after = await stats();
    expect(after.frames.framesIgnored).toBe(0);
    expect(after.frames.framesToStation).toBeGreaterThan(before.frames.framesToStation);
    // every frame libpcap handed over was the station's
    expect(after.pcap.rx - before.pcap.rx).toBe(after.frames.framesToStation - before.frames.framesToStation);
  });

  it('stop (h1: the control message, h2: SIGTERM): every event flushed (no gaps in their sequence numbers), ready keys deleted, exit 0', async () => {
    const { agents, redis } = A();
    await control('h1', 'stop');
    process.kill(agents.get('h2')!.pid, 'SIGTERM');
    for (const h of HOSTS) {
      const c = agents.get(h.name)!;
      const exit = await c.exitWithin(20_000);
      expect(exit, c.output()).toEqual({ code: 0, signal: null });
      expect(await redis.get(`migsim:${RUN}:host:${h.name}:ready`)).toBeNull();
    }
    const all = await events();
    for (const h of HOSTS) {
      const mine = all.filter((e) => e.source === `host:${h.name}`);
      expect(mine.at(-1)!.kind).toBe('host-stopped');
      expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i));
    }
    const stopped = all.find((e) => e.source === 'host:h2' && e.kind === 'host-stopped')!;
    expect(stopped.data).toMatchObject({ reason: 'SIGTERM', vms: ['vm1'], counters: { incoming: 1, completed: 1 } });
    expect(all.find((e) => e.source === 'host:h1' && e.kind === 'host-stopped')!.data).toMatchObject({ reason: 'control', vms: [] });
  });
});
