// Bridge-free links, made with iproute2 from the host's namespace: veth pairs moved into
// containers' namespaces, tc forwarding between interfaces, and finding what a crash left.
// How pairs are made and frames passed: docs/testbed-wiring.md "Data plane: veth pairs, no
// Linux bridge".

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Prefix of every interface we create in the host namespace (a crash leftover is found by it). */
export const HOST_IF_PREFIX = 'migsimtb';
export const IFNAMSIZ_MAX = 15;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with no shell; never rejects on a non-zero exit (see `must`). */
export function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** A command inside a namespace's network namespace only (PIDs and mounts stay the host's). */
function inNs(pid: number | null, cmd: string, args: string[]): [string, string[]] {
  return pid === null ? [cmd, args] : ['nsenter', ['-t', String(pid), '-n', cmd, ...args]];
}

export const ipIn = (pid: number | null, args: string[]) => must(...inNs(pid, 'ip', args));
export const tcIn = (pid: number | null, args: string[]) => must(...inNs(pid, 'tc', args));
const tryIn = (pid: number | null, cmd: string, args: string[]) => run(...inNs(pid, cmd, args));

export function checkIfName(name: string): void {
  if (name.length === 0 || name.length > IFNAMSIZ_MAX || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw new Error(`${JSON.stringify(name)} is not a valid interface name (1-${IFNAMSIZ_MAX} chars, no /, : or spaces)`);
  }
}

/** `prefix + name` if it fits 15 chars, else shortened with a hash so names stay distinct. */
export function ifName(prefix: string, name: string): string {
  const whole = prefix + name;
  if (whole.length <= IFNAMSIZ_MAX) return whole;
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  const tag = h.toString(36).slice(0, 4).padStart(4, '0');
  return `${prefix}${name.slice(0, IFNAMSIZ_MAX - prefix.length - 5)}~${tag}`;
}

/** Interfaces in a namespace: name → {up, mac}. */
export async function listInterfaces(pid: number | null): Promise<Map<string, { up: boolean; mac: string; kind: string }>> {
  const out = await ipIn(pid, ['-o', '-d', 'link', 'show']);
  const m = new Map<string, { up: boolean; mac: string; kind: string }>();
  for (const line of out.split('\n')) {
    const r = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>.*?link\/\S+\s+([0-9a-f:]+)/.exec(line);
    if (!r) continue;
    const kind = /\\\s+(veth|bridge|vlan|macvlan|dummy|ifb|tun)\b/.exec(line)?.[1] ?? '';
    m.set(r[1]!, { up: r[2]!.split(',').includes('UP'), mac: r[3]!, kind });
  }
  return m;
}

/** Host-namespace interfaces we made and did not move (crash leftovers). */
export async function hostLeftovers(): Promise<string[]> {
  return [...(await listInterfaces(null)).keys()].filter((n) => n.startsWith(HOST_IF_PREFIX));
}

/** Deletes the leftovers (a veth's peer goes with it). Returns what it deleted. */
export async function removeHostLeftovers(): Promise<string[]> {
  const gone: string[] = [];
  for (const n of await hostLeftovers()) {
    const r = await run('ip', ['link', 'del', n]);
    // the peer of one deleted just before is gone too
    if (r.code === 0 || /Cannot find device/.test(r.stderr)) gone.push(n);
    else throw new Error(`ip link del ${n}: ${r.stderr.trim()}`);
  }
  return gone;
}

/**
 * IPv6 off in a namespace (`all` and `default`, so interfaces moved in later inherit it): the
 * testbed's data plane is IPv4 (DHCPv4, IGMP), and an IPv6 stack would send router
 * solicitations, MLD reports and DAD whenever a link comes up — including a VM's eth0 when
 * its peer moves to another host, which a real migrated guest never sees.
 */
export async function quietNamespace(pid: number): Promise<void> {
  await must(...inNs(pid, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
}

// ---- the catch-all classifier -------------------------------------------------------------

let catchAll: 'matchall' | 'u32' | null = null;

function classifierArgs(kind: 'matchall' | 'u32'): string[] {
  return kind === 'matchall' ? ['matchall'] : ['u32', 'match', 'u32', '0', '0'];
}

/** tc actions sending a frame out of each of `to`: mirrored copies, then the redirect. */
function mirredActions(to: string[]): string[] {
  return to.flatMap((dev, i) => ['action', 'mirred', 'egress', i < to.length - 1 ? 'mirror' : 'redirect', 'dev', dev]);
}

/**
 * The catch-all kind, for a process that did not make the forwarding it now changes (a
 * later `migsim` run against a topology already up): the kind on `dev`'s filter in `pid`'s
 * namespace, which `forward` put there.
 */
async function learnCatchAll(pid: number, dev: string): Promise<'matchall' | 'u32'> {
  if (catchAll !== null) return catchAll;
  const out = (await tryIn(pid, 'tc', ['filter', 'show', 'dev', dev, 'ingress'])).stdout;
  const kind = /\bmatchall\b/.test(out) ? 'matchall' : /\bu32\b/.test(out) ? 'u32' : null;
  if (kind === null) throw new Error(`no forwarding filter on ${dev} to tell the catch-all classifier by (is the topology up?)`);
  catchAll = kind;
  return kind;
}

/** Forget the classifier kind learned so far (tests: act as a process that made no forwarding). */
export function forgetCatchAll(): void {
  catchAll = null;
}

/**
 * Where frames arriving on `dev` are sent now, in action order (mirror targets, then the
 * redirect target); [] if there is no ingress forwarding. Only filters of the highest
 * priority count (the one a frame meets first).
 */
export async function forwardingOf(pid: number | null, dev: string): Promise<string[]> {
  const r = await tryIn(pid, 'tc', ['filter', 'show', 'dev', dev, 'ingress']);
  if (r.code !== 0) return [];
  const prefs = [...r.stdout.matchAll(/\bpref (\d+)/g)].map((m) => Number(m[1]));
  if (prefs.length === 0) return [];
  const first = Math.min(...prefs);
  const block = r.stdout.split(/(?=^filter )/m).filter((b) => new RegExp(`\\bpref ${first}\\b`).test(b)).join('\n');
  return [...block.matchAll(/Egress (?:Redirect|Mirror) to device (\S+)\)/g)].map((m) => m[1]!);
}

// ---- links --------------------------------------------------------------------------------

export interface VethEnd {
  /** the namespace it is in: a container's init pid, or null for the host's */
  pid: number | null;
  name: string;
}

export interface VethLink {
  id: number;
  a: VethEnd;
  b: VethEnd;
}

export class LinkManager {
  readonly links: VethLink[] = [];
  private seq = 0;

  /** `runId`: 4 lowercase hex/base-36 chars, part of every temporary host-side name. */
  constructor(readonly runId: string = randomBytes(2).toString('hex')) {
    if (!/^[0-9a-z]{4}$/.test(runId)) throw new Error(`run id ${JSON.stringify(runId)}: expected 4 chars of 0-9a-z`);
  }

  /** A fresh name for this run: migsimtb + run id + 2-char sequence + a|b = 15 chars. */
  private nextNames(): [string, string] {
    const n = this.seq++;
    if (n >= 36 * 36) throw new Error('more than 1296 links in one run');
    const s = n.toString(36).padStart(2, '0');
    return [`${HOST_IF_PREFIX}${this.runId}${s}a`, `${HOST_IF_PREFIX}${this.runId}${s}b`];
  }

  /** A veth pair in the host namespace; names are generated unless given (then they must carry the prefix). */
  async createVethPair(a?: string, b?: string): Promise<VethLink> {
    const [ga, gb] = this.nextNames();
    const na = a ?? ga;
    const nb = b ?? gb;
    for (const n of [na, nb]) {
      checkIfName(n);
      if (!n.startsWith(HOST_IF_PREFIX)) throw new Error(`${n}: host-side names must start with ${HOST_IF_PREFIX} (so a leftover is found)`);
    }
    await ipIn(null, ['link', 'add', na, 'type', 'veth', 'peer', 'name', nb]);
    const link: VethLink = { id: this.links.length, a: { pid: null, name: na }, b: { pid: null, name: nb } };
    this.links.push(link);
    return link;
  }

  private endAt(pid: number | null, name: string): VethEnd | null {
    for (const l of this.links) {
      for (const e of [l.a, l.b]) if (e.pid === pid && e.name === name) return e;
    }
    return null;
  }

  /**
   * Moves a host-namespace interface into `pid`'s namespace as `newName`, optionally sets its
   * MAC, and brings it up there.
   */
  async moveInto(ifname: string, pid: number, newName: string, opts: { mac?: string } = {}): Promise<void> {
    checkIfName(newName);
    await ipIn(null, ['link', 'set', ifname, 'netns', String(pid), 'name', newName]);
    const end = this.endAt(null, ifname);
    if (end) {
      end.pid = pid;
      end.name = newName;
    }
    if (opts.mac) await ipIn(pid, ['link', 'set', newName, 'address', opts.mac]);
    await ipIn(pid, ['link', 'set', newName, 'up']);
  }

  /**
   * Inside `pid`'s namespace, every frame arriving on `from` leaves by each of `to` (none:
   * the forwarding is removed). Replaces any earlier forwarding on `from` without a gap: the
   * new filter is added before the old one is deleted.
   */
  async forward(pid: number, from: string, to: string[]): Promise<boolean> {
    const now = await forwardingOf(pid, from);
    if (now.length === to.length && now.every((d, i) => d === to[i])) return false;
    if (to.length === 0) {
      await this.removeForward(pid, from);
      return true;
    }
    const qdiscs = await tcIn(pid, ['qdisc', 'show', 'dev', from, 'ingress']);
    if (!/\bingress ffff:/.test(qdiscs)) await tcIn(pid, ['qdisc', 'add', 'dev', from, 'ingress']);
    const old = await this.prefs(pid, from);
    let pref = 1;
    while (old.includes(pref)) pref++;
    const actions = mirredActions(to);
    const add = (kind: 'matchall' | 'u32') =>
      tryIn(pid, 'tc', ['filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'pref', String(pref), ...classifierArgs(kind), ...actions]);
    if (catchAll === null) {
      const r = await add('matchall');
      if (r.code === 0) catchAll = 'matchall';
      else if (/classifier not found|Unknown filter/i.test(r.stderr)) catchAll = 'u32';
      else throw new Error(`tc filter add dev ${from} (matchall): ${r.stderr.trim()}`);
      if (catchAll === 'matchall') {
        await this.dropPrefs(pid, from, old);
        return true;
      }
    }
    const r = await add(catchAll);
    if (r.code !== 0) throw new Error(`tc filter add dev ${from} (${catchAll}) → ${to.join(', ')}: ${r.stderr.trim()}`);
    await this.dropPrefs(pid, from, old);
    return true;
  }

  private async removeForward(pid: number, dev: string): Promise<void> {
    const r = await tryIn(pid, 'tc', ['qdisc', 'del', 'dev', dev, 'ingress']);
    // none there (or no such device) is fine: nothing to remove
    if (r.code !== 0 && !/Invalid handle|Cannot find device|Cannot find specified qdisc|No such file|Cannot delete qdisc with handle of zero|does not exist/i.test(r.stderr)) {
      throw new Error(`tc qdisc del dev ${dev} ingress: ${r.stderr.trim()}`);
    }
  }

  private async prefs(pid: number, dev: string): Promise<number[]> {
    const out = await tcIn(pid, ['filter', 'show', 'dev', dev, 'ingress']);
    return [...new Set([...out.matchAll(/\bpref (\d+)/g)].map((m) => Number(m[1])))];
  }

  private async dropPrefs(pid: number, dev: string, prefs: number[]): Promise<void> {
    for (const p of prefs) await tcIn(pid, ['filter', 'del', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'pref', String(p)]);
  }

  /**
   * A VM's move (it runs inside the VM's downtime): one host shell, with every tc change of
   * a namespace in one `tc -batch` (per-filter `forward` calls would take a dozen tc/ip
   * processes). In order: `vnic` into `toPid`'s namespace; there, whatever forwarding came
   * along deleted, `vnic` up and forwarded to `uplink`, and `uplink`'s forwarding rebuilt
   * toward `vnicsThere` (the moved one included) — the VM can run from here; then, in the
   * old namespace, `uplink`'s forwarding rebuilt toward the vNICs that stay. Rebuilding a
   * filter leaves a gap of microseconds for the VMs that stay (`forward` has none).
   */
  async moveForwarded(fromPid: number, toPid: number, vnic: string, uplink: string, vnicsLeft: string[], vnicsThere: string[]): Promise<void> {
    for (const n of [vnic, uplink, ...vnicsLeft, ...vnicsThere]) checkIfName(n);
    const cls = classifierArgs(await learnCatchAll(fromPid, vnic)).join(' ');
    const fwd = (from: string, to: string[]) => [`qdisc add dev ${from} ingress`, `filter add dev ${from} parent ffff: protocol all pref 1 ${cls} ${mirredActions(to).join(' ')}`];
    const del = (...devs: string[]) => devs.map((d) => `qdisc del dev ${d} ingress`);
    /** tc commands in one process in `pid`'s namespace; `bestEffort`: deletions of what may not be there */
    const tc = (pid: number, lines: string[], bestEffort = false) =>
      `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} | nsenter -t ${pid} -n tc ${bestEffort ? '-force ' : ''}-batch -${bestEffort ? ' 2>/dev/null || true' : ''}`;
    const script = [
      'set -e',
      `nsenter -t ${fromPid} -n ip link set ${vnic} netns ${toPid}`,
      tc(toPid, del(vnic, uplink), true),
      `nsenter -t ${toPid} -n ip link set ${vnic} up`,
      tc(toPid, [...fwd(vnic, [uplink]), ...fwd(uplink, vnicsThere)]),
      tc(fromPid, del(uplink), true),
      ...(vnicsLeft.length > 0 ? [tc(fromPid, fwd(uplink, vnicsLeft))] : []),
    ].join('\n');
    const end = this.endAt(fromPid, vnic);
    try {
      await must('sh', ['-c', script]);
      if (end) end.pid = toPid;
    } catch (e) {
      // failed part way: the vNIC is wherever the kernel says
      if (end && (await tryIn(toPid, 'ip', ['link', 'show', vnic])).code === 0) end.pid = toPid;
      throw e;
    }
  }

  /** Deletes a link (from whichever end's namespace still exists); gone already is fine. */
  async deleteLink(link: VethLink): Promise<void> {
    for (const end of [link.a, link.b]) {
      const r = await tryIn(end.pid, 'ip', ['link', 'del', end.name]);
      if (r.code === 0) break;
    }
    const i = this.links.indexOf(link);
    if (i >= 0) this.links.splice(i, 1);
  }

  async deleteAll(): Promise<void> {
    for (const l of [...this.links]) await this.deleteLink(l);
  }
}
