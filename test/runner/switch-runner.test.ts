// The switch's testbed runner end to end, without Docker: `node dist/hosts/switch/main.js` as a
// child process on the root-namespace ends of three veth pairs, a private redis-server on
// 127.0.0.1, and in each of three network namespaces ("hosts") a small agent — a Node
// script using our own PcapPort, VdpStation and codecs — that puts real frames on the
// namespace end and reports what it receives. Everything is asserted from the run's Redis
// stream, as the testbed computes its results.
//
//   h1  host    VDP station; associates vm1 with the M-bit; sends from an unbound IP
//   h2  host    VDP station; associates vm2 without hints
//   h3  access  floods a burst; sends malformed frames
//
// `npm run test:runner` (root; apt-get install iproute2 redis-server libpcap-dev). Cleanup
// — the runner(s), the agents, the namespaces (their veths go with them), redis-server and
// the temp dir — runs in afterAll, on a failed set-up and at process exit; leftovers of an
// earlier run that was killed are swept first.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents, type StreamEvent } from '../../hosts/control/event-stream.js';
import { RedisBus, runKeys, type SwitchRunConfig } from '../../hosts/control/redis-bus.js';
import { alive, Child, findTool, freePort, mustSync, percentile, runSync, sleep, sleepSync, stopProcess, until as untilDone } from '../support/processes.js';

const ENABLED = process.env.MIGSIM_RUNNER_TESTS === '1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER = join(ROOT, 'dist/hosts/switch/main.js');

const PID = process.pid;
const NS_PREFIX = 'migsim-rt-';
const TMP_PREFIX = 'migsim-runner-';
const HOSTS = [
  { name: 'h1', role: 'host', station: '02:48:00:00:00:01' },
  { name: 'h2', role: 'host', station: '02:48:00:00:00:02' },
  { name: 'h3', role: 'access', station: '02:48:00:00:00:03' },
] as const;
type HostName = (typeof HOSTS)[number]['name'];
const nsOf = (h: HostName) => `${NS_PREFIX}${PID}-${h}`;
/** root-side end (the switch's port) and namespace end; ≤ 15 characters with a 7-digit pid */
const rootIf = (h: HostName) => `mrt${PID}a${h.slice(1)}`;
const nsIf = (h: HostName) => `mrt${PID}b${h.slice(1)}`;

const TYPE = { id: 5, version: 4, vlan: 10 };
const VM1 = { mac: '02:00:00:00:01:01', vid: 0, typeId: TYPE.id, typeVersion: TYPE.version };
const VM2 = { mac: '02:00:00:00:02:01', vid: 0, typeId: TYPE.id, typeVersion: TYPE.version };
const SWITCH_MAC = '02:5e:00:00:be:01';

const CONFIG: SwitchRunConfig = {
  vdp: 'extended', dhcpRebind: 'none', igmpRebind: 'query', ipSourceGuard: true,
  // a general query every second: proof the querier was started
  igmpQueryIntervalNs: 1e9, mac: SWITCH_MAC, ip: null, pvid: TYPE.vlan,
};

/**
 * The pacing the first runner runs with: explicit and low, so the burst below is sure to
 * queue (an agent puts frames on the wire at ~30 kframes/s, under the default 50k/s).
 */
const PACE = { rate: 2000, burst: 16 };
const LATENCY_FRAMES = 400;

/** The event kinds of the switch's EventLog (what `logged` in switch-stopped counts). */
const SWITCH_LOG_KINDS = new Set([
  'vdp-request', 'vdp-response', 'vdp-timeout', 'fdb-move', 'binding-added', 'binding-moved', 'binding-removed',
  'migration-detected', 'leasequery-sent', 'leasequery-reply', 'leasequery-gave-up', 'assist-sent',
  'igmp-query-sent', 'igmp-join', 'igmp-leave', 'malformed',
]);

// ------------------------------------------------------------------------------------------
// processes

// ------------------------------------------------------------------------------------------
// the namespace agent: our PcapPort, VdpStation and codecs on the namespace end

const dist = (p: string) => pathToFileURL(join(ROOT, 'dist', p)).href;

const AGENT = `
import { createInterface } from 'node:readline';
import { PcapPort } from '${dist('hosts/runtime/pcap-port.js')}';
import { wallClock } from '${dist('hosts/runtime/wall-clock.js')}';
import { VdpStation } from '${dist('switch/vdp-station.js')}';
import { udpFrame } from '${dist('wire/compose.js')}';
import { managerIdFromText } from '${dist('wire/vdp.js')}';
import { parseEthernet, ETHERTYPE } from '${dist('wire/ethernet.js')}';
import { parseIpv4, IP_PROTO } from '${dist('wire/ipv4.js')}';
import { parseUdp } from '${dist('wire/udp.js')}';
import { parseIgmp } from '${dist('wire/igmp.js')}';

const [ifname, stationMac] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const now = () => process.hrtime.bigint().toString();
const port = PcapPort.open(ifname);
const newStation = () => new VdpStation(wallClock, { mac: stationMac, managerId: managerIdFromText('migsim'), hints: true, rka: 20, ecp: { maxRetries: 3, rte: 8 } },
  (f) => port.send(f), { response: (mac, mode, error) => out({ ev: 'vdp-response', mac, mode, error, t: now() }) });
let station = newStation();
const counts = { rx: 0, lldp: 0, ecp: 0, igmpQueries: 0, igmpQueriesTo: {}, generalQueries: {}, udp: {} };
port.onFrame((f) => {
  counts.rx++;
  station.receive(f);
  const e = parseEthernet(f);
  if (!e.ok) return;
  const eth = e.value;
  if (eth.ethertype === ETHERTYPE.LLDP) counts.lldp++;
  else if (eth.ethertype === ETHERTYPE.ECP) counts.ecp++;
  else if (eth.ethertype === ETHERTYPE.IPV4) {
    const ip = parseIpv4(eth.payload);
    if (!ip.ok) return;
    if (ip.value.protocol === IP_PROTO.IGMP) {
      const g = parseIgmp(ip.value.payload);
      if (g.ok && g.value.kind === 'query') {
        counts.igmpQueries++;
        counts.igmpQueriesTo[eth.dst] = (counts.igmpQueriesTo[eth.dst] ?? 0) + 1;
        // when each general query came, by the switch MAC that sent it
        if (eth.dst === '01:00:5e:00:00:01') (counts.generalQueries[eth.src] ??= []).push(now());
      }
    } else if (ip.value.protocol === IP_PROTO.UDP) {
      const u = parseUdp(ip.value.payload, ip.value.src, ip.value.dst);
      if (u.ok) counts.udp[u.value.dstPort] = (counts.udp[u.value.dstPort] ?? 0) + 1;
    }
  }
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let c;
  try { c = JSON.parse(line); } catch { return; }
  try {
    switch (c.op) {
      case 'announce': station.announce(); return out({ ev: 'ok', id: c.id });
      case 'associate': station.associate(c.spec, c.migrated); return out({ ev: 'ok', id: c.id });
      // a restarted station (fresh ECP state), as lldpad after a restart
      case 'restart-station': station = newStation(); return out({ ev: 'ok', id: c.id });
      case 'udp': {
        const times = [];
        for (let i = 0; i < c.count; i++) {
          const f = udpFrame({ ...c.frame, payload: Buffer.from(String(i).padStart(24, '.')) });
          times.push(now());
          port.send(f);
          if (c.intervalMs) await sleep(c.intervalMs);
        }
        return out({ ev: 'sent', id: c.id, times });
      }
      case 'raw': {
        const f = Buffer.from(c.hex, 'hex');
        for (let i = 0; i < (c.count ?? 1); i++) port.send(f);
        return out({ ev: 'sent', id: c.id, times: [] });
      }
      case 'stats': return out({ ev: 'stats', id: c.id, counts, pcap: port.stats });
      case 'quit': port.close(); process.exit(0);
    }
  } catch (e) {
    out({ ev: 'error', id: c.id, message: String(e && e.stack || e) });
  }
});
rl.on('close', () => { port.close(); process.exit(0); });
out({ ev: 'ready', t: now() });
`;

interface AgentMsg {
  ev: string;
  id?: number;
  [k: string]: unknown;
}

interface AgentStats {
  counts: { rx: number; lldp: number; ecp: number; igmpQueries: number; igmpQueriesTo: Record<string, number>; generalQueries: Record<string, string[]>; udp: Record<string, number> };
  pcap: { rx: number; tx: number; sendErrors: number; callbackErrors: number };
}

class Agent {
  readonly msgs: AgentMsg[] = [];
  private nextId = 1;
  private waiters: { pred: (m: AgentMsg) => boolean; resolve: (m: AgentMsg) => void }[] = [];

  constructor(readonly host: HostName, readonly child: Child) {
    child.onLine((l) => {
      let m: AgentMsg;
      try {
        m = JSON.parse(l) as AgentMsg;
      } catch {
        return;
      }
      this.msgs.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  /** The first message (already received or to come) that satisfies `pred`. */
  waitFor(pred: (m: AgentMsg) => boolean, timeoutMs: number, what: string): Promise<AgentMsg> {
    const have = this.msgs.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`agent ${this.host}: no ${what} within ${timeoutMs} ms\n${this.child.output()}\n${diagnostics()}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(t); res(m); } });
    });
  }

  async request(cmd: Record<string, unknown>, timeoutMs = 20_000): Promise<AgentMsg> {
    const id = this.nextId++;
    this.child.proc.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    const m = await this.waitFor((x) => x.id === id, timeoutMs, `answer to ${String(cmd.op)}`);
    if (m.ev === 'error') throw new Error(`agent ${this.host}: ${String(m.message)}`);
    return m;
  }

  async stats(): Promise<AgentStats> {
    return (await this.request({ op: 'stats' })) as unknown as AgentStats;
  }

  async sendUdp(frame: Record<string, unknown>, count: number, intervalMs = 0): Promise<bigint[]> {
    const m = await this.request({ op: 'udp', frame, count, intervalMs }, 60_000);
    return (m.times as string[]).map((s) => BigInt(s));
  }
}

// ------------------------------------------------------------------------------------------
// the bed

interface Bed {
  ip: string;
  tmp: string;
  redisProc: Child | null;
  redisPort: number;
  redis: Redis | null;
  runners: Child[];
  agents: Map<HostName, Agent>;
  /** test clock: before the first runner started, after the last one stopped */
  t0: bigint;
}

let bed: Bed | null = null;
let cleaned = false;

function diagnostics(): string {
  if (!bed) return '';
  return [...bed.runners.map((r) => r.output()), ...[...bed.agents.values()].map((a) => a.child.output())].join('\n');
}

function sweepStale(ip: string): void {
  const stale = (pid: number) => pid === PID || !alive(pid);
  for (const m of runSync(ip, ['netns', 'list']).out.matchAll(new RegExp(`^${NS_PREFIX}(\\d+)-h\\d\\b`, 'gm'))) {
    if (stale(Number(m[1]))) removeNetns(ip, m[0]);
  }
  for (const m of runSync(ip, ['-o', 'link', 'show']).out.matchAll(/^\d+: (mrt(\d+)a\d)[@:]/gm)) {
    if (stale(Number(m[2]))) runSync(ip, ['link', 'del', m[1]!]);
  }
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(name);
    if (m && stale(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Stop what runs in the namespace (only ever our agents), then delete it. */
function removeNetns(ip: string, ns: string): void {
  const pids = runSync(ip, ['netns', 'pids', ns]).out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
  for (const pid of pids) stopProcess(pid);
  runSync(ip, ['netns', 'del', ns]);
}

async function startRedis(b: Bed): Promise<void> {
  if (runSync('redis-server', ['--version']).rc !== 0) throw new Error('redis-server not found: apt-get install redis-server');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const c = new Child(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', b.tmp, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }), 'redis-server');
    b.redisProc = c;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && c.running && !c.lines.some((l) => l.includes('Ready to accept connections'))) await sleep(20);
    if (c.running && c.lines.some((l) => l.includes('Ready to accept connections'))) {
      b.redisPort = port;
      b.redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 3 });
      b.redis.on('error', () => undefined);
      await b.redis.ping();
      return;
    }
    stopProcess(c.pid);
  }
  throw new Error('redis-server would not start on a free port of 127.0.0.1');
}

function makeHosts(b: Bed): void {
  const { ip } = b;
  for (const h of HOSTS) {
    const ns = nsOf(h.name);
    mustSync(ip, ['netns', 'add', ns]);
    mustSync(ip, ['link', 'add', rootIf(h.name), 'type', 'veth', 'peer', 'name', nsIf(h.name)]);
    mustSync(ip, ['link', 'set', nsIf(h.name), 'netns', ns]);
    // no IPv6 chatter (router solicitations, MLD) on either end: only our frames cross
    try { writeFileSync(`/proc/sys/net/ipv6/conf/${rootIf(h.name)}/disable_ipv6`, '1'); } catch { /* no IPv6 */ }
    runSync(ip, ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${nsIf(h.name)}/disable_ipv6`]);
    mustSync(ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
    mustSync(ip, ['-n', ns, 'link', 'set', nsIf(h.name), 'up']);
    mustSync(ip, ['link', 'set', rootIf(h.name), 'up']);
  }
}

async function startAgents(b: Bed): Promise<void> {
  const script = join(b.tmp, 'agent.mjs');
  writeFileSync(script, AGENT);
  for (const h of HOSTS) {
    const child = new Child(spawn(b.ip, ['netns', 'exec', nsOf(h.name), process.execPath, script, nsIf(h.name), h.station], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }), `agent ${h.name}`);
    const agent = new Agent(h.name, child);
    b.agents.set(h.name, agent);
    await agent.waitFor((m) => m.ev === 'ready', 15_000, 'ready');
  }
}

async function writeRun(run: string, config: Partial<SwitchRunConfig> = {}): Promise<RedisBus> {
  const bus = new RedisBus(bed!.redis!, run);
  await bus.defineVsiTypes([{ id: TYPE.id, version: TYPE.version, vlan: TYPE.vlan }]);
  await bus.writeSwitchConfig({ ...CONFIG, ...config });
  return bus;
}

async function startRunner(run: string, extra: string[] = []): Promise<Child> {
  const b = bed!;
  const args = [RUNNER, '--redis', `127.0.0.1:${b.redisPort}`, '--run', run, ...HOSTS.flatMap((h) => ['--port', `${h.name}:${h.role}:${rootIf(h.name)}`]), ...extra];
  const c = new Child(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }), `runner ${run}`);
  b.runners.push(c);
  const bus = new RedisBus(b.redis!, run);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && c.running && (await bus.readSwitchReady()) === null) await sleep(50);
  if (!c.running || (await bus.readSwitchReady()) === null) throw new Error(`runner did not become ready\n${c.output()}`);
  return c;
}

async function setUp(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the runner tests need root (network namespaces, libpcap)');
  const ip = findTool('ip');
  if (!ip) throw new Error('ip (iproute2) not found: apt-get install iproute2');
  sweepStale(ip);
  const b: Bed = {
    ip, tmp: mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${PID}-`)), redisProc: null, redisPort: 0, redis: null,
    runners: [], agents: new Map(), t0: 0n,
  };
  bed = b;
  const build = runSync('npm', ['run', 'build'], 180_000);
  if (build.rc !== 0) throw new Error(`npm run build failed:\n${build.out}`);
  await startRedis(b);
  makeHosts(b);
  await startAgents(b);
}

function cleanUp(): void {
  if (cleaned || !bed) return;
  cleaned = true;
  const b = bed;
  const steps: (() => void)[] = [
    () => { for (const r of b.runners) stopProcess(r.pid); },
    () => { for (const a of b.agents.values()) stopProcess(a.child.pid); },
    () => { for (const h of HOSTS) removeNetns(b.ip, nsOf(h.name)); },
    () => { for (const h of HOSTS) runSync(b.ip, ['link', 'del', rootIf(h.name)]); }, // normally gone with the netns
    () => b.redis?.disconnect(),
    () => { if (b.redisProc) stopProcess(b.redisProc.pid); },
    () => rmSync(b.tmp, { recursive: true, force: true }),
  ];
  for (const step of steps) {
    try { step(); } catch { /* every step runs regardless */ }
  }
}

function leftovers(): string[] {
  const b = bed!;
  const left: string[] = [];
  for (let i = 0; i < 40; i++) {
    left.length = 0;
    const netns = runSync(b.ip, ['netns', 'list']).out;
    for (const h of HOSTS) {
      if (netns.split('\n').some((l) => l.split(' ')[0] === nsOf(h.name))) left.push(`netns ${nsOf(h.name)}`);
      if (runSync(b.ip, ['link', 'show', rootIf(h.name)]).rc === 0) left.push(`link ${rootIf(h.name)}`);
    }
    if (existsSync(b.tmp)) left.push(b.tmp);
    for (const c of [...b.runners, ...[...b.agents.values()].map((a) => a.child), ...(b.redisProc ? [b.redisProc] : [])]) {
      if (alive(c.pid)) left.push(`${c.label} pid ${c.pid}`);
    }
    if (left.length === 0) break;
    sleepSync(50);
  }
  return left;
}

process.on('exit', cleanUp);

// ------------------------------------------------------------------------------------------
// stream helpers

const RUN1 = `rt${PID}-1`;
const RUN2 = `rt${PID}-2`;

async function events(run = RUN1): Promise<StreamEvent[]> {
  return readEvents(bed!.redis!, run);
}

/** Waits for `f`; on a timeout, the namespaces' diagnostics. */
function until<T>(f: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  return untilDone(f, timeoutMs, what, diagnostics);
}

const ctx = (ev: StreamEvent[]) => `${ev.slice(-60).map((e) => `${e.t} ${e.source} ${e.kind} ${JSON.stringify(e.data)}`).join('\n')}\n${diagnostics()}`;


/** vm1 sends from an address it has no binding for: IP source guard must drop each frame. */
const UNBOUND = { srcMac: VM1.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '10.77.0.50', dstIp: '10.77.0.99', srcPort: 40000, dstPort: 7001 };

// ------------------------------------------------------------------------------------------

describe.skipIf(!ENABLED)('switch runner: a process on veths, configured from Redis, streaming its events', () => {
  let runner: Child;

  beforeAll(async () => {
    try {
      await setUp();
      await writeRun(RUN1);
      bed!.t0 = process.hrtime.bigint();
      runner = await startRunner(RUN1, ['--pace-rate', String(PACE.rate), '--pace-burst', String(PACE.burst)]);
    } catch (e) {
      cleanUp();
      throw e;
    }
  });

  afterAll(() => {
    const had = bed !== null;
    cleanUp();
    if (had) expect(leftovers(), 'cleanup left these behind').toEqual([]);
  });

  it('reads its config and VSI types from Redis, opens its ports and announces readiness (event and key)', async () => {
    const bus = new RedisBus(bed!.redis!, RUN1);
    const ready = (await bus.readSwitchReady())!;
    expect(ready.pid).toBe(runner.pid);
    expect(ready.ports).toEqual(HOSTS.map((h) => ({ name: h.name, role: h.role, ifname: rootIf(h.name) })));
    const ev = await events();
    expect(ev[0], ctx(ev)).toMatchObject({ source: 'switch', kind: 'switch-ready', seq: 0, data: { pid: runner.pid } });
    expect(ev[0]!.t.toString()).toBe(ready.t);
    expect(runner.lines).toContain('ready');
  });

  it('an associate with the M-bit from h1 is streamed as vdp-request migratedTo, and the station gets the response', async () => {
    const h1 = bed!.agents.get('h1')!;
    await h1.request({ op: 'announce' });
    await h1.request({ op: 'associate', spec: VM1, migrated: true });
    const resp = await h1.waitFor((m) => m.ev === 'vdp-response' && m.mac === VM1.mac, 10_000, 'VDP response');
    expect(resp).toMatchObject({ mode: 'assoc', error: 0 });

    const ev = await until(async () => {
      const e = await events();
      return e.some((x) => x.kind === 'igmp-query-sent') ? e : null;
    }, 5000, 'the rebind query event');
    const c = ctx(ev);
    const req = ev.find((e) => e.kind === 'vdp-request');
    expect(req, c).toMatchObject({ source: 'switch', data: { port: 'h1', mode: 'assoc', mac: VM1.mac, vid: 0, migratedTo: true, migratedFrom: false } });
    expect(ev.find((e) => e.kind === 'vdp-response'), c).toMatchObject({ data: { port: 'h1', mode: 'assoc', error: 0 } });
    expect(ev.find((e) => e.kind === 'fdb-move'), c).toMatchObject({ data: { mac: VM1.mac, vlan: TYPE.vlan, to: 'h1', cause: 'vdp' } });
    // extended VDP + M-bit: the switch acts on it (igmpRebind query: the VM is queried on its new port)
    expect(ev.find((e) => e.kind === 'migration-detected'), c).toMatchObject({ data: { port: 'h1', mac: VM1.mac } });
    expect(ev.find((e) => e.kind === 'igmp-query-sent'), c).toMatchObject({ data: { port: 'h1', to: VM1.mac } });
    // every stream field agrees with the event it carries
    for (const e of ev.filter((x) => SWITCH_LOG_KINDS.has(x.kind))) {
      expect(BigInt(Math.round(e.data.t as number)), c).toBe(e.t);
      expect(e.data.kind).toBe(e.kind);
    }
    // the station saw the query addressed to vm1's MAC
    const st = await until(async () => {
      const s = await h1.stats();
      return (s.counts.igmpQueriesTo[VM1.mac] ?? 0) > 0 ? s : null;
    }, 5000, 'the query to vm1 at h1');
    expect(st.counts.ecp).toBeGreaterThan(0);
  });

  it('an associate without hints from h2: migratedTo false, no rebind', async () => {
    const h2 = bed!.agents.get('h2')!;
    await h2.request({ op: 'associate', spec: VM2, migrated: false });
    expect(await h2.waitFor((m) => m.ev === 'vdp-response' && m.mac === VM2.mac, 10_000, 'VDP response')).toMatchObject({ mode: 'assoc', error: 0 });
    const ev = await until(async () => {
      const e = await events();
      return e.some((x) => x.kind === 'vdp-response' && x.data.port === 'h2') ? e : null;
    }, 5000, 'h2 response event');
    expect(ev.find((e) => e.kind === 'vdp-request' && e.data.port === 'h2'), ctx(ev)).toMatchObject({ data: { mac: VM2.mac, migratedTo: false } });
    expect(ev.filter((e) => e.kind === 'migration-detected' && e.data.mac === VM2.mac)).toEqual([]);
  });

  it('a frame from an unbound IP on a host port is dropped by IP source guard and streamed as source-guard-drop', async () => {
    const h1 = bed!.agents.get('h1')!;
    const h3 = bed!.agents.get('h3')!;
    const before = (await events()).length;
    const [sent] = await h1.sendUdp(UNBOUND, 1);
    const ev = await until(async () => {
      const e = (await events()).slice(before);
      return e.some((x) => x.kind === 'source-guard-drop') ? e : null;
    }, 5000, 'the source-guard-drop event');
    const drop = ev.find((e) => e.kind === 'source-guard-drop')!;
    expect(drop).toMatchObject({ source: 'switch', data: { mac: VM1.mac } });
    expect(drop.t > sent!, ctx(ev)).toBe(true);
    await sleep(100);
    expect((await h3.stats()).counts.udp['7001'] ?? 0, 'a dropped frame reached h3').toBe(0);
  });

  it('floods a 200-frame burst from h3 to both VSI ports, paced (queued beyond the burst), none lost', async () => {
    const h1 = bed!.agents.get('h1')!;
    const h2 = bed!.agents.get('h2')!;
    const h3 = bed!.agents.get('h3')!;
    await h3.sendUdp({ srcMac: '02:48:00:00:00:33', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '10.77.0.3', dstIp: '10.77.0.255', srcPort: 40000, dstPort: 7002 }, 200);
    for (const a of [h1, h2]) {
      await until(async () => ((await a.stats()).counts.udp['7002'] ?? 0) >= 200, 10_000, `200 flooded frames at ${a.host}`);
    }
    await sleep(200);
    for (const a of [h1, h2]) expect((await a.stats()).counts.udp['7002']).toBe(200);
    await bed!.redis!.publish(runKeys(RUN1).control, JSON.stringify({ type: 'stats', to: 'switch' }));
    const stats = await until(async () => (await events()).reverse().find((e) => e.kind === 'switch-stats'), 5000, 'switch-stats');
    const ports = stats.data.ports as { name: string; tx: number; pace: { sent: number; immediate: number; delayed: number; dropped: number; maxQueued: number } }[];
    for (const name of ['h1', 'h2']) {
      const p = ports.find((x) => x.name === name)!;
      console.log(`pacing on ${name}: ${JSON.stringify(p.pace)}`);
      expect(p.pace.dropped, ctx([stats])).toBe(0);
      expect(p.pace.delayed, `the burst should have outrun ${PACE.burst} tokens\n${ctx([stats])}`).toBeGreaterThan(0);
      expect(p.pace.sent).toBe(p.tx);
    }
  });

  it('malformed frames are counted and streamed as `malformed`; the process keeps running', async () => {
    const h1 = bed!.agents.get('h1')!;
    const h3 = bed!.agents.get('h3')!;
    const before = (await events()).length;
    // IPv4 ethertype with 6 bytes of header; an ECPDU of one byte on a host port; LLDP garbage
    await h3.request({ op: 'raw', hex: 'ffffffffffff02480000003308004500001400', count: 3 });
    await h1.request({ op: 'raw', hex: `0180c2000000${VM1.mac.replaceAll(':', '')}894010` });
    await h1.request({ op: 'raw', hex: `0180c200000e${VM1.mac.replaceAll(':', '')}88cc0206ff` });
    const ev = await until(async () => {
      const e = (await events()).slice(before);
      return e.filter((x) => x.kind === 'malformed').length >= 5 ? e : null;
    }, 5000, 'five malformed events');
    const m = ev.filter((x) => x.kind === 'malformed');
    expect(m.filter((x) => x.data.port === 'h3' && x.data.layer === 'ipv4'), ctx(ev)).toHaveLength(3);
    expect(m.filter((x) => x.data.port === 'h1').map((x) => x.data.layer).sort(), ctx(ev)).toEqual(['ecp', 'lldp']);
    expect(runner.running).toBe(true);
    // and it still switches: another unbound frame is still dropped and streamed
    await h1.sendUdp(UNBOUND, 1);
    await until(async () => (await events()).slice(before).some((x) => x.kind === 'source-guard-drop'), 5000, 'a drop after the malformed frames');
  });

  it(`event latency over ${LATENCY_FRAMES} frames: frame sent → switch event time → readable in the stream`, async () => {
    const h1 = bed!.agents.get('h1')!;
    const key = runKeys(RUN1).events;
    const reader = bed!.redis!.duplicate();
    reader.on('error', () => undefined);
    const last = await bed!.redis!.xrevrange(key, '+', '-', 'COUNT', 1);
    let lastId = last[0]?.[0] ?? '0-0';
    const seen: { t: bigint; at: bigint }[] = [];
    let stop = false;
    const reading = (async () => {
      while (!stop && seen.length < LATENCY_FRAMES) {
        const r = await reader.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', key, lastId);
        const at = process.hrtime.bigint();
        if (!r) continue;
        for (const [, entries] of r) {
          for (const [id, flat] of entries) {
            lastId = id;
            const f = new Map<string, string>();
            for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
            if (f.get('kind') === 'source-guard-drop') seen.push({ t: BigInt(f.get('t')!), at });
          }
        }
      }
    })();
    const sent = await h1.sendUdp(UNBOUND, LATENCY_FRAMES, 2);
    await Promise.race([reading, sleep(10_000)]);
    stop = true;
    await reading;
    reader.disconnect();
    expect(seen, `${seen.length} of ${LATENCY_FRAMES} drops seen\n${diagnostics()}`).toHaveLength(LATENCY_FRAMES);
    const toEvent: number[] = [];
    const toStream: number[] = [];
    const eventToStream: number[] = [];
    sent.forEach((s, i) => {
      const { t, at } = seen[i]!;
      expect(t >= s && at >= t, `frame ${i}: sent ${s}, event ${t}, read ${at}`).toBe(true);
      toEvent.push(Number(t - s) / 1e6);
      toStream.push(Number(at - s) / 1e6);
      eventToStream.push(Number(at - t) / 1e6);
    });
    const fmt = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return `p50 ${percentile(s, 50).toFixed(3)} ms, p99 ${percentile(s, 99).toFixed(3)} ms, max ${s[s.length - 1]!.toFixed(3)} ms`;
    };
    console.log(`latency over ${LATENCY_FRAMES} frames (2 ms apart):\n  frame sent → switch event t:        ${fmt(toEvent)}\n  switch event t → read from stream:   ${fmt(eventToStream)}\n  frame sent → read from stream:       ${fmt(toStream)}`);
    expect(percentile([...toStream].sort((a, b) => a - b), 99)).toBeLessThan(100);
  });

  it('SIGTERM: exits 0 with every event flushed, switch-stopped last, ready key gone', async () => {
    const h1 = bed!.agents.get('h1')!;
    await h1.sendUdp(UNBOUND, 100);
    await sleep(100);
    runner.proc.kill('SIGTERM');
    const exit = await runner.exitWithin(15_000);
    const t1 = process.hrtime.bigint();
    expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    const ev = await events();
    const c = ctx(ev);
    const stopped = ev[ev.length - 1]!;
    expect(stopped, c).toMatchObject({ source: 'switch', kind: 'switch-stopped', data: { reason: 'SIGTERM' } });
    // nothing lost: the stream holds every event the switch logged and every drop it counted
    const counters = stopped.data.counters as { sourceGuardDrops: number; malformed: number };
    expect(ev.filter((e) => e.kind === 'source-guard-drop').length, c).toBe(counters.sourceGuardDrops);
    expect(counters.sourceGuardDrops).toBe(1 + 1 + LATENCY_FRAMES + 100);
    expect(ev.filter((e) => SWITCH_LOG_KINDS.has(e.kind)).length, c).toBe(stopped.data.logged);
    expect(counters.malformed).toBe(5);
    // per writer, seq runs 0, 1, 2 … without a gap or a repeat
    expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i));
    expect(await new RedisBus(bed!.redis!, RUN1).readSwitchReady()).toBeNull();
    expect(runner.err.join(''), 'no event loss reported').not.toMatch(/LOST/);
    // every time is CLOCK_MONOTONIC ns, between this test's clock before start and after exit, in order
    for (const e of ev) expect(e.t >= bed!.t0 && e.t <= t1, `${e.kind} at ${e.t} outside [${bed!.t0}, ${t1}]`).toBe(true);
    for (let i = 1; i < ev.length; i++) expect(ev[i]!.t >= ev[i - 1]!.t, `${ev[i]!.kind} before ${ev[i - 1]!.kind}`).toBe(true);
  });

  it('a `stop` control message stops a second runner; with a 60 s flush interval, its events arrive only at shutdown, all of them', async () => {
    const bus = await writeRun(RUN2);
    const t0 = process.hrtime.bigint();
    const r2 = await startRunner(RUN2, ['--flush-ms', '60000']);
    const h1 = bed!.agents.get('h1')!;
    const responses = h1.msgs.filter((m) => m.ev === 'vdp-response').length;
    // A new switch process numbers its ECPDUs from 1 again, and the station's ECP receiver
    // still holds 1 as the last sequence number it delivered (from the first runner's
    // response): it would ACK the new switch's response and drop it as a duplicate
    // (EcpEndpoint.lastDelivered survives a peer restart). A fresh station avoids that here.
    await h1.request({ op: 'restart-station' });
    await h1.request({ op: 'associate', spec: VM1, migrated: true });
    await h1.waitFor((m) => m.ev === 'vdp-response' && h1.msgs.filter((x) => x.ev === 'vdp-response').indexOf(m) >= responses, 10_000, 'VDP response from the second runner');
    await h1.sendUdp(UNBOUND, 50);
    await sleep(300);
    // only switch-ready (flushed on purpose) is in the stream so far
    expect((await events(RUN2)).map((e) => e.kind)).toEqual(['switch-ready']);
    expect(await bus.publishControl({ type: 'stop', to: 'host:h9' })).toBe(1); // not for the switch: ignored
    await sleep(200);
    expect(r2.running).toBe(true);
    await bus.publishControl({ type: 'stop', to: 'switch' });
    const exit = await r2.exitWithin(15_000);
    const t1 = process.hrtime.bigint();
    expect(exit, r2.output()).toEqual({ code: 0, signal: null });
    const ev = await events(RUN2);
    const c = ctx(ev);
    for (const e of ev) expect(e.t >= t0 && e.t <= t1, `${e.kind} at ${e.t} outside [${t0}, ${t1}]`).toBe(true);
    expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i));
    const stopped = ev[ev.length - 1]!;
    expect(stopped, c).toMatchObject({ kind: 'switch-stopped', data: { reason: 'control' } });
    expect(ev.filter((e) => e.kind === 'source-guard-drop').length, c).toBe(50);
    expect((stopped.data.counters as { sourceGuardDrops: number }).sourceGuardDrops).toBe(50);
    expect(ev.filter((e) => SWITCH_LOG_KINDS.has(e.kind)).length, c).toBe(stopped.data.logged);
    expect(ev.find((e) => e.kind === 'vdp-request'), c).toMatchObject({ data: { port: 'h1', migratedTo: true } });
    expect(await bus.readSwitchReady()).toBeNull();
  });

  it('--querier control: no general query before querier-start; then the first at its originNs + the interval, and on every interval', async () => {
    const run = `rt${PID}-3`;
    // a MAC of its own tells this runner's queries from the first runner's on the same ports
    const mac = '02:5e:00:00:be:03';
    const bus = await writeRun(run, { mac });
    const r3 = await startRunner(run, ['--querier', 'control']);
    const h3 = bed!.agents.get('h3')!;
    const queries = async (): Promise<bigint[]> => ((await h3.stats()).counts.generalQueries[mac] ?? []).map((t) => BigInt(t));
    await sleep(2500); // 2.5 query intervals
    expect(await queries()).toEqual([]);
    // an origin that is not a CLOCK_MONOTONIC ns string, or is hours ahead: refused, counted, nothing started
    await bus.publishControl({ type: 'querier-start', to: 'switch', originNs: 'soon' });
    await bus.publishControl({ type: 'querier-start', to: 'switch', originNs: String(process.hrtime.bigint() + 7_200_000_000_000n) });
    const origin = process.hrtime.bigint() - 600_000_000n; // the first query due in ~0.4 s, the next in ~1.4 s
    await bus.publishControl({ type: 'querier-start', to: 'switch', originNs: String(origin) });
    await sleep(1900);
    const q = await queries();
    expect(q).toHaveLength(2);
    q.forEach((t, i) => {
      const late = Number(t - (origin + BigInt(i + 1) * 1_000_000_000n)) / 1e6;
      expect(late, `query ${i + 1}: ${late.toFixed(1)} ms after its due time`).toBeGreaterThanOrEqual(0);
      // a timer on a busy 2-core machine may fire late, but not by a fifth of the interval
      expect(late, `query ${i + 1}: ${late.toFixed(1)} ms after its due time`).toBeLessThan(200);
    });
    await bus.publishControl({ type: 'stop', to: 'switch' });
    expect(await r3.exitWithin(15_000), r3.output()).toEqual({ code: 0, signal: null });
    const ev = await events(run);
    const started = ev.filter((e) => e.kind === 'querier-started').map(({ data }) => ({ originNs: data.originNs, firstQueryNs: data.firstQueryNs }));
    expect(started, ctx(ev)).toEqual([{ originNs: String(origin), firstQueryNs: String(origin + 1_000_000_000n) }]);
    expect(ev.at(-1)!.data, ctx(ev)).toMatchObject({ runner: { controlInvalid: 2 } });
    expect(r3.output()).toMatch(/querier-start: originNs "soon" is not a decimal CLOCK_MONOTONIC ns string/);
  });

  it('exits 2 on bad arguments, on a bad config or VSI type in Redis, and when no config comes; 1 when a port will not open', async () => {
    const b = bed!;
    const runOnce = async (run: string, args: string[]) => {
      const c = new Child(spawn(process.execPath, [RUNNER, '--redis', `127.0.0.1:${b.redisPort}`, '--run', run, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), `runner ${run}`);
      b.runners.push(c);
      const exit = await c.exitWithin(15_000);
      return { exit, err: c.err.join('') };
    };
    const port = ['--port', `h1:host:${rootIf('h1')}`];
    expect((await runOnce('bad-args', ['--port', 'h1:nope:x'])).exit).toEqual({ code: 2, signal: null });

    const none = await runOnce(`rt${PID}-none`, [...port, '--config-wait-ms', '300']);
    expect(none.exit).toEqual({ code: 2, signal: null });
    expect(none.err).toMatch(/no switch config at migsim:rt\d+-none:switch:config after 300 ms/);

    const badRun = `rt${PID}-bad`;
    await b.redis!.set(runKeys(badRun).switchConfig, JSON.stringify({ ...CONFIG, dhcpRebind: 'leasequery', mac: 'ff:ff:ff:ff:ff:ff' }));
    const bad = await runOnce(badRun, port);
    expect(bad.exit).toEqual({ code: 2, signal: null });
    expect(bad.err).toMatch(/mac: a unicast MAC/);
    expect(bad.err).toMatch(/ip: dhcpRebind leasequery needs/);

    const badType = `rt${PID}-badtype`;
    await b.redis!.set(runKeys(badType).switchConfig, JSON.stringify(CONFIG));
    await b.redis!.hset(runKeys(badType).vsiTypes, '5/4', '{"vlan":0}');
    const bt = await runOnce(badType, port);
    expect(bt.exit).toEqual({ code: 2, signal: null });
    expect(bt.err).toMatch(/5\/4: vlan/);

    const noIf = await runOnce(RUN1, ['--port', `h1:host:mrtnone${PID % 1000}`]);
    expect(noIf.exit).toEqual({ code: 1, signal: null });
    expect(noIf.err).toMatch(/cannot open mrtnone/);
    // the first runner's stream was not touched by the one that could not start
    expect((await events()).filter((e) => e.data.pid !== runner.pid && e.kind.startsWith('switch-'))).toEqual([]);
  });

  it('the querier runs: h3 (access port) received general queries', async () => {
    const s = await bed!.agents.get('h3')!.stats();
    expect(s.counts.igmpQueriesTo['01:00:5e:00:00:01'] ?? 0).toBeGreaterThan(0);
  });
});
