// Human-readable views for `migsim validate --explain`: the defaults table with the limits
// table (limits.ts), and a loaded scenario with every value resolved and shown with its unit.

import { formatBandwidth, formatBytes, formatDuration, formatPercent, formatRate } from '../units.js';
import { type DefaultValue, FIELDS, REQUIRED } from './defaults.js';
import { formatLimit, type Limit, LIMITS } from './limits.js';
import type { Expectation, FaultSpec, LinkSpec, MigrationSpec, Scenario, VmSpec, WorkloadSpec } from './types.js';

/** A default as it would be written in YAML (flow style for lists and mappings). */
function yamlish(v: DefaultValue | typeof REQUIRED): string {
  if (v === REQUIRED) return '(required)';
  if (v === null) return 'none';
  if (v === '') return "''";
  if (Array.isArray(v)) return `[${v.map((x) => yamlish(x as DefaultValue)).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v).map(([k, x]) => `${k}: ${yamlish(x as DefaultValue)}`);
    return entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}';
  }
  return String(v);
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** Every scenario field, its default and what it means; then every limit. */
export function explainDefaults(): string {
  const rows: string[][] = [['field', 'default', 'meaning']];
  for (const [field, { value, doc }] of Object.entries(FIELDS)) rows.push([field, yamlish(value), doc]);
  return `${table(rows)}\n\n${explainLimits()}`;
}

/** The limits table: name, bound, what it applies to, why. */
export function explainLimits(): string {
  const rows: string[][] = [['limit', 'bound', 'applies to', 'why']];
  for (const [name, l] of Object.entries(LIMITS) as [string, Limit][]) {
    rows.push([name, `${l.bound === 'max' ? '≤' : '≥'} ${formatLimit(l)}`, l.applies, l.reason]);
  }
  return `${table(rows)}\nChecked before anything runs; a scenario beyond one is refused (exit 2) naming the field that drives it.\n`;
}

function link(l: LinkSpec): string {
  return `${formatBandwidth(l.bandwidthBps)}, latency ${formatDuration(l.latencyNs)}`;
}

function workload(w: WorkloadSpec): string {
  switch (w.kind) {
    case 'idle':
      return 'idle (no writes)';
    case 'uniform':
      return `uniform: ${formatRate(w.writeRate)} over all pages`;
    case 'hotset':
      return `hotset: ${formatRate(w.writeRate)} over the first ${formatBytes(w.hotsetBytes)}`;
    case 'zipf':
      return `zipf: ${formatRate(w.writeRate)}, skew ${w.skew}`;
    case 'sequential':
      return `sequential: a wrapping scan at ${formatRate(w.writeRate)}`;
    case 'trace':
      return `trace ${w.file}: ${w.trace.pages.length} writes over ${formatDuration(w.trace.spanNs)}${w.loop ? ', looping' : ''}`;
  }
}

function vm(v: VmSpec): string[] {
  const groups = v.multicast.length > 0 ? v.multicast.join(', ') : 'none';
  return [
    `  ${v.name} on ${v.host}: ${formatBytes(v.memoryBytes)} = ${v.pageCount} pages of ${formatBytes(v.pageSize)}, ${formatPercent(v.zeroPages)} zero`,
    `    mac ${v.mac}, vlan ${v.vlan}, vsiType ${v.vsiType.id} v${v.vsiType.version}, multicast ${groups}, announceOnResume ${v.announceOnResume}`,
    `    workload ${workload(v.workload)}`,
  ];
}

function migration(m: MigrationSpec, linkBps: number): string[] {
  const cap = m.bandwidthBps === null ? `the link's ${formatBandwidth(linkBps)}` : formatBandwidth(m.bandwidthBps);
  const ac = m.autoConverge ? `on (throttleInitial ${m.throttleInitialPct}%, throttleIncrement ${m.throttleIncrementPct}%)` : 'off';
  const after = m.mode === 'postcopy' ? `, postcopyAfterRounds ${m.postcopyAfterRounds}` : '';
  return [
    `  [${m.index}] at ${formatDuration(m.atNs)}: ${m.vm} ${m.from} -> ${m.to}, ${m.mode}`,
    `    downtimeLimit ${formatDuration(m.downtimeLimitNs)}, maxRounds ${m.maxRounds}, bandwidth ${cap}, deviceState ${formatBytes(m.deviceStateBytes)}, autoConverge ${ac}, timeout ${m.timeoutNs === null ? 'none' : formatDuration(m.timeoutNs)}${after}`,
  ];
}

function fault(f: FaultSpec): string {
  const head = `  [${f.index}] at ${formatDuration(f.atNs)}: ${f.kind}`;
  switch (f.kind) {
    case 'host-crash':
      return `${head} of ${f.host}`;
    case 'link-down':
      return `${head} of ${f.host}'s migration NIC for ${formatDuration(f.forNs)}`;
    case 'link-degrade':
      return `${head} of ${f.host}'s migration NIC for ${formatDuration(f.forNs)}: ${f.bandwidthBps === null ? 'rate unchanged' : formatBandwidth(f.bandwidthBps)}, ${formatPercent(f.loss)} loss`;
    case 'dhcp-down':
      return `${head} for ${formatDuration(f.forNs)}`;
    case 'switch-restart':
      return `${head}, down for ${formatDuration(f.downForNs)}`;
    case 'cancel':
      return `${head} of ${f.vm}'s migration`;
    case 'spoofed-associate':
      return `${head} from ${f.host} claiming ${f.vm}'s MAC under VSI type ${f.vsiType.id} v${f.vsiType.version}`;
  }
}

function expectation(e: Expectation): string {
  const which = e.migration === null ? 'every migration' : `migration ${e.migration}`;
  const parts: string[] = [];
  if (e.min !== undefined) parts.push(`>= ${e.min}`);
  if (e.max !== undefined) parts.push(`<= ${e.max}`);
  if (e.equals !== undefined) parts.push(`= ${String(e.equals)}`);
  if (e.network) return `  ${e.key}: switch counter ${e.field} ${parts.join(' and ')} (over the run)`;
  return `  ${e.key}: ${e.field} ${parts.join(' and ')} (${e.vm}, ${which})`;
}

/** The scenario as the engine will see it: every default filled in, every quantity with its unit. */
export function explainScenario(s: Scenario): string {
  const out: string[] = [];
  out.push(`scenario ${s.name} (${s.file})`);
  if (s.description) out.push(`  ${s.description}`);
  out.push(
    `  seed ${s.seed}, engine ${s.engine}, fidelity ${s.fidelity}, duration ${s.durationNs === null ? 'until the last migration settles' : formatDuration(s.durationNs)}`,
  );

  out.push('hosts');
  for (const h of s.hosts) {
    out.push(`  ${h.name}: memory ${h.memoryBytes === null ? 'unlimited (no capacity check)' : formatBytes(h.memoryBytes)}`);
  }

  out.push('network');
  out.push(`  migrationLink ${link(s.network.migrationLink)}`);
  out.push(`  accessLink    ${link(s.network.accessLink)}`);
  const ka = s.network.keepalive;
  out.push(`  keepalive     every ${formatDuration(ka.intervalNs)}, ${ka.count} unanswered: a peer is dead after ${formatDuration(ka.intervalNs * (ka.count + 1))}`);

  out.push(s.dhcp ? `dhcp ${s.dhcp.subnet}, leaseTime ${formatDuration(s.dhcp.leaseTimeNs)}` : 'dhcp none');
  if (s.multicastSources.length === 0) out.push('multicastSources none');
  else {
    out.push('multicastSources');
    for (const m of s.multicastSources) out.push(`  ${m.group}: ${formatRate(m.rate)} of ${formatBytes(m.sizeBytes)}`);
  }
  out.push(s.probe ? `probe ${formatRate(s.probe.rate)}` : 'probe none');
  if (s.switch) {
    const sw = s.switch;
    out.push(
      `switch vdp ${sw.vdp}, dhcpRebind ${sw.dhcpRebind}, igmpRebind ${sw.igmpRebind}, ipSourceGuard ${sw.ipSourceGuard ? 'on' : 'off'}, igmpQueryInterval ${formatDuration(sw.igmpQueryIntervalNs)}, bindingDatabase ${sw.bindingDatabase}, dhcpRebindFallback ${sw.dhcpRebindFallback}`,
    );
  } else {
    out.push('switch not given');
  }

  out.push('vms');
  for (const v of s.vms) out.push(...vm(v));

  if (s.migrations.length === 0) out.push('migrations none');
  else {
    out.push('migrations (in start order)');
    const ordered = [...s.migrations].sort((a, b) => a.atNs - b.atNs);
    for (const m of ordered) out.push(...migration(m, s.network.migrationLink.bandwidthBps));
  }

  if (s.faults.length > 0) {
    out.push('faults (in time order)');
    for (const f of s.faults) out.push(fault(f));
  }

  if (s.expect.length > 0) {
    out.push('expect');
    for (const e of s.expect) out.push(expectation(e));
  }
  return `${out.join('\n')}\n`;
}
