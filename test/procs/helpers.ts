// Shared by the process tests (test/procs/*.test.ts): network namespaces and veth pairs the
// test makes (and removes), a "switch" namespace that repeats every frame of a port to the
// others with tc mirred (a hub: no Linux bridge), child processes started inside a
// namespace (`ip netns exec`), a private redis-server on 127.0.0.1, and `nstool` — a small
// Node program run inside a namespace that puts raw frames on its interface with our
// PcapPort, records what it receives, and does UDP request/response (leasequery) from the
// namespace's own address.
//
// Every resource is named after the test process's pid (`mpt<pid>…`), so a sweep at start
// removes what an earlier, killed run left (its pid is gone), and cleanup (afterAll, a failed
// set-up, process exit) removes exactly what this run made: only processes it started, only
// namespaces and links it created.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { RedisBus, type SwitchRunConfig, type VsiTypeEntry } from '../../hosts/control/redis-bus.js';
import { parseLog, type LogLine } from '../../testbed/result.js';
import { alive, Child, findTool, freePort, mustSync, percentile, runSync, sleep, sleepSync, stopProcess, until } from '../support/processes.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PID = process.pid;
export const dist = (p: string): string => join(ROOT, 'dist', p);
const distUrl = (p: string): string => pathToFileURL(dist(p)).href;

/** Every namespace, temporary link and temp dir of this run starts with this. */
export const PREFIX = `mpt${PID}`;
const NS_RE = /^mpt(\d+)-\S+/;
const LINK_RE = /^\d+: (mpt(\d+)[a-z]\d+)[@:]/;
const TMP_RE = /^migsim-procs-(\d+)-/;

export { alive, Child, percentile, runSync, sleep, stopProcess, until };

/** One NDJSON log line, as the processes write them (hosts/runtime/ndjson-log.ts). */
export type Obs = LogLine;

/** A process's NDJSON log as the testbed's result reads it (parseLog: a partial last line is skipped). */
export function readNdjson(file: string): Obs[] {
  return parseLog(existsSync(file) ? readFileSync(file, 'utf8') : null).lines;
}

export const ms = (ns: bigint): number => Number(ns) / 1e6;


// ------------------------------------------------------------------------------------------
// the bed: namespaces, links, processes, temp dir

export class Bed {
  readonly ip: string;
  readonly tmp: string;
  readonly namespaces: string[] = [];
  readonly rootLinks: string[] = [];
  readonly children: Child[] = [];
  private linkSeq = 0;
  private cleaned = false;
  private catchAll: 'matchall' | 'u32' | null = null;

  constructor(readonly label: string) {
    if (process.getuid?.() !== 0) throw new Error('the process tests need root (network namespaces, libpcap)');
    const ip = findTool('ip');
    if (!ip) throw new Error('ip (iproute2) not found: apt-get install iproute2');
    this.ip = ip;
    Bed.sweepStale(ip);
    this.tmp = mkdtempSync(join(tmpdir(), `migsim-procs-${PID}-${label}-`));
    process.on('exit', () => this.cleanup());
  }

  /** Remove what killed runs of these tests left: namespaces, links, temp dirs of dead pids. */
  static sweepStale(ip: string): void {
    const stale = (pid: number) => pid !== PID && !alive(pid);
    for (const line of runSync(ip, ['netns', 'list']).out.split('\n')) {
      const m = NS_RE.exec(line.split(' ')[0] ?? '');
      if (m && stale(Number(m[1]))) Bed.removeNetns(ip, m[0]);
    }
    for (const line of runSync(ip, ['-o', 'link', 'show']).out.split('\n')) {
      const m = LINK_RE.exec(line);
      if (m && stale(Number(m[2]))) runSync(ip, ['link', 'del', m[1]!]);
    }
    for (const name of readdirSync(tmpdir())) {
      const m = TMP_RE.exec(name);
      if (m && stale(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }

  /** Stop what runs in the namespace (only ever our processes: it is ours), then delete it. */
  static removeNetns(ip: string, ns: string): void {
    const pids = runSync(ip, ['netns', 'pids', ns]).out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
    for (const pid of pids) stopProcess(pid);
    runSync(ip, ['netns', 'del', ns]);
  }

  ns(role: string): string {
    return `${PREFIX}-${role}`;
  }

  /** A namespace with lo up and IPv6 off (no router solicitations or MLD on our links). */
  addNetns(role: string): string {
    const ns = this.ns(role);
    mustSync(this.ip, ['netns', 'add', ns]);
    this.namespaces.push(ns);
    mustSync(this.ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
    mustSync(this.ip, ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /**
   * A veth pair between two namespaces (null: the root namespace), named `aName` in `aNs`
   * and `bName` in `bNs`, both up. Root-side ends must carry the run's prefix.
   */
  veth(aNs: string | null, aName: string, bNs: string | null, bName: string, opts: { aMac?: string; bMac?: string } = {}): void {
    const n = this.linkSeq++;
    const ta = `${PREFIX}a${n}`;
    const tb = `${PREFIX}b${n}`;
    mustSync(this.ip, ['link', 'add', ta, 'type', 'veth', 'peer', 'name', tb]);
    this.rootLinks.push(ta);
    for (const [tmp, ns, name, mac] of [[ta, aNs, aName, opts.aMac], [tb, bNs, bName, opts.bMac]] as const) {
      if (ns === null) {
        if (!name.startsWith(PREFIX)) throw new Error(`root-namespace interface ${name} must start with ${PREFIX}`);
        if (name !== tmp) mustSync(this.ip, ['link', 'set', tmp, 'name', name]);
        this.rootLinks.push(name);
        try { writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1'); } catch { /* no IPv6 */ }
        if (mac) mustSync(this.ip, ['link', 'set', name, 'address', mac]);
        mustSync(this.ip, ['link', 'set', name, 'up']);
      } else {
        mustSync(this.ip, ['link', 'set', tmp, 'netns', ns, 'name', name]);
        if (mac) mustSync(this.ip, ['-n', ns, 'link', 'set', name, 'address', mac]);
        mustSync(this.ip, ['-n', ns, 'link', 'set', name, 'up']);
      }
    }
  }

  /** Inside `ns`, no more forwarding from these ports (their ingress qdiscs deleted; none is fine). */
  unhub(ns: string, ports: string[]): void {
    const tc = findTool('tc');
    if (!tc) throw new Error('tc (iproute2) not found');
    for (const p of ports) runSync(tc, ['-n', ns, 'qdisc', 'del', 'dev', p, 'ingress']);
  }

  /**
   * Inside `ns`, every frame arriving on a port leaves by every other port (tc mirred; a hub;
   * with two ports, testbed/link.ts's `redirect` between a VM's vNIC and the uplink).
   */
  hub(ns: string, ports: string[]): void {
    const tc = findTool('tc');
    if (!tc) throw new Error('tc (iproute2) not found');
    this.unhub(ns, ports);
    for (const p of ports) {
      const others = ports.filter((o) => o !== p);
      mustSync(tc, ['-n', ns, 'qdisc', 'add', 'dev', p, 'ingress']);
      const actions = others.flatMap((o, i) => ['action', 'mirred', 'egress', i < others.length - 1 ? 'mirror' : 'redirect', 'dev', o]);
      const add = (kind: 'matchall' | 'u32') =>
        runSync(tc, ['-n', ns, 'filter', 'add', 'dev', p, 'parent', 'ffff:', 'protocol', 'all', 'pref', '1', ...(kind === 'matchall' ? ['matchall'] : ['u32', 'match', 'u32', '0', '0']), ...actions]);
      if (this.catchAll === null) {
        const r = add('matchall');
        if (r.rc === 0) {
          this.catchAll = 'matchall';
          continue;
        }
        if (!/classifier not found|Unknown filter/i.test(r.out)) throw new Error(`tc filter add (matchall): ${r.out}`);
        this.catchAll = 'u32';
      }
      const r = add(this.catchAll);
      if (r.rc !== 0) throw new Error(`tc filter add dev ${p} (${this.catchAll}): ${r.out}`);
    }
  }

  addr(ns: string, ifname: string, cidr: string): void {
    mustSync(this.ip, ['-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
  }

  /** A process inside `ns` (null: the root namespace), its output kept. */
  spawnIn(ns: string | null, argv: string[], label: string, opts: { stdin?: boolean; env?: NodeJS.ProcessEnv } = {}): Child {
    const [cmd, args] = ns === null ? [argv[0]!, argv.slice(1)] : [this.ip, ['netns', 'exec', ns, ...argv]];
    const c = new Child(spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env }), label);
    this.children.push(c);
    return c;
  }

  node(ns: string | null, script: string, args: string[], label: string, opts: { stdin?: boolean } = {}): Child {
    return this.spawnIn(ns, [process.execPath, script, ...args], label, opts);
  }

  diagnostics(): string {
    return this.children.map((c) => c.output()).join('\n');
  }

  /** Everything this bed made, gone. Every step runs whatever the others do. Idempotent. */
  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    const steps: (() => void)[] = [
      ...[...this.children].reverse().map((c) => () => stopProcess(c.pid)),
      ...this.namespaces.map((ns) => () => Bed.removeNetns(this.ip, ns)),
      ...this.rootLinks.map((l) => () => { if (runSync(this.ip, ['link', 'show', l]).rc === 0) runSync(this.ip, ['link', 'del', l]); }),
      () => rmSync(this.tmp, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try { step(); } catch { /* every step runs regardless */ }
    }
  }

  /** What is left of this bed (after cleanup: nothing). */
  leftovers(): string[] {
    const left: string[] = [];
    for (let i = 0; i < 40; i++) {
      left.length = 0;
      const netns = runSync(this.ip, ['netns', 'list']).out.split('\n').map((l) => l.split(' ')[0]);
      for (const ns of this.namespaces) if (netns.includes(ns)) left.push(`netns ${ns}`);
      for (const l of this.rootLinks) if (runSync(this.ip, ['link', 'show', l]).rc === 0) left.push(`link ${l}`);
      if (existsSync(this.tmp)) left.push(this.tmp);
      for (const c of this.children) if (alive(c.pid)) left.push(`${c.label} pid ${c.pid}`);
      if (left.length === 0) break;
      sleepSync(50);
    }
    return left;
  }
}

export function build(): void {
  const r = runSync('npm', ['run', 'build'], 300_000);
  if (r.rc !== 0) throw new Error(`npm run build failed:\n${r.out}`);
}

// ------------------------------------------------------------------------------------------
// redis

export interface RedisServer {
  child: Child;
  port: number;
  /** also listening on this unix socket (reached from namespaces through a proxy) */
  socket: string;
}

export async function startRedis(bed: Bed): Promise<RedisServer> {
  if (runSync('redis-server', ['--version']).rc !== 0) throw new Error('redis-server not found: apt-get install redis-server');
  const socket = join(bed.tmp, 'redis.sock');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const c = bed.spawnIn(null, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--unixsocket', socket, '--unixsocketperm', '700',
      '--save', '', '--appendonly', 'no', '--dir', bed.tmp, '--daemonize', 'no'], 'redis-server');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && c.running && !c.lines.some((l) => l.includes('Ready to accept connections'))) await sleep(20);
    if (c.running && c.lines.some((l) => l.includes('Ready to accept connections'))) return { child: c, port, socket };
    stopProcess(c.pid);
  }
  throw new Error('redis-server would not start on a free port of 127.0.0.1');
}

/** A private redis-server with run `run`'s VSI types and switch config in it, and a client and bus on it. */
export async function startRunRedis(bed: Bed, run: string, vsiTypes: VsiTypeEntry[], config: SwitchRunConfig): Promise<{ redisServer: RedisServer; redis: Redis; bus: RedisBus }> {
  const redisServer = await startRedis(bed);
  const redis = new Redis({ host: '127.0.0.1', port: redisServer.port, maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  const bus = new RedisBus(redis, run);
  await bus.defineVsiTypes(vsiTypes);
  await bus.writeSwitchConfig(config);
  return { redisServer, redis, bus };
}

/**
 * Inside a namespace, 127.0.0.1:`port` forwarded to a unix socket: how a process in a
 * namespace reaches the test's redis-server (which listens on the root namespace's loopback
 * only) with a plain HOST:PORT address. Unix sockets are not network-namespaced.
 */
export const UNIX_PROXY = `
import { createServer, connect } from 'node:net';
const [port, path] = process.argv.slice(2);
const server = createServer((c) => {
  const u = connect({ path });
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

// ------------------------------------------------------------------------------------------
// nstool: raw frames and UDP request/response inside a namespace

export const NSTOOL = `
import { createInterface } from 'node:readline';
import { createSocket } from 'node:dgram';
import { PcapPort } from '${distUrl('hosts/runtime/pcap-port.js')}';

const [ifname] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const now = () => process.hrtime.bigint().toString();
const port = PcapPort.open(ifname);
const frames = [];
let keepData = false;
// the data streams (multicast 5001, echo 7/7007) are not kept unless asked: they are many
const isData = (f) => {
  if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 17) return false;
  const ihl = (f[14] & 0x0f) * 4;
  const sp = (f[14 + ihl] << 8) | f[15 + ihl], dp = (f[16 + ihl] << 8) | f[17 + ihl];
  return dp === 5001 || dp === 7 || sp === 7 || dp === 7007;
};
port.onFrame((f) => {
  if (!keepData && isData(f)) return;
  frames.push([now(), Buffer.from(f).toString('hex')]);
});
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let c;
  try { c = JSON.parse(line); } catch { return; }
  try {
    switch (c.op) {
      case 'send': {
        const f = Buffer.from(c.hex, 'hex');
        const t = now();
        port.send(f);
        return out({ id: c.id, t });
      }
      case 'frames': return out({ id: c.id, frames: frames.slice(c.since ?? 0), next: frames.length });
      case 'keep-data': keepData = !!c.on; return out({ id: c.id });
      case 'udp-request': {
        const s = createSocket({ type: 'udp4', reuseAddr: true });
        let t0 = null;
        const timer = setTimeout(() => { s.close(); out({ id: c.id, error: 'timeout', t0 }); }, c.timeoutMs ?? 2000);
        s.on('message', (m, rinfo) => {
          const t1 = now();
          clearTimeout(timer);
          s.close();
          out({ id: c.id, t0, t1, from: rinfo.address, port: rinfo.port, hex: m.toString('hex') });
        });
        s.on('error', (e) => { clearTimeout(timer); out({ id: c.id, error: String(e) }); });
        s.bind(c.bindPort, c.bind, () => {
          t0 = now();
          s.send(Buffer.from(c.hex, 'hex'), c.dstPort, c.dst);
        });
        return;
      }
      case 'stats': return out({ id: c.id, pcap: port.stats, frames: frames.length });
      case 'quit': port.close(); process.exit(0);
    }
  } catch (e) {
    out({ id: c.id, error: String(e && e.stack || e) });
  }
});
rl.on('close', () => { port.close(); process.exit(0); });
process.on('SIGTERM', () => { port.close(); process.exit(0); });
out({ ready: true, t: now() });
`;

export interface ToolReply {
  id?: number;
  error?: string;
  [k: string]: unknown;
}

/** A running nstool, driven line by line. */
export class NsTool {
  private nextId = 1;
  private readonly replies = new Map<number, (r: ToolReply) => void>();
  ready: Promise<void>;
  /** frames fetched so far: [t ns, bytes] */
  readonly frames: { t: bigint; bytes: Uint8Array }[] = [];
  private next = 0;

  constructor(readonly child: Child) {
    let readyResolve!: () => void;
    this.ready = new Promise((r) => (readyResolve = r));
    child.onLine((l) => {
      let m: ToolReply & { ready?: boolean };
      try {
        m = JSON.parse(l) as ToolReply & { ready?: boolean };
      } catch {
        return;
      }
      if (m.ready) readyResolve();
      if (typeof m.id === 'number') {
        const cb = this.replies.get(m.id);
        this.replies.delete(m.id);
        cb?.(m);
      }
    });
  }

  request(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<ToolReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`nstool ${this.child.label}: no answer to ${String(cmd.op)} within ${timeoutMs} ms\n${this.child.output()}`)), timeoutMs);
      this.replies.set(id, (r) => {
        clearTimeout(t);
        if (r.error && cmd.op !== 'udp-request') reject(new Error(`nstool ${this.child.label}: ${r.error}`));
        else resolve(r);
      });
      this.child.proc.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  /** Put a frame on the wire; resolves to the send time (CLOCK_MONOTONIC ns). */
  async send(frame: Uint8Array): Promise<bigint> {
    const r = await this.request({ op: 'send', hex: Buffer.from(frame).toString('hex') });
    return BigInt(r.t as string);
  }

  /** Fetch the frames received since the last fetch (all of them are kept in `frames`). */
  async fetch(): Promise<{ t: bigint; bytes: Uint8Array }[]> {
    const r = await this.request({ op: 'frames', since: this.next });
    const got = (r.frames as [string, string][]).map(([t, hex]) => ({ t: BigInt(t), bytes: new Uint8Array(Buffer.from(hex, 'hex')) }));
    this.next = r.next as number;
    this.frames.push(...got);
    return got;
  }

  /** Fetch until `pred` holds for a frame received at or after `since`; resolves to it. */
  waitFrame(pred: (f: { t: bigint; bytes: Uint8Array }) => boolean, since: bigint, timeoutMs: number, what: string): Promise<{ t: bigint; bytes: Uint8Array }> {
    return until(async () => {
      await this.fetch();
      return this.frames.find((x) => x.t >= since && pred(x));
    }, timeoutMs, `${what} (a frame)`);
  }
}

export function startTool(bed: Bed, ns: string, ifname: string, label: string): NsTool {
  const script = join(bed.tmp, 'nstool.mjs');
  if (!existsSync(script)) writeFileSync(script, NSTOOL);
  return new NsTool(bed.node(ns, script, [ifname], label, { stdin: true }));
}
