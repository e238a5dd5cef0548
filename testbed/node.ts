// One testbed container, made from a docker-compose.yml service (compose.ts) and a name:
// `migsim-<role>-<name>` (`migsim-<role>` for the singletons: redis, switch, dhcp, probe).
// Container level only (create, start, pid, exec, pause, stop, remove): links are link.ts's,
// the topology network.ts's.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { ServiceSpec } from './compose.js';

/** Every label key the orchestrator sets besides the compose file's migsim / migsim.role. */
export const LABEL = {
  migsim: 'migsim',
  role: 'migsim.role',
  run: 'migsim.run',
  name: 'migsim.name',
  scenario: 'migsim.scenario',
  topology: 'migsim.topology',
} as const;

export const CONTAINER_PREFIX = 'migsim-';
/** Docker network name of a compose network key (`mgmt` → `migsim-mgmt`). */
export const dockerNetworkName = (key: string): string => `${CONTAINER_PREFIX}${key}`;

export interface NodeOptions {
  docker: Docker;
  /** the built tag that replaces the compose file's `migsim/base` */
  image: string;
  runId: string;
  /** more labels (scenario, topology fingerprint) */
  labels?: Record<string, string>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** reject (and stop reading) after this long; the process in the container keeps running */
  timeoutMs?: number;
  /** called with each stderr chunk as it arrives (e.g. to see tcpdump's "listening on") */
  onStderr?: (chunk: string) => void;
  onStdout?: (chunk: string) => void;
}

export class TestbedNode {
  readonly containerName: string;
  private readonly docker: Docker;
  private pidCache: { pid: number; since: string | null } | null = null;

  constructor(
    readonly spec: ServiceSpec,
    /** the scenario's name for it (host, VM, source index); null for a singleton */
    readonly name: string | null,
    private readonly opts: NodeOptions,
  ) {
    this.docker = opts.docker;
    this.containerName = TestbedNode.containerName(spec.role, name);
  }

  static containerName(role: string, name: string | null): string {
    const n = `${CONTAINER_PREFIX}${role}${name === null ? '' : `-${name}`}`;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(n)) throw new Error(`${JSON.stringify(n)} is not a valid container name`);
    return n;
  }

  get role(): string {
    return this.spec.role;
  }

  private get container(): Docker.Container {
    return this.docker.getContainer(this.containerName);
  }

  /** The container's inspect data, or null if there is none by this name. */
  async inspect(): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.container.inspect();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  async create(): Promise<void> {
    const s = this.spec;
    const [firstNet, ...moreNets] = s.networks.map(dockerNetworkName);
    const labels: Record<string, string> = {
      ...s.labels,
      [LABEL.migsim]: '1',
      [LABEL.role]: s.role,
      [LABEL.run]: this.opts.runId,
      [LABEL.name]: this.name ?? s.role,
      ...this.opts.labels,
    };
    await this.docker.createContainer({
      name: this.containerName,
      Hostname: (this.name === null ? s.role : `${s.role}-${this.name}`).slice(0, 63).replace(/_/g, '-'),
      Image: s.image === 'migsim/base' ? this.opts.image : s.image,
      ...(s.command === null ? {} : { Cmd: s.command }),
      Env: s.environment,
      Labels: labels,
      HostConfig: {
        CapAdd: s.capAdd,
        CapDrop: s.capDrop,
        SecurityOpt: s.securityOpt,
        Binds: s.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
        ...(s.networkMode !== null ? { NetworkMode: s.networkMode } : firstNet !== undefined ? { NetworkMode: firstNet } : {}),
      },
    });
    for (const net of moreNets) await this.docker.getNetwork(net).connect({ Container: this.containerName });
  }

  async start(): Promise<void> {
    await this.container.start();
  }

  /**
   * The container's init process in the host's pid namespace (its namespaces are
   * /proc/PID/ns/*). Remembered while /proc/PID is still this container's init (a Docker
   * API round trip costs ~5 ms, and a migration's freeze and vNIC move ask for it).
   */
  async pid(): Promise<number> {
    if (this.pidCache !== null && existsSync(`/proc/${this.pidCache.pid}`) && this.pidCache.since === processStart(this.pidCache.pid)) return this.pidCache.pid;
    const info = await this.container.inspect();
    if (!info.State.Running || !info.State.Pid) throw new Error(`${this.containerName} is not running (${info.State.Status})`);
    this.pidCache = { pid: info.State.Pid, since: processStart(info.State.Pid) };
    return info.State.Pid;
  }

  /** Its address on a Docker network (by compose key, e.g. `mgmt`). */
  async networkIp(key: string): Promise<string> {
    const info = await this.inspect();
    const ip = info?.NetworkSettings.Networks[dockerNetworkName(key)]?.IPAddress;
    if (!ip) throw new Error(`${this.containerName} has no address on ${dockerNetworkName(key)}`);
    return ip;
  }

  async exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const ex = await this.container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
    const stream = await ex.start({ hijack: true, stdin: false });
    let stdout = '';
    let stderr = '';
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (d: Buffer) => {
      const s = d.toString();
      stdout += s;
      opts.onStdout?.(s);
    });
    err.on('data', (d: Buffer) => {
      const s = d.toString();
      stderr += s;
      opts.onStderr?.(s);
    });
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (e?: Error) => {
        if (timer) clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          stream.destroy();
          done(new Error(`${this.containerName}: ${cmd.join(' ')}: no end within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      stream.on('end', () => done());
      stream.on('close', () => done());
      stream.on('error', (e: Error) => done(e));
    });
    const info = await ex.inspect();
    return { code: info.ExitCode ?? -1, stdout, stderr };
  }

  /** exec, throwing with the command's stderr if it exits non-zero. */
  async mustExec(cmd: string[], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw new Error(`${this.containerName}: ${cmd.join(' ')}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  async pause(): Promise<void> {
    await this.container.pause();
  }

  async unpause(): Promise<void> {
    await this.container.unpause();
  }

  /**
   * Freezes every process of the container through its freezer cgroup directly (what
   * `docker pause` does through runc, ~20 ms slower: a migration's freeze is inside the
   * VM's downtime). Resolves once the kernel reports the group frozen. Docker does not see
   * this state: thaw() before anything else is done to the container (removeContainer
   * thaws a frozen one first).
   */
  async freeze(): Promise<void> {
    await setFrozen(await this.pid(), true);
  }

  async thaw(): Promise<void> {
    await setFrozen(await this.pid(), false);
  }

  async stop(): Promise<void> {
    const info = await this.inspect();
    if (!info?.State.Running) return;
    if (info.State.Paused) await this.container.unpause();
    await this.container.stop({ t: 1 });
  }

  /** Force-removes the container (a paused one is unpaused first); no container is fine. */
  async remove(): Promise<void> {
    await removeContainer(this.docker, this.containerName);
  }
}

/** A process's start time (field 22 of /proc/PID/stat): tells a reused pid from the one we knew. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

// ---- the freezer cgroup (v1: freezer.state; v2: cgroup.freeze) -------------------------------

function freezerOf(pid: number): { v: 1 | 2; dir: string } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?freezer(,[^:]*)?:/.test(l));
  if (v1) return { v: 1, dir: `/sys/fs/cgroup/freezer${v1.slice(v1.indexOf(':', v1.indexOf(':') + 1) + 1)}` };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) return { v: 2, dir: `/sys/fs/cgroup${v2.slice(3)}` };
  throw new Error(`no freezer cgroup for pid ${pid}`);
}

async function setFrozen(pid: number, frozen: boolean): Promise<void> {
  const f = freezerOf(pid);
  const deadline = Date.now() + 5000;
  if (f.v === 1) {
    const want = frozen ? 'FROZEN' : 'THAWED';
    writeFileSync(`${f.dir}/freezer.state`, want);
    // v1 may report FREEZING for a while: write again until the state is reached
    while (readFileSync(`${f.dir}/freezer.state`, 'utf8').trim() !== want) {
      if (Date.now() > deadline) throw new Error(`${f.dir}: not ${want} within 5 s`);
      await new Promise((r) => setTimeout(r, 1));
      writeFileSync(`${f.dir}/freezer.state`, want);
    }
    return;
  }
  writeFileSync(`${f.dir}/cgroup.freeze`, frozen ? '1' : '0');
  while (!new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(readFileSync(`${f.dir}/cgroup.events`, 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`${f.dir}: not ${frozen ? 'frozen' : 'thawed'} within 5 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Force-removes a container by name or id; absent is not an error. */
export async function removeContainer(docker: Docker, idOrName: string): Promise<void> {
  const c = docker.getContainer(idOrName);
  try {
    const info = await c.inspect();
    // frozen by freeze() (Docker does not know): its processes could not take the kill
    if (info.State.Running && info.State.Pid) await setFrozen(info.State.Pid, false).catch(() => undefined);
    if (info.State.Paused) await c.unpause();
    await c.remove({ force: true, v: true });
  } catch (e) {
    const code = (e as { statusCode?: number }).statusCode;
    if (code === 404) return;
    // 409: removal already in progress
    if (code === 409 && /already in progress/.test(String((e as Error).message))) return;
    throw e;
  }
}
