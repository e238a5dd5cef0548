// Helpers of the fault suite (test/faults/faults.test.ts): a `migsim run --engine testbed`
// child with its output and exit, the run's event stream followed from the test (to inject a
// fault at a known point of the run), the fault injectors (signals, Redis, the switch process,
// a container, a link), and what a run may not leave behind: topology containers, migsimtb*
// veths, network namespaces no running container holds.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { toStreamEvent, type StreamEvent } from '../../hosts/control/event-stream.js';
import { hostLeftovers } from '../../testbed/link.js';
import { LABEL } from '../../testbed/node.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MIGSIM = join(REPO, 'bin/migsim.js');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const docker = new Docker();

export function migsim(args: string[]): string {
  return execFileSync(process.execPath, [MIGSIM, ...args], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A `migsim run FILE --engine testbed --out OUT` in the background. */
export class Run {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** resolves with the exit and the CLOCK_MONOTONIC ns it was seen at */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atNs: bigint }>;

  constructor(file: string, readonly out: string) {
    this.child = spawn(process.execPath, [MIGSIM, 'run', join(REPO, file), '--engine', 'testbed', '--out', out], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal, atNs: process.hrtime.bigint() })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Only this test's child: SIGKILL if it is still there. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  output(): string {
    return `--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }
}

export function redisIp(): string {
  return execFileSync('docker', ['inspect', '-f', '{{(index .NetworkSettings.Networks "migsim-mgmt").IPAddress}}', 'migsim-redis'], { encoding: 'utf8' }).trim();
}

/**
 * The event stream of the next run, read from the test: `keysBefore` are the streams that
 * existed before the run started; `waitFor` polls the new one until an event matches.
 */
export class StreamWatch {
  private readonly redis: Redis;
  private key: string | null = null;
  private last = '-';
  readonly events: StreamEvent[] = [];

  private constructor(ip: string, private readonly before: Set<string>) {
    this.redis = new Redis({ host: ip, port: 6379, lazyConnect: false, commandTimeout: 2000, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  static async open(): Promise<StreamWatch> {
    const ip = redisIp();
    const probe = new Redis({ host: ip, port: 6379, commandTimeout: 2000, maxRetriesPerRequest: 1 });
    probe.on('error', () => undefined);
    const keys = await probe.keys('migsim:*:events');
    probe.disconnect();
    return new StreamWatch(ip, new Set(keys));
  }

  async waitFor(pred: (e: StreamEvent) => boolean, timeoutMs: number, what: string, run: Run): Promise<StreamEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.key === null) this.key = (await this.redis.keys('migsim:*:events')).find((k) => !this.before.has(k)) ?? null;
      if (this.key !== null) {
        const page = await this.redis.xrange(this.key, this.last === '-' ? '-' : `(${this.last}`, '+');
        for (const [id, flat] of page) {
          this.last = id;
          const e = toStreamEvent(id, flat);
          if (e) this.events.push(e);
        }
        const hit = this.events.find(pred);
        if (hit) return hit;
      }
      if (!run.running) throw new Error(`the run ended before ${what}\n${run.output()}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms\n${run.output()}`);
      await sleep(50);
    }
  }

  /** The run's time 0 (its `origin` event), CLOCK_MONOTONIC ns. */
  origin(): bigint {
    const o = this.events.find((e) => e.source === 'orchestrator' && e.kind === 'origin');
    if (!o) throw new Error('no origin event seen');
    return o.t;
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** The one process (in this machine's namespace) whose argv `matches`; `what` names it in the error. */
function onePid(what: string, matches: (argv: string[]) => boolean): number {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (matches(readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'))) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  if (pids.length !== 1) throw new Error(`expected one ${what} process, found ${pids.length}`);
  return pids[0]!;
}

/** The host pid of the switch process (node …/hosts/switch/main.js in the switch container). */
export function switchPid(): number {
  return onePid('switch', (argv) => argv[1] === '/migsim/dist/hosts/switch/main.js');
}

/** The ISC dhcpd the dhcp container runs. */
export function dhcpdPid(): number {
  return onePid('dhcpd', (argv) => /(^|\/)dhcpd$/.test(argv[0] ?? '') && argv.includes('-cf'));
}

export function containerPid(name: string): number {
  return Number(execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', name], { encoding: 'utf8' }).trim());
}

export function dockerCli(...args: string[]): void {
  execFileSync('docker', args, { stdio: 'ignore' });
}

/** The redis container back to running (after a pause or a kill), if it is there. */
export function reviveRedis(): void {
  try {
    const state = execFileSync('docker', ['inspect', '-f', '{{.State.Status}}', 'migsim-redis'], { encoding: 'utf8' }).trim();
    if (state === 'paused') dockerCli('unpause', 'migsim-redis');
    else if (state !== 'running') dockerCli('start', 'migsim-redis');
  } catch {
    // no redis container: the next run makes one
  }
}

function netnsOf(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Network namespaces alive now: those of processes (/proc/PID/ns/net) and those kept by a bind mount (nsfs in mountinfo). */
function aliveNetns(): Set<string> {
  const alive = new Set<string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const ns = netnsOf(`/proc/${d}/ns/net`);
    if (ns) alive.add(ns);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    // an nsfs mount's root field names the namespace: net:[4026532182]
    if (sep >= 0 && f[sep + 1] === 'nsfs' && f[3]?.startsWith('net:')) alive.add(f[3]);
  }
  return alive;
}

/** The namespaces there before this suite ran anything (this machine's own, whatever they are). */
const BASELINE = aliveNetns();

/** Network namespaces alive now that were not there before the suite and that no running container holds. */
export async function strayNetns(): Promise<string[]> {
  const held = new Set<string>();
  for (const c of await docker.listContainers()) {
    const pid = (await docker.getContainer(c.Id).inspect()).State.Pid;
    const ns = pid ? netnsOf(`/proc/${pid}/ns/net`) : null;
    if (ns) held.add(ns);
  }
  return [...aliveNetns()].filter((ns) => ns.startsWith('net:') && !held.has(ns) && !BASELINE.has(ns));
}

/** What a run may not leave behind: its topology's containers, migsimtb* veths, namespaces nobody holds. */
export async function leftovers(): Promise<string[]> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
  return [...cs.map((c) => `container ${c.Names[0] ?? c.Id}`), ...(await hostLeftovers()).map((i) => `veth ${i}`), ...(await strayNetns()).map((n) => `netns ${n}`)];
}

export async function migsimContainers(): Promise<string[]> {
  return (await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`] } })).map((c) => c.Names[0] ?? c.Id);
}

export const msSince = (fromNs: bigint, toNs: bigint): number => Number(toNs - fromNs) / 1e6;
