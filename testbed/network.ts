// The testbed topology of a Scenario, made and taken down through the Docker API: its
// containers, the bridge-free veth wiring between them, and moving a VM's vNIC to another
// host. Containers, interface names and wiring: docs/testbed-wiring.md "Containers" and
// "Data plane: veth pairs, no Linux bridge".

import { downAll, type DownReport, migsimImageTags, testbedStatus, type TestbedStatus } from './clean.js';
import { HOST_UPLINK, MGMT_NETWORK, planTopology, type TopologyPlan, VM_IF, vnicName } from './topo.js';
import { TopologyConflict } from './errors.js';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { ensureImage, type Log } from './image.js';
import type { Scenario } from '../model/scenario/types.js';
import { type ComposeFile, loadCompose, type Role, serviceOf } from './compose.js';
import { LinkManager, listInterfaces, quietNamespace, removeHostLeftovers } from './link.js';
import { CONTAINER_PREFIX, dockerNetworkName, LABEL, removeContainer, TestbedNode } from './node.js';

export interface TestbedOptions {
  docker?: Docker;
  compose?: ComposeFile;
  log?: Log;
  /** a tag to use instead of building/reusing migsim/base (tests) */
  image?: string;
}

export interface UpReport {
  image: string;
  /** what this call created or repaired; empty: everything was there already */
  changes: string[];
  runId: string;
}

const stderrLog: Log = (line) => process.stderr.write(`migsim: testbed: ${line}\n`);


export class TestbedNetwork {
  readonly docker: Docker;
  readonly log: Log;
  private compose: ComposeFile | null;
  private image: string | null;
  private links: LinkManager | null = null;
  private plan: TopologyPlan | null = null;
  private readonly nodes = new Map<string, TestbedNode>();
  /** VM name → host name it is on now */
  private readonly vmHost = new Map<string, string>();

  constructor(opts: TestbedOptions = {}) {
    this.docker = opts.docker ?? new Docker();
    this.log = opts.log ?? stderrLog;
    this.compose = opts.compose ?? null;
    this.image = opts.image ?? null;
  }

  get runId(): string | null {
    return this.links?.runId ?? null;
  }

  get topology(): TopologyPlan | null {
    return this.plan;
  }

  /** The container of a role/name in the current topology (after `up`). */
  node(role: Role, name: string | null = null): TestbedNode {
    const n = this.nodes.get(TestbedNode.containerName(role, name));
    if (!n) throw new Error(`no ${TestbedNode.containerName(role, name)} in this testbed (up a scenario first)`);
    return n;
  }

  hostOf(vm: string): string {
    const h = this.vmHost.get(vm);
    if (h === undefined) throw new Error(`no VM ${vm} in this testbed`);
    return h;
  }

  private composeFile(): ComposeFile {
    this.compose ??= loadCompose();
    return this.compose;
  }

  private makeNode(role: Role, name: string | null, runId: string, labels: Record<string, string> = {}): TestbedNode {
    const n = new TestbedNode(serviceOf(this.composeFile(), role), name, { docker: this.docker, image: this.image!, runId, labels });
    this.nodes.set(n.containerName, n);
    return n;
  }

  /**
   * The base (image, mgmt network, redis) and, with a scenario, its topology. Idempotent:
   * what exists and matches is kept (report.changes lists what was done). A different
   * scenario's topology already up is a TopologyConflict.
   */
  async up(scenario?: Scenario): Promise<UpReport> {
    const changes: string[] = [];
    await this.docker.ping();
    const compose = this.composeFile(); // a malformed file fails before anything is made
    if (this.image === null) {
      const before = await migsimImageTags(this.docker);
      this.image = await ensureImage({ docker: this.docker });
      if (!before.includes(this.image)) changes.push(`built image ${this.image}`);
    }
    const plan = scenario ? planTopology(scenario, this.image) : null;

    // a topology that is up already: the same one is kept, another one is refused
    const existing = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
    const fingerprints = new Set(existing.map((c) => c.Labels[LABEL.topology]));
    if (plan && existing.length > 0 && (fingerprints.size > 1 || !fingerprints.has(plan.fingerprint))) {
      const names = [...new Set(existing.map((c) => c.Labels[LABEL.scenario] ?? '?'))].join(', ');
      throw new TopologyConflict(`the testbed already runs the topology of ${names}; run \`migsim testbed down\` first`);
    }

    // mgmt network
    const netSpec = compose.networks.get(MGMT_NETWORK);
    if (!netSpec) throw new Error(`${compose.file}: networks.${MGMT_NETWORK}: missing`);
    const netName = dockerNetworkName(MGMT_NETWORK);
    const nets = await this.docker.listNetworks({ filters: { name: [netName] } });
    if (!nets.some((n) => n.Name === netName)) {
      await this.docker.createNetwork({
        Name: netName,
        Driver: netSpec.driver,
        Internal: netSpec.internal,
        CheckDuplicate: true,
        Labels: { ...netSpec.labels, [LABEL.migsim]: '1' },
      });
      changes.push(`created network ${netName}${netSpec.internal ? ' (internal)' : ''}`);
    } else if (!nets.some((n) => n.Name === netName && n.Labels?.[LABEL.migsim] === '1')) {
      throw new Error(`a Docker network named ${netName} exists but is not labelled migsim=1: not ours, left alone; remove or rename it`);
    }

    // redis; the run id is the running testbed's (topology, else redis), else a new one
    const redisInfo = await new TestbedNode(serviceOf(compose, 'redis'), null, { docker: this.docker, image: this.image, runId: '' }).inspect();
    const runId = existing[0]?.Labels[LABEL.run] || redisInfo?.Config.Labels?.[LABEL.run] || newRunId();
    const redis = this.makeNode('redis', null, runId);
    changes.push(...(await this.ensureRunning(redis)));

    if (plan) changes.push(...(await this.upTopology(plan, scenario!, runId, existing.length > 0)));
    return { image: this.image, changes, runId };
  }

  /** Creates (or adopts) a container and makes sure it runs. */
  private async ensureRunning(n: TestbedNode): Promise<string[]> {
    const info = await n.inspect();
    if (info && info.Config.Labels?.[LABEL.migsim] !== '1') {
      throw new Error(`a container named ${n.containerName} exists but is not labelled migsim=1: not ours, left alone`);
    }
    if (!info) {
      await n.create();
      await n.start();
      return [`created ${n.containerName}`];
    }
    if (info.State.Paused) {
      await n.unpause();
      return [`unpaused ${n.containerName}`];
    }
    if (!info.State.Running) {
      await n.start();
      return [`started ${n.containerName}`];
    }
    return [];
  }

  private async upTopology(plan: TopologyPlan, s: Scenario, runId: string, hadTopology: boolean): Promise<string[]> {
    const labels = { [LABEL.scenario]: s.name, [LABEL.topology]: plan.fingerprint };
    this.plan = plan;
    const nodes = plan.nodes.map((n) => this.makeNode(n.role, n.name, runId, labels));

    if (hadTopology) {
      // the same topology: keep it if every container runs and every interface is in place
      const problems = await this.adopt(plan, nodes, runId);
      if (problems.length === 0) {
        // every interface is there; the tc forwarding is checked (and set if it differs)
        const fixed: string[] = [];
        const swPid = await this.node('switch').pid();
        for (const p of plan.ports) if (await this.joinPort(swPid, p)) fixed.push(`joined ${p.link} and ${p.port} in ${TestbedNode.containerName('switch', null)}`);
        for (const h of s.hosts) if (await this.forwardHost(h.name)) fixed.push(`set the forwarding in ${TestbedNode.containerName('host', h.name)}`);
        return fixed;
      }
      this.log(`the ${s.name} topology is incomplete (${problems.join('; ')}): rebuilding it`);
      await Promise.all(nodes.map((n) => n.remove()));
    }

    const changes: string[] = [];
    const t0 = Date.now();
    await Promise.all(
      nodes.map(async (n) => {
        await n.create();
        await n.start();
      }),
    );
    changes.push(`created ${nodes.length} containers for ${s.name}`);
    const pid = new Map<string, number>();
    await Promise.all(
      nodes.map(async (n) => {
        const p = await n.pid();
        pid.set(n.containerName, p);
        await quietNamespace(p);
      }),
    );
    const pidOf = (role: Role, name: string | null) => pid.get(TestbedNode.containerName(role, name))!;
    const links = new LinkManager(runId);
    this.links = links;
    const sw = pidOf('switch', null);

    for (const p of plan.ports) {
      // the peer's veth ends on the link; the switch captures on a private pair joined to it by
      // tc, so a peer that vanishes takes the link, never the capture (docs/testbed-wiring.md)
      const l = await links.createVethPair();
      await links.moveInto(l.a.name, sw, p.link);
      await links.moveInto(l.b.name, pid.get(p.container)!, p.ifname);
      const c = await links.createVethPair();
      await links.moveInto(c.a.name, sw, p.port);
      await links.moveInto(c.b.name, sw, p.joint);
      await this.joinPort(sw, p);
    }
    for (const v of plan.vms) {
      const l = await links.createVethPair();
      await links.moveInto(l.a.name, pidOf('vm', v.name), VM_IF, { mac: v.mac });
      await links.moveInto(l.b.name, pidOf('host', v.host), vnicName(v.name));
      this.vmHost.set(v.name, v.host);
    }
    for (const h of s.hosts) await this.forwardHost(h.name);
    changes.push(`wired ${2 * plan.ports.length + plan.vms.length} veth pairs in ${Date.now() - t0} ms`);
    return changes;
  }

  /** A switch port's link and its capture pair joined both ways (tc); true if anything changed. */
  private async joinPort(swPid: number, p: TopologyPlan['ports'][number]): Promise<boolean> {
    const links = this.linksOrNew();
    const a = await links.forward(swPid, p.link, [p.joint]);
    return (await links.forward(swPid, p.joint, [p.link])) || a;
  }

  /** A host's tc forwarding from its current VM set: each vnic → uplink, uplink → every vnic. */
  private async forwardHost(host: string): Promise<boolean> {
    const links = this.linksOrNew();
    const pid = await this.node('host', host).pid();
    const vnics = [...this.vmHost].filter(([, h]) => h === host).map(([vm]) => vnicName(vm));
    let changed = false;
    for (const v of vnics) changed = (await links.forward(pid, v, [HOST_UPLINK])) || changed;
    return (await links.forward(pid, HOST_UPLINK, vnics)) || changed;
  }

  private linksOrNew(): LinkManager {
    this.links ??= new LinkManager(newRunId());
    return this.links;
  }

  /** Takes over a running topology made by an earlier `up`; returns what is missing. */
  private async adopt(plan: TopologyPlan, nodes: TestbedNode[], runId: string): Promise<string[]> {
    const problems: string[] = [];
    const ifs = new Map<string, Map<string, { up: boolean }>>();
    for (const n of nodes) {
      const info = await n.inspect();
      if (!info?.State.Running) {
        problems.push(`${n.containerName} ${info ? info.State.Status : 'missing'}`);
        continue;
      }
      ifs.set(n.containerName, await listInterfaces(info.State.Pid));
    }
    if (problems.length > 0) return problems;
    const need = (container: string, ifname: string) => {
      const i = ifs.get(container)?.get(ifname);
      if (!i?.up) problems.push(`${container}: ${ifname} ${i ? 'down' : 'missing'}`);
    };
    const sw = TestbedNode.containerName('switch', null);
    for (const p of plan.ports) {
      for (const i of [p.port, p.link, p.joint]) need(sw, i);
      need(p.container, p.ifname);
    }
    for (const v of plan.vms) {
      need(TestbedNode.containerName('vm', v.name), VM_IF);
      const at = [...ifs].find(([c, m]) => c.startsWith(`${CONTAINER_PREFIX}host-`) && m.has(vnicName(v.name)));
      if (!at) problems.push(`${vnicName(v.name)} is in no host container`);
      else this.vmHost.set(v.name, nodes.find((n) => n.containerName === at[0])!.name!);
    }
    this.links = new LinkManager(runId);
    return problems;
  }

  /**
   * Moves a VM to another host: pause, its vNIC moved (moveVnic), unpause. Returns how long
   * the VM was paused. (A scenario run pauses and unpauses itself around moveVnic: run-migration.ts.)
   */
  async moveVm(vm: string, toHost: string): Promise<{ from: string; to: string; pausedMs: number }> {
    const vmNode = this.node('vm', vm);
    const t0 = process.hrtime.bigint();
    await vmNode.pause();
    let from: string;
    try {
      from = await this.moveVnic(vm, toHost);
    } finally {
      await vmNode.unpause();
    }
    return { from, to: toHost, pausedMs: Number(process.hrtime.bigint() - t0) / 1e6 };
  }

  /**
   * The VM's vNIC peer to another host: forwarding off in the old host, `vnic-<vm>` into the
   * new host's namespace (from inside the old one), forwarding on there. Returns the old host.
   * The caller pauses the VM around it (a moving vNIC must not carry the guest's frames).
   */
  async moveVnic(vm: string, toHost: string): Promise<string> {
    const from = this.hostOf(vm);
    if (from === toHost) throw new Error(`${vm} is on ${toHost} already`);
    const oldHost = this.node('host', from);
    const newHost = this.node('host', toHost);
    const [oldPid, newPid] = await Promise.all([oldHost.pid(), newHost.pid()]);
    const links = this.linksOrNew();
    const vnic = vnicName(vm);
    const vnicsOn = (h: string) => [...this.vmHost].filter(([, x]) => x === h).map(([v]) => vnicName(v));
    const left = vnicsOn(from).filter((v) => v !== vnic);
    await links.moveForwarded(oldPid, newPid, vnic, HOST_UPLINK, left, [...vnicsOn(toHost), vnic]);
    this.vmHost.set(vm, toHost);
    return from;
  }

  /** A container's address on the mgmt network (redis, switch, hosts). */
  async mgmtIp(role: Role, name: string | null = null): Promise<string> {
    return this.node(role, name).networkIp(MGMT_NETWORK);
  }

  /**
   * A fresh topology for a scenario run: the same scenario's topology left up (by
   * `testbed up FILE` or a crashed run) is removed first, so every run starts from clean
   * containers (no lease or process of an earlier run); another scenario's is a
   * TopologyConflict. Then `up`.
   */
  async upFresh(s: Scenario): Promise<UpReport> {
    const existing = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
    const others = existing.filter((c) => c.Labels[LABEL.scenario] !== s.name);
    if (others.length > 0) {
      const names = [...new Set(others.map((c) => c.Labels[LABEL.scenario] ?? '?'))].join(', ');
      throw new TopologyConflict(`the testbed runs the topology of ${names}; run \`migsim testbed down\` first`);
    }
    if (existing.length > 0) {
      this.log(`removing the ${s.name} topology left up (${existing.length} containers) for a fresh run`);
      await this.removeTopology();
    }
    return this.up(s);
  }

  /** Removes the scenario topology's containers (the base, redis and mgmt, stays). */
  async removeTopology(): Promise<string[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
    await Promise.all(containers.map((c) => removeContainer(this.docker, c.Id)));
    for (const n of [...this.nodes.keys()]) if (n !== TestbedNode.containerName('redis', null)) this.nodes.delete(n);
    this.vmHost.clear();
    this.plan = null;
    await removeHostLeftovers();
    return containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')).sort();
  }

  /** Removes every migsim container, network and host-namespace veth (images with `images`). */
  async down(opts: { images?: boolean } = {}): Promise<DownReport> {
    const r = await downAll(this.docker, opts);
    this.nodes.clear();
    this.vmHost.clear();
    this.links = null;
    this.plan = null;
    return r;
  }

  async status(): Promise<TestbedStatus> {
    return testbedStatus(this.docker);
  }
}

function newRunId(): string {
  return randomBytes(2).toString('hex');
}
