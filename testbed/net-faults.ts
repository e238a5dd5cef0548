// The network side of the testbed's scenario faults, with iproute2, tc and iptables from the
// host's namespace (nsenter): cut an interface's traffic one way (an HTB root whose catch-all
// filter redirects every frame to a device that is down, which drops it — this kernel has no
// netem and no gact `drop`), a link down and up, a NIC slowed (TBF both ways, the incoming
// side through an IFB) and lossy (iptables `statistic` drops). Each has its undo. Used by
// run-faults.ts; docs/testbed-wiring.md "Scenario faults".

import { ipIn, run, tcIn } from './link.js';

/** A device that is down, in a container's namespace: frames redirected to it are dropped. */
export const BLACKHOLE_IF = 'migsim-bh';
/** The IFB that shapes what a degraded NIC takes in. */
export const SHAPER_IF = 'migsim-ifb';
/** The iptables comment on the loss rules, to find them again. */
const LOSS_TAG = 'migsim-loss';

const inNs = (pid: number, cmd: string, args: string[]) => run('nsenter', ['-t', String(pid), '-n', cmd, ...args]);

async function tolerant(pid: number, cmd: string, args: string[], ok: RegExp): Promise<void> {
  const r = await inNs(pid, cmd, args);
  if (r.code !== 0 && !ok.test(r.stderr)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
}

const GONE = /Cannot find device|No such file|Cannot delete qdisc with handle of zero|Invalid handle|does not exist|No such device/i;

/** A catch-all tc filter: matchall, or u32 where the kernel lacks it. */
async function catchAllFilter(pid: number, dev: string, parent: string, actions: string[]): Promise<void> {
  const base = ['filter', 'add', 'dev', dev, 'parent', parent, 'protocol', 'all', 'pref', '1'];
  const r = await inNs(pid, 'tc', [...base, 'matchall', ...actions]);
  if (r.code === 0) return;
  if (!/classifier not found|Unknown filter/i.test(r.stderr)) throw new Error(`tc filter add dev ${dev} (matchall): ${r.stderr.trim()}`);
  await tcIn(pid, [...base, 'u32', 'match', 'u32', '0', '0', ...actions]);
}

async function ensureIfb(pid: number, name: string, up: boolean): Promise<void> {
  await tolerant(pid, 'ip', ['link', 'add', name, 'type', 'ifb'], /File exists/);
  await ipIn(pid, ['link', 'set', name, up ? 'up' : 'down']);
}

/** Nothing leaves `dev` any more (its egress: what the namespace sends, and what tc redirects to it). */
export async function cutEgress(pid: number, dev: string): Promise<void> {
  await ensureIfb(pid, BLACKHOLE_IF, false);
  await tcIn(pid, ['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb']);
  await catchAllFilter(pid, dev, '1:', ['action', 'mirred', 'egress', 'redirect', 'dev', BLACKHOLE_IF]);
}

/** `dev` sends again (its root qdisc back to the default). A device gone with its container is fine. */
export async function restoreEgress(pid: number, dev: string): Promise<void> {
  await tolerant(pid, 'tc', ['qdisc', 'del', 'dev', dev, 'root'], GONE);
}

/** Nothing that arrives on `dev` gets further (for a device with no ingress forwarding of its own). */
export async function cutIngress(pid: number, dev: string): Promise<void> {
  await ensureIfb(pid, BLACKHOLE_IF, false);
  await tolerant(pid, 'tc', ['qdisc', 'add', 'dev', dev, 'ingress'], /File exists|Exclusivity flag on/i);
  await catchAllFilter(pid, dev, 'ffff:', ['action', 'mirred', 'egress', 'redirect', 'dev', BLACKHOLE_IF]);
}

export async function restoreIngress(pid: number, dev: string): Promise<void> {
  await tolerant(pid, 'tc', ['qdisc', 'del', 'dev', dev, 'ingress'], GONE);
}

export async function setLink(pid: number, dev: string, up: boolean): Promise<void> {
  await ipIn(pid, ['link', 'set', dev, up ? 'up' : 'down']);
}

/** TBF parameters for `bps`: a bucket of 4 ms of the rate (at least 32 KiB), 50 ms of queue. */
export function tbfArgs(bps: number): string[] {
  const burst = Math.max(32 * 1024, Math.round((bps / 8) * 0.004));
  return ['tbf', 'rate', `${Math.round(bps)}bit`, 'burst', String(burst), 'latency', '50ms'];
}

/** `dev` runs at `bps` both ways: TBF on its egress, and its ingress redirected through an IFB with TBF. */
export async function shape(pid: number, dev: string, bps: number): Promise<void> {
  await tcIn(pid, ['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', ...tbfArgs(bps)]);
  await ensureIfb(pid, SHAPER_IF, true);
  await tcIn(pid, ['qdisc', 'replace', 'dev', SHAPER_IF, 'root', 'handle', '1:', ...tbfArgs(bps)]);
  await tolerant(pid, 'tc', ['qdisc', 'add', 'dev', dev, 'ingress'], /File exists|Exclusivity flag on/i);
  await catchAllFilter(pid, dev, 'ffff:', ['action', 'mirred', 'egress', 'redirect', 'dev', SHAPER_IF]);
}

export async function unshape(pid: number, dev: string): Promise<void> {
  await restoreIngress(pid, dev);
  await restoreEgress(pid, dev);
  await tolerant(pid, 'ip', ['link', 'del', SHAPER_IF], GONE);
}

/** iptables arguments of a loss rule: drop a share `loss` (0..1) of what matches `match`. */
export function lossRule(match: string[], loss: number): string[] {
  return ['INPUT', ...match, '-m', 'statistic', '--mode', 'random', '--probability', loss.toFixed(6), '-m', 'comment', '--comment', LOSS_TAG, '-j', 'DROP'];
}

/** Packets matching `match` that arrive in `pid`'s namespace are dropped with probability `loss`. */
export async function addLoss(pid: number, match: string[], loss: number): Promise<void> {
  const r = await inNs(pid, 'iptables', ['-w', '-I', ...lossRule(match, loss)]);
  if (r.code !== 0) throw new Error(`iptables -I ${lossRule(match, loss).join(' ')}: ${r.stderr.trim()}`);
}

/** Packets the loss rules in `pid`'s namespace have dropped so far. */
export async function lossDrops(pid: number): Promise<number> {
  const r = await inNs(pid, 'iptables', ['-w', '-L', 'INPUT', '-v', '-n', '-x']);
  if (r.code !== 0) return 0;
  return r.stdout.split('\n').filter((l) => l.includes(LOSS_TAG)).reduce((n, l) => n + (Number(l.trim().split(/\s+/)[0]) || 0), 0);
}

export async function removeLoss(pid: number, match: string[], loss: number): Promise<void> {
  await tolerant(pid, 'iptables', ['-w', '-D', ...lossRule(match, loss)], /No such file|does a matching rule exist|Bad rule|No chain/i);
}
