// A process the orchestrator runs inside a testbed container (an agent, dhcpd's wrapper, the
// probe …): started with `docker exec` (attached, so its exit status and output come back),
// signalled directly from the host's pid namespace (the orchestrator runs as root on the
// same kernel; a `docker exec kill` would add tens of ms to an assistance request), and its
// files read through /proc/<pid>/root. Containers keep `sleep infinity` as PID 1, so a
// process can be restarted without recreating the container and its veths.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TestbedNode } from './node.js';

/** The image's Node and where the repo is mounted (docker-compose.yml). */
export const CONTAINER_NODE = '/usr/local/bin/node';
export const CONTAINER_REPO = '/migsim';
/** Where processes in a container write their logs and state. */
export const CONTAINER_RUN_DIR = '/run/migsim';

const OUTPUT_TAIL = 16_384;

export interface ProcessExit {
  code: number;
}

export class ContainerProcess {
  private out = '';
  private hostPidCache: number | null = null;
  private exit: ProcessExit | null = null;

  private constructor(
    readonly node: TestbedNode,
    readonly label: string,
    /** the script path inside the container: how the process is found in /proc */
    private readonly marker: string,
    readonly exited: Promise<ProcessExit>,
  ) {}

  /**
   * Starts `node SCRIPT ARGS…` (SCRIPT relative to the repo's dist/) in the container. The
   * promise resolves once the process exists; `exited` once it has ended.
   */
  static async start(node: TestbedNode, label: string, script: string, args: string[]): Promise<ContainerProcess> {
    const path = `${CONTAINER_REPO}/dist/${script}`;
    let self: ContainerProcess | null = null;
    const pending: string[] = [];
    const onOut = (s: string) => {
      if (self) self.append(s);
      else pending.push(s);
    };
    const exited = node
      .exec(['sh', '-c', `mkdir -p ${CONTAINER_RUN_DIR} && exec "$0" "$@"`, CONTAINER_NODE, path, ...args], { onStdout: onOut, onStderr: onOut })
      .then((r) => ({ code: r.code }))
      .catch((e: unknown) => {
        onOut(`\n[exec failed: ${e instanceof Error ? e.message : String(e)}]\n`);
        return { code: -1 };
      });
    self = new ContainerProcess(node, label, path, exited);
    for (const s of pending) self.append(s);
    void exited.then((x) => (self!.exit = x));
    return self;
  }

  private append(s: string): void {
    this.out += s;
    if (this.out.length > OUTPUT_TAIL * 2) this.out = this.out.slice(-OUTPUT_TAIL);
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** The last lines it printed (stdout and stderr). */
  output(): string {
    return `--- ${this.label} (${this.node.containerName})${this.exit ? `, exit ${this.exit.code}` : ''}\n${this.out.slice(-OUTPUT_TAIL).trimEnd()}`;
  }

  /** Its pid in the host's namespace (found once, by its script path in the container's pid namespace). */
  async hostPid(timeoutMs = 5000): Promise<number> {
    if (this.hostPidCache !== null) return this.hostPidCache;
    const init = await this.node.pid();
    const ns = readlinkSync(`/proc/${init}/ns/pid`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pid = findProcess(ns, this.marker);
      if (pid !== null) return (this.hostPidCache = pid);
      if (!this.running) throw new Error(`${this.label} has exited\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no process running ${this.marker} in ${this.node.containerName}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends a signal (a process that has ended is not an error). */
  async signal(sig: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(await this.hostPid(), sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH' && this.running) throw e;
    }
  }

  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. Resolves with its exit. */
  async stop(graceMs = 15_000): Promise<ProcessExit> {
    await this.signal('SIGTERM').catch(() => undefined);
    const t = await Promise.race([this.exited, new Promise<null>((r) => setTimeout(() => r(null), graceMs))]);
    if (t) return t;
    await this.signal('SIGKILL').catch(() => undefined);
    return this.exited;
  }
}

/** The host pid of the process in pid namespace `ns` whose command line names `marker`. */
function findProcess(ns: string, marker: string): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv[0] === CONTAINER_NODE && argv[1] === marker) return Number(d);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return null;
}

/** A path inside a running container's filesystem, seen from the host. */
export async function containerPath(node: TestbedNode, path: string): Promise<string> {
  return `/proc/${await node.pid()}/root${path}`;
}

/** A file in the container, or null if it is not there (yet). */
export async function readContainerFile(node: TestbedNode, path: string): Promise<string | null> {
  try {
    return await readFile(await containerPath(node, path), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes a file in the container atomically (a reader watching it never sees half). */
export async function writeContainerFile(node: TestbedNode, path: string, text: string): Promise<void> {
  const p = await containerPath(node, path);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(`${p}.tmp`, text);
  await rename(`${p}.tmp`, p);
}
