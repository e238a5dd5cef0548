// Finding and removing what the testbed made, whoever made it (a crashed run too): every
// container and network labelled migsim=1, every `migsimtb*` veth in the host namespace, and
// with `images` the migsim/base tags; and the status listing of the same things.

import { IMAGE_REPO } from './image.js';
import type Docker from 'dockerode';
import { hostLeftovers, listInterfaces, removeHostLeftovers } from './link.js';
import { LABEL, removeContainer } from './node.js';

export interface DownReport {
  containers: string[];
  networks: string[];
  interfaces: string[];
  images: string[];
}

export interface ContainerStatus {
  name: string;
  role: string;
  state: string;
  run: string;
  scenario: string | null;
  image: string;
  /** data-plane interfaces in its namespace (running containers only) */
  interfaces: { name: string; up: boolean; mac: string }[];
}

export interface TestbedStatus {
  engine: { answers: boolean; version: string | null; error: string | null };
  containers: ContainerStatus[];
  networks: { name: string; internal: boolean }[];
  images: { tag: string; sizeBytes: number }[];
  /** migsimtb* interfaces left in the host namespace */
  hostInterfaces: string[];
  /** where each VM's vnic is now: `vnic-<vm>` → the host container it is in */
  vmHosts: Record<string, string>;
}

export async function migsimImageTags(docker: Docker): Promise<string[]> {
  const imgs = await docker.listImages({ filters: { label: [`${LABEL.migsim}=1`] } });
  return imgs.flatMap((i) => i.RepoTags ?? []);
}

/** Removes everything labelled migsim=1 (containers, networks) and every migsimtb* host veth. */
export async function downAll(docker: Docker, opts: { images?: boolean } = {}): Promise<DownReport> {
  const report: DownReport = { containers: [], networks: [], interfaces: [], images: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`] } });
  await Promise.all(
    containers.map(async (c) => {
      await removeContainer(docker, c.Id);
      report.containers.push((c.Names[0] ?? c.Id).replace(/^\//, ''));
    }),
  );
  const nets = await docker.listNetworks({ filters: { label: [`${LABEL.migsim}=1`] } });
  for (const n of nets) {
    try {
      await docker.getNetwork(n.Id).remove();
      report.networks.push(n.Name);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  report.interfaces = await removeHostLeftovers();
  if (opts.images) {
    const imgs = await docker.listImages({ filters: { label: [`${LABEL.migsim}=1`] } });
    for (const img of imgs) {
      const tags = (img.RepoTags ?? []).filter((t) => t.startsWith(`${IMAGE_REPO}:`));
      for (const t of tags) {
        await docker.getImage(t).remove();
        report.images.push(t);
      }
    }
  }
  report.containers.sort();
  return report;
}

export async function testbedStatus(docker: Docker): Promise<TestbedStatus> {
  const status: TestbedStatus = {
    engine: { answers: false, version: null, error: null },
    containers: [],
    networks: [],
    images: [],
    hostInterfaces: [],
    vmHosts: {},
  };
  try {
    status.hostInterfaces = await hostLeftovers();
  } catch {
    // no iproute2: leave it empty
  }
  try {
    await docker.ping();
    status.engine.answers = true;
    status.engine.version = (await docker.version()).Version;
  } catch (e) {
    status.engine.error = e instanceof Error ? e.message : String(e);
    return status;
  }
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`] } });
  for (const c of containers.sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? ''))) {
    const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
    const cs: ContainerStatus = {
      name,
      role: c.Labels[LABEL.role] ?? '?',
      state: c.State,
      run: c.Labels[LABEL.run] ?? '?',
      scenario: c.Labels[LABEL.scenario] ?? null,
      image: c.Image,
      interfaces: [],
    };
    if (c.State === 'running' || c.State === 'paused') {
      try {
        const pid = (await docker.getContainer(c.Id).inspect()).State.Pid;
        const ifs = await listInterfaces(pid);
        for (const [n, i] of ifs) if (n !== 'lo' && i.kind === 'veth') cs.interfaces.push({ name: n, up: i.up, mac: i.mac });
        if (cs.role === 'host') {
          for (const i of cs.interfaces) if (i.name.startsWith('vnic-')) status.vmHosts[i.name] = name;
        }
      } catch {
        // stopped meanwhile
      }
    }
    status.containers.push(cs);
  }
  status.networks = (await docker.listNetworks({ filters: { label: [`${LABEL.migsim}=1`] } })).map((n) => ({ name: n.Name, internal: n.Internal }));
  status.images = (await docker.listImages({ filters: { label: [`${LABEL.migsim}=1`] } })).flatMap((i) =>
    (i.RepoTags ?? []).map((t) => ({ tag: t, sizeBytes: i.Size })),
  );
  return status;
}
