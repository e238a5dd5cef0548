// What the testbed benchmarks share: the Docker client, a log, the statistics and the
// plumbing to reach a container of the testbed and run one of our scripts in it.

import Docker from 'dockerode';
import type { Scenario } from '../../model/scenario/types.js';
import { loadCompose, serviceOf } from '../../testbed/compose.js';
import { CONTAINER_NODE, CONTAINER_REPO } from '../../testbed/container-process.js';
import { TestbedNetwork } from '../../testbed/network.js';
import { LABEL, removeContainer, TestbedNode } from '../../testbed/node.js';
import { benchArgs } from '../report.js';

export const { quick } = benchArgs();

export const MiB = 1024 * 1024;
export const REDIS_PORT = 6379;
export const docker = new Docker();
export const log = (line: string) => process.stderr.write(`bench:testbed: ${line}\n`);
export const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

export const median = (xs: number[]): number => percentile(xs, 0.5);
/** Nearest-rank percentile (p in 0..1) of a non-empty list. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
export const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
export const int = (x: number) => Math.round(x).toLocaleString('en-US');

// ---- testbed plumbing ---------------------------------------------------------------------

/** A testbed container by role and name, for exec and inspect only (no topology object needed). */
export function container(role: 'host' | 'switch' | 'dhcp' | 'probe', name: string | null = null): TestbedNode {
  return new TestbedNode(serviceOf(loadCompose(), role), name, { docker, image: '', runId: '' });
}

/**
 * Removes the topology of `s` (kept by keepTopology, or ours after a failure). Only ours: if
 * another scenario's containers are up (someone else's testbed run), those are left alone.
 */
export async function removeOwnTopology(net: TestbedNetwork, s: Scenario): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } });
  const mine = all.filter((c) => c.Labels[LABEL.scenario] === s.name);
  if (mine.length === 0) return;
  if (mine.length === all.length) {
    await net.removeTopology();
  } else {
    log(`other topologies are up: removing only the ${mine.length} containers of ${s.name}`);
    await Promise.all(mine.map((c) => removeContainer(docker, c.Id)));
  }
}

/** Runs `node /migsim/dist/SCRIPT ARGS` in a container; its last stdout line as JSON. */
export async function nodeIn<T>(n: TestbedNode, script: string, argv: string[], timeoutMs: number, onStdout?: (s: string) => void): Promise<T> {
  const r = await n.exec([CONTAINER_NODE, `${CONTAINER_REPO}/dist/${script}`, ...argv], { timeoutMs, ...(onStdout ? { onStdout } : {}) });
  if (r.code !== 0) throw new Error(`${n.containerName}: ${script} ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${n.containerName}: ${script}: no JSON result: ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
}

// ---- 1. page transfer vs plain TCP --------------------------------------------------------
