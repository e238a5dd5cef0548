// What a scenario may ask of one run: LIMITS is the one table of named bounds (each with
// its value and why), and estimateRun/checkBudgets turn a loaded scenario into an ESTIMATE
// of the run's memory and work, refused before anything runs when it is beyond the machine
// (measured on the sim engine, 2 cores; docs/scenario-format.md "Limits"). The hard bounds
// on single fields are applied by the schema (schema.ts) and the loader (load.ts, trace.ts).

import { pageWireBytes, wireBytes } from '../page-cost.js';
import { formatBandwidth, formatBytes, formatDuration, formatRate } from '../units.js';
import type { PathSegment } from './errors.js';
import type { MigrationSpec, Scenario, VmSpec } from './types.js';

export type LimitKind = 'bytes' | 'count' | 'rate' | 'bps' | 'ns';

export interface Limit {
  /** the bound, in the base unit of `kind` (bytes, events/s, bit/s, ns, a count) */
  readonly value: number;
  readonly kind: LimitKind;
  /** `max` (at most) or `min` (at least) */
  readonly bound: 'max' | 'min';
  /** what it applies to */
  readonly applies: string;
  /** one line: why this value */
  readonly reason: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const S = 1e9;
const DAY = 86400 * S;

/** Every limit, by name. Budgets (the `…Budget` entries) bound the estimate, not one field. */
export const LIMITS = {
  nameLength: { value: 100, kind: 'count', bound: 'max', applies: 'name (characters)', reason: 'it names the results directory results/<name>/; file names are at most 255 bytes' },
  scenarioFileBytes: { value: 512 * KiB, kind: 'bytes', bound: 'max', applies: 'the scenario file', reason: 'the YAML parser takes ~2 s and ~200 MB per MiB; 512 KiB holds ~15,000 migrations' },
  hosts: { value: 1000, kind: 'count', bound: 'max', applies: 'hosts', reason: 'each host is a switch port, two NIC resources and a VDP station' },
  vms: { value: 1000, kind: 'count', bound: 'max', applies: 'vms', reason: 'a DHCP subnet and the default MACs (02:00:00:00:HH:LL) are sized for hundreds' },
  migrations: { value: 10000, kind: 'count', bound: 'max', applies: 'migrations', reason: 'refused before the list is built: 10^6 migrations took the YAML parser past a 4 GB heap' },
  multicastSources: { value: 100, kind: 'count', bound: 'max', applies: 'multicastSources', reason: 'each takes an address from the DHCP subnet' },
  multicastGroupsPerVm: { value: 100, kind: 'count', bound: 'max', applies: 'vms[].multicast', reason: "one IGMPv3 report per group on every query; Linux's default igmp_max_memberships is 20" },
  faults: { value: 1000, kind: 'count', bound: 'max', applies: 'faults', reason: 'each is an event of the run and a line of its result' },
  keepaliveInterval: { value: 3600 * S, kind: 'ns', bound: 'max', applies: 'network.keepalive.interval', reason: "libvirt's default is 5 s; an hour notices nothing within a run" },
  expectKeys: { value: 10000, kind: 'count', bound: 'max', applies: 'expect', reason: 'one line of `migsim check` output each' },
  vmMemory: { value: 16 * TiB, kind: 'bytes', bound: 'max', applies: 'vms[].memory', reason: 'above the largest VMs offered (12-24 TiB); at pages fidelity the tracked-state budget binds first' },
  totalMemory: { value: 64 * TiB, kind: 'bytes', bound: 'max', applies: 'the sum of vms[].memory', reason: 'beyond any one cluster of hosts a run simulates' },
  pageCount: { value: 2 ** 32 - 1, kind: 'count', bound: 'max', applies: 'vms[].memory / vms[].pageSize', reason: 'page numbers are 32-bit in trace files and the page stream' },
  writeRate: { value: 1e9, kind: 'rate', bound: 'max', applies: 'vms[].workload.writeRate', reason: '10^9 page writes/s is 4 TB/s of 4 KiB pages, beyond any memory bus' },
  probeRate: { value: 1e5, kind: 'rate', bound: 'max', applies: 'probe.rate', reason: 'an echo every 10 us per VM resolves any interruption the sim measures' },
  multicastRate: { value: 1e6, kind: 'rate', bound: 'max', applies: 'multicastSources[].rate', reason: 'a datagram per microsecond; the frame budget allows 1 s of it' },
  multicastSize: { value: 65507, kind: 'bytes', bound: 'max', applies: 'multicastSources[].size', reason: 'the largest UDP payload in one IPv4 datagram' },
  bandwidthMin: { value: 1e6, kind: 'bps', bound: 'min', applies: 'network.*.bandwidth, migrations[].bandwidth', reason: 'slower than any migration NIC; at 1 bit/s a 1 GiB guest takes 272 years of simulated time' },
  bandwidthMax: { value: 1e12, kind: 'bps', bound: 'max', applies: 'network.*.bandwidth, migrations[].bandwidth', reason: 'faster than any NIC (800 Gbit/s); a page still takes whole nanoseconds' },
  latency: { value: 10 * S, kind: 'ns', bound: 'max', applies: 'network.*.latency', reason: 'a one-way latency beyond any network' },
  duration: { value: DAY, kind: 'ns', bound: 'max', applies: 'duration, migrations[].at, and a run without duration (its estimated end)', reason: 'simulated time is integer ns in a double (exact to 104 days); no migration takes a day' },
  leaseTime: { value: 1 * S, kind: 'ns', bound: 'min', applies: 'dhcp.leaseTime', reason: 'DHCP carries lease times in whole seconds' },
  leaseRenewals: { value: 10000, kind: 'count', bound: 'max', applies: 'duration / (dhcp.leaseTime / 2), per VM', reason: 'renewals at T1 over the run; a 1 ms lease in a 1 h run is 7.2 million' },
  igmpQueryInterval: { value: 1 * S, kind: 'ns', bound: 'min', applies: 'switch.igmpQueryInterval', reason: 'IGMPv3 carries the query interval in whole seconds (QQIC)' },
  maxRounds: { value: 1000, kind: 'count', bound: 'max', applies: 'migrations[].maxRounds, migrations[].postcopyAfterRounds', reason: 'every round is a pass over the dirty bitmap; QEMU gives up long before' },
  deviceState: { value: 64 * GiB, kind: 'bytes', bound: 'max', applies: 'migrations[].deviceState', reason: 'device state is MBs (GBs with a GPU), never more than a guest' },
  traceFileBytes: { value: 128 * MiB, kind: 'bytes', bound: 'max', applies: 'a trace file', reason: 'read as a stream; more is seconds of parsing (a 466 MB trace needed 3.3 GB)' },
  traceLineBytes: { value: 1 * KiB, kind: 'bytes', bound: 'max', applies: 'a line of a trace file', reason: 'a `timeUs page` line is ~20 bytes; /dev/zero has no line end' },
  traceWrites: { value: 1e7, kind: 'count', bound: 'max', applies: 'lines of a trace file', reason: '12 bytes each in memory (time and page): 120 MB' },
  trackedStateBudget: { value: 640 * MiB, kind: 'bytes', bound: 'max', applies: 'estimate: pages tracked × 8.25 B + trace writes × 12 B', reason: 'a 256 GiB guest (553 MB tracked) ran in 4.9 s at 612 MB RSS' },
  pageWorkBudget: { value: 1.5e8, kind: 'count', bound: 'max', applies: 'estimate: page writes (zipf × 3) + pages sent, verified, scanned', reason: '~25 ns each measured (uniform writes 26 ns, zipf 80 ns): ~4 s' },
  frameBudget: { value: 1e6, kind: 'count', bound: 'max', applies: 'estimate: frames of the probe, multicast, DHCP, IGMP and VDP over the duration', reason: '~3.2 us each measured (10^6 echoes = 2·10^6 frames took 6.5 s)' },
  stepBudget: { value: 2e6, kind: 'count', bound: 'max', applies: 'estimate: live rounds + post-copy push chunks (one per ms of push)', reason: '<1 us each measured (880,000 chunks in 0.66 s)' },
} as const satisfies Readonly<Record<string, Limit>>;

export type LimitName = keyof typeof LIMITS;

/** A limit's value as a user would write it. */
export function formatLimit(l: Limit): string {
  switch (l.kind) {
    case 'bytes':
      return l.value % 1024 === 0 ? formatBytes(l.value) : `${l.value} B`;
    case 'rate':
      return formatRate(l.value);
    case 'bps':
      return formatBandwidth(l.value);
    case 'ns':
      return formatDuration(l.value);
    case 'count':
      if (l.value === 2 ** 32 - 1) return '2^32-1';
      return l.value >= 1e5 ? l.value.toExponential().replace('e+', 'e') : String(l.value);
  }
}

/** `at most 1e9/s (limit writeRate)` — the phrase a refusal's "expected" uses. */
export function limitPhrase(name: LimitName): string {
  const l: Limit = LIMITS[name];
  return `${l.bound === 'max' ? 'at most' : 'at least'} ${formatLimit(l)} (limit ${name})`;
}

// ---- the estimate -------------------------------------------------------------

/** Bytes per page held by PagesMemory (sim/migrating-memory.ts): the guest's page versions
 * (Uint32Array, 4 B), the destination copy (4 B), the dirty bitmap and, in post-copy, the
 * present bitmap (1 bit each). A VM that never migrates holds only the first. */
export const TRACKED_BYTES_PER_PAGE = 8.25;
const UNMIGRATED_BYTES_PER_PAGE = 4;
/** A trace write in memory: its time (Float64Array) and page (Uint32Array). */
export const TRACE_BYTES_PER_WRITE = 12;
/** Zipf's sampler costs about three uniform picks (measured 80 ns vs 26 ns). */
const ZIPF_WRITE_COST = 3;
/** Post-copy: a push chunk per ms of the link; PagesMemory advances the guest in 100 us slices. */
const POSTCOPY_CHUNK_NS = 1e6;
const POSTCOPY_SLICE_NS = 1e5;
/** VDP keep-alives and LLDP: about a frame a second per VM and per host (an over-estimate). */
const CONTROL_FRAMES_PER_S = 1;

/** One migration on its own link: a bound on its time and what it does. */
export interface MigrationEstimate {
  /** at least this long: every page that is not zero crosses the link once */
  minNs: number;
  /** an upper estimate (the VM alone on its NICs, dirty sets bounded by writes, hot set and memory) */
  ns: number;
  rounds: number;
  pagesSent: number;
  pushChunks: number;
  /** of `ns`: the post-copy phase (the guest runs on the destination, faulting), 0 without one */
  postcopyNs: number;
}

/** Bytes of the first full pass: zero pages go as markers. */
function fullPassBytes(vm: VmSpec): number {
  return wireBytes(vm.pageCount, vm.pageCount * vm.zeroPages, vm.pageSize);
}

/** Writes per second of a workload (a trace: its mean rate; a trace spanning no time: all at once). */
function writeRateOf(vm: VmSpec): number {
  const w = vm.workload;
  if (w.kind === 'idle') return 0;
  if (w.kind === 'trace') return w.trace.spanNs > 0 ? (w.trace.pages.length / w.trace.spanNs) * 1e9 : 0;
  return w.writeRate;
}

/** Most distinct pages a round can dirty. */
function dirtyCeiling(vm: VmSpec): number {
  const w = vm.workload;
  if (w.kind === 'hotset') return Math.max(1, Math.floor(w.hotsetBytes / vm.pageSize));
  if (w.kind === 'trace' && w.trace.spanNs <= 0) return Math.min(vm.pageCount, w.trace.pages.length);
  return vm.pageCount;
}

/** A lower bound on a migration's bandwidth-limited time, without the scenario around it. */
export function minMigrationNs(vm: VmSpec, m: MigrationSpec, linkBps: number): number {
  const bps = Math.min(linkBps, m.bandwidthBps ?? linkBps);
  return ((fullPassBytes(vm) * 8) / bps) * 1e9;
}

export function estimateMigration(vm: VmSpec, m: MigrationSpec, linkBps: number, latencyNs: number): MigrationEstimate {
  const liveBps = Math.min(linkBps, m.bandwidthBps ?? linkBps);
  const ns = (bytes: number, bps: number) => ((bytes * 8) / bps) * 1e9;
  const wire = pageWireBytes(vm.pageSize);
  const rate = writeRateOf(vm);
  const ceiling = dirtyCeiling(vm);
  const device = ns(m.deviceStateBytes, linkBps) + latencyNs;
  const full = fullPassBytes(vm);
  const minNs = ns(full, liveBps);
  if (m.mode === 'stopcopy') {
    return { minNs, ns: ns(full, linkBps) + device, rounds: 0, pagesSent: vm.pageCount, pushChunks: 0, postcopyNs: 0 };
  }
  if (m.mode === 'postcopy' && m.postcopyAfterRounds === 0) {
    const push = ns(full, liveBps);
    const total = device + push + latencyNs;
    return { minNs, ns: total, rounds: 0, pagesSent: vm.pageCount, pushChunks: Math.ceil(push / POSTCOPY_CHUNK_NS), postcopyNs: total };
  }
  // pre-copy, and post-copy's live rounds before its switch
  const maxRounds = m.mode === 'postcopy' ? m.postcopyAfterRounds : m.maxRounds;
  let round = ns(full, liveBps);
  let total = round;
  let pagesSent = vm.pageCount;
  let rounds = 1;
  let dirty = Math.min(ceiling, (rate * round) / 1e9);
  let converged = false;
  while (rounds < maxRounds) {
    const pending = dirty * wire;
    if (ns(pending + m.deviceStateBytes, liveBps) <= m.downtimeLimitNs) {
      converged = true;
      break;
    }
    round = ns(pending, liveBps);
    total += round;
    pagesSent += dirty;
    rounds++;
    dirty = Math.min(ceiling, (rate * round) / 1e9);
  }
  if (m.mode === 'postcopy' && !converged && ns(dirty * wire + m.deviceStateBytes, liveBps) > m.downtimeLimitNs) {
    // the rest is pushed (and faulted) after the switch, as post-copy pushes every page
    const push = ns(dirty * wire, liveBps);
    const after = device + push + latencyNs;
    return { minNs, ns: total + after, rounds, pagesSent: pagesSent + dirty, pushChunks: Math.ceil(push / POSTCOPY_CHUNK_NS), postcopyNs: after };
  }
  return { minNs, ns: total + ns(dirty * wire, linkBps) + device, rounds, pagesSent: pagesSent + dirty, pushChunks: 0, postcopyNs: 0 };
}

/** One estimated quantity: its value and the field that drives it most. */
export interface Driven {
  value: number;
  path: PathSegment[];
  /** what drove it, for the message ("vm1's 256 GiB at pages fidelity") */
  why: string;
}

export interface RunEstimate {
  /** bytes held for pages (pages fidelity) and trace writes */
  trackedStateBytes: Driven;
  /** page writes, sends, verification and scans (pages fidelity) */
  pageWork: Driven;
  /** frames of the data network over the duration */
  frames: Driven;
  /** rounds and post-copy push chunks */
  steps: Driven;
  /** the simulated end of a run without `duration` (null with one) */
  runEndNs: Driven | null;
  /** each migration's estimate, by index */
  migrations: MigrationEstimate[];
}

class Tally {
  value = 0;
  private best = -1;
  path: PathSegment[] = [];
  why = '';
  add(amount: number, path: PathSegment[], why: string): void {
    if (!(amount > 0)) return;
    this.value += amount;
    if (amount > this.best) {
      this.best = amount;
      this.path = path;
      this.why = why;
    }
  }
  get driven(): Driven {
    return { value: this.value, path: this.path, why: this.why };
  }
}

const count = (n: number) => (n >= 1e5 ? n.toExponential(2).replace('e+', 'e') : String(Math.round(n)));

/** The run's memory and work, estimated from the scenario alone. */
export function estimateRun(s: Scenario): RunEstimate {
  const pages = s.fidelity === 'pages';
  const link = s.network.migrationLink;
  const vmIndex = new Map(s.vms.map((v, i) => [v.name, i]));
  const tracked = new Tally();
  const work = new Tally();
  const frames = new Tally();
  const steps = new Tally();
  const ends = new Tally();
  const migrations: MigrationEstimate[] = [];
  const guestEnd = new Map<string, number>();
  const migrated = new Set<string>();
  let runEnd = 0;
  let runEndMig = -1;

  for (const m of s.migrations) {
    const i = vmIndex.get(m.vm);
    const vm = i === undefined ? undefined : s.vms[i];
    if (!vm || i === undefined) {
      migrations.push({ minNs: 0, ns: 0, rounds: 0, pagesSent: 0, pushChunks: 0, postcopyNs: 0 });
      continue;
    }
    const e = estimateMigration(vm, m, link.bandwidthBps, link.latencyNs);
    migrations.push(e);
    migrated.add(vm.name);
    const end = m.atNs + e.ns;
    const until = s.durationNs === null ? end : Math.min(end, s.durationNs);
    guestEnd.set(vm.name, Math.max(guestEnd.get(vm.name) ?? 0, until));
    if (end > runEnd) {
      runEnd = end;
      runEndMig = m.index;
    }
    const share = s.durationNs === null || e.ns <= 0 ? 1 : Math.min(1, Math.max(0, (s.durationNs - m.atNs) / e.ns));
    steps.add(e.rounds + e.pushChunks * share, ['migrations', m.index], `migration ${m.index} (${vm.name}): ${count(e.rounds)} rounds, ${count(e.pushChunks * share)} post-copy chunks`);
    if (pages) {
      const slices = (e.postcopyNs * share) / POSTCOPY_SLICE_NS;
      const scans = vm.pageCount * (vm.zeroPages > 0 ? 2 : 1); // verification, and the zero-page scan
      work.add(e.pagesSent * share + scans + slices, ['vms', i, 'memory'], `migration ${m.index} sends ~${count(e.pagesSent * share)} of ${vm.name}'s ${count(vm.pageCount)} pages`);
    }
  }

  s.vms.forEach((vm, i) => {
    if (!pages) return;
    const perPage = migrated.has(vm.name) ? TRACKED_BYTES_PER_PAGE : UNMIGRATED_BYTES_PER_PAGE;
    tracked.add(vm.pageCount * perPage, ['vms', i, 'memory'], `${vm.name}'s ${formatBytes(vm.memoryBytes)} is ${count(vm.pageCount)} pages of ${formatBytes(vm.pageSize)}`);
    const w = vm.workload;
    if (w.kind === 'trace') {
      tracked.add(w.trace.pages.length * TRACE_BYTES_PER_WRITE, ['vms', i, 'workload', 'file'], `${vm.name}'s trace holds ${count(w.trace.pages.length)} writes`);
    }
    // the guest writes from time 0 until its last migration ends (a VM never migrated is never advanced)
    const guestNs = guestEnd.get(vm.name) ?? 0;
    if (w.kind === 'idle' || guestNs <= 0) return;
    if (w.kind === 'trace') {
      const n = w.trace.pages.length;
      const writes = w.loop && w.trace.spanNs > 0 ? n * Math.ceil(guestNs / w.trace.spanNs) : n;
      work.add(writes, ['vms', i, 'workload', w.loop ? 'loop' : 'file'], `${vm.name}'s trace replays ~${count(writes)} writes over ${formatDuration(guestNs)}`);
      return;
    }
    const writes = (w.writeRate * guestNs) / 1e9;
    work.add(writes * (w.kind === 'zipf' ? ZIPF_WRITE_COST : 1), ['vms', i, 'workload', 'writeRate'], `${vm.name} writes ${formatRate(w.writeRate)} for ~${formatDuration(Math.round(guestNs))} of guest time: ~${count(writes)} writes${w.kind === 'zipf' ? ' (zipf counts 3 each)' : ''}`);
  });

  const d = s.durationNs;
  if (d !== null && d > 0) {
    const sec = d / 1e9;
    const V = s.vms.length;
    if (s.probe) frames.add(s.probe.rate * V * sec * 2, ['probe', 'rate'], `probe ${formatRate(s.probe.rate)} × ${V} VMs × ${formatDuration(d)}, request and reply`);
    s.multicastSources.forEach((src, k) => {
      const members = s.vms.filter((v) => v.multicast.includes(src.group)).length;
      frames.add(src.rate * sec * (1 + members), ['multicastSources', k, 'rate'], `multicast ${src.group} ${formatRate(src.rate)} × (1 + ${members} members) × ${formatDuration(d)}`);
    });
    if (s.dhcp) {
      const renewals = d / (s.dhcp.leaseTimeNs / 2);
      frames.add(V * (4 + renewals * 2), ['dhcp', 'leaseTime'], `${V} VMs renew every ${formatDuration(s.dhcp.leaseTimeNs / 2)} (T1) for ${formatDuration(d)}`);
    }
    if (s.switch || s.dhcp || s.probe || s.multicastSources.length > 0 || s.vms.some((v) => v.multicast.length > 0)) {
      const interval = s.switch?.igmpQueryIntervalNs ?? 125 * S;
      const reports = s.vms.reduce((n, v) => n + v.multicast.length, 0);
      frames.add((d / interval) * (s.hosts.length + V + reports), s.switch ? ['switch', 'igmpQueryInterval'] : ['duration'], `a general query every ${formatDuration(interval)} to ${s.hosts.length + V} ports, ${reports} reports each, for ${formatDuration(d)}`);
      frames.add(sec * CONTROL_FRAMES_PER_S * (s.hosts.length + V), ['duration'], `VDP and LLDP keep-alives over ${formatDuration(d)}`);
    }
  }
  if (runEndMig >= 0) ends.add(runEnd, ['migrations', runEndMig], `migration ${runEndMig} would end at ~${formatDuration(Math.round(runEnd))}`);

  return {
    trackedStateBytes: tracked.driven,
    pageWork: work.driven,
    frames: frames.driven,
    steps: steps.driven,
    runEndNs: d === null ? ends.driven : null,
    migrations,
  };
}

/** Where the estimate-based checks report (the loader's Problems). */
export interface BudgetProblems {
  add(path: readonly PathSegment[], expected: string, opts?: { problem?: string }): void;
}

/** The hint for an estimate beyond a budget, by the field that drives it. */
function hint(s: Scenario, path: readonly PathSegment[], kind: 'tracked' | 'work' | 'frames' | 'steps' | 'end'): string {
  const last = path[path.length - 1];
  const fluid = s.fidelity === 'pages' && (kind === 'tracked' || kind === 'work') ? '`fidelity: fluid` (no per-page state)' : null;
  const shorter = s.durationNs !== null ? 'a shorter `duration`' : null;
  const byField: Record<string, string> = {
    writeRate: 'a lower `writeRate`',
    memory: 'less `memory` or a larger `pageSize`',
    file: 'a shorter trace',
    loop: '`loop: false` or a shorter `duration`',
    rate: 'a lower `rate`',
    leaseTime: 'a longer `dhcp.leaseTime`',
    igmpQueryInterval: 'a longer `switch.igmpQueryInterval`',
  };
  const parts = [fluid, typeof last === 'string' ? byField[last] : null, kind === 'end' ? 'a faster `bandwidth` or a `duration`' : kind === 'frames' || kind === 'work' ? shorter : null, path[0] === 'migrations' && kind === 'steps' ? 'a faster `bandwidth` or fewer `maxRounds`' : null];
  return [...new Set(parts.filter((p): p is string => p !== null))].join(', or ');
}

/** Refuses a scenario whose estimate is beyond a budget, naming the estimate, the field that drives it and a hint. */
export function checkBudgets(s: Scenario, problems: BudgetProblems): RunEstimate {
  const e = estimateRun(s);
  const named = new Set<string>();
  let anyOver = false;
  const over = (name: LimitName, d: Driven, what: string, shown: string, kind: Parameters<typeof hint>[2]) => {
    const limit: Limit = LIMITS[name];
    if (!(d.value > limit.value)) return;
    anyOver = true;
    // one refusal per field: the first budget it breaks says enough
    const key = JSON.stringify(d.path);
    if (named.has(key)) return;
    named.add(key);
    const h = hint(s, d.path, kind);
    problems.add(d.path, `${what} ${limitPhrase(name)}${h ? `; try ${h}` : ''}`, {
      problem: `this run is estimated at ${shown} (${d.why})`,
    });
  };
  over('trackedStateBudget', e.trackedStateBytes, 'tracked state', `${formatBytes(Math.round(e.trackedStateBytes.value))} of tracked state`, 'tracked');
  over('pageWorkBudget', e.pageWork, 'page operations', `${count(e.pageWork.value)} page operations`, 'work');
  over('frameBudget', e.frames, 'frames', `${count(e.frames.value)} frames`, 'frames');
  over('stepBudget', e.steps, 'rounds and post-copy chunks', `${count(e.steps.value)} rounds and post-copy chunks`, 'steps');
  if (e.runEndNs) over('duration', e.runEndNs, 'a run that ends', `a simulated end at ${formatDuration(Math.round(e.runEndNs.value))}`, 'end');
  // the three work budgets are shares of one run's time: together at most one budget's worth
  const shares = [
    { d: e.pageWork, share: e.pageWork.value / LIMITS.pageWorkBudget.value, kind: 'work' as const },
    { d: e.frames, share: e.frames.value / LIMITS.frameBudget.value, kind: 'frames' as const },
    { d: e.steps, share: e.steps.value / LIMITS.stepBudget.value, kind: 'steps' as const },
  ];
  const sum = shares.reduce((t, x) => t + x.share, 0);
  if (sum > 1 && !anyOver) {
    const top = shares.reduce((a, b) => (b.share > a.share ? b : a));
    const h = hint(s, top.d.path, top.kind);
    problems.add(top.d.path, `work within one budget: page operations / ${formatLimit(LIMITS.pageWorkBudget)} + frames / ${formatLimit(LIMITS.frameBudget)} + steps / ${formatLimit(LIMITS.stepBudget)} at most 1${h ? `; try ${h}` : ''}`, {
      problem: `this run is estimated at ${shares.map((x) => `${Math.round(x.share * 100)}%`).join(' + ')} = ${Math.round(sum * 100)}% of the work budgets (most: ${top.d.why})`,
    });
  }
  return e;
}
