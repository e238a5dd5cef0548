// One testbed container, made from a docker-compose.yml service (compose.ts) and a name:
// `migsim-<role>-<name>` (`migsim-<role>` for the singletons: redis, switch, dhcp, probe).
// Container level only (create, start, pid, exec, pause, stop, remove): links are link.ts's,
// the topology network.ts's.

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

  /** The container's init process in the host's pid namespace (its namespaces are /proc/PID/ns/*). */
  async pid(): Promise<number> {
    const info = await this.container.inspect();
    if (!info.State.Running || !info.State.Pid) throw new Error(`${this.containerName} is not running (${info.State.Status})`);
    return info.State.Pid;
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

/** Force-removes a container by name or id; absent is not an error. */
export async function removeContainer(docker: Docker, idOrName: string): Promise<void> {
  const c = docker.getContainer(idOrName);
  try {
    const info = await c.inspect();
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
