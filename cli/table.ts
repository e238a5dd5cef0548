// The human summary of results: one row per migration, several scenarios in one table.

import type { ExpectationResult, LowerBoundField, MigrationResult, RunResult } from '../model/result/format.js';
import { formatElapsed } from '../model/units.js';

/** A duration in ms, in the largest sensible unit; — for null (not measured, or did not happen). */
export function fmtMs(v: number | null): string {
  return v === null ? '—' : formatElapsed(v * 1e6);
}

/** A network figure: `≥` before one that is only a lower bound (its interval was open when the run ended). */
function measure(m: MigrationResult, field: LowerBoundField, text: string): string {
  return text !== '—' && (m.lowerBounds ?? []).includes(field) ? `≥ ${text}` : text;
}

/** The outcome, and `(forced)` when the live rounds ran out (maxRounds; post-copy: postcopyAfterRounds) before the rest fitted the downtime limit. */
export function outcomeText(m: MigrationResult): string {
  if (m.vmLost) return `${m.outcome} (VM lost)`;
  return m.switchover === 'forced' ? `${m.outcome} (forced)` : m.outcome;
}

function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(2)} ${units[i]}`;
}

function verified(v: boolean | null): string {
  return v === null ? 'n/a' : v ? 'yes' : 'NO';
}

/** Render rows as an aligned text table; numbers right-aligned. */
export function renderTable(header: string[], rows: string[][], rightAlign: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function summaryTable(results: RunResult[]): string {
  const header = ['scenario', 'vm', 'route', 'mode', 'outcome', 'rounds', 'total', 'downtime', 'data moved', 'verified'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const m of r.migrations) {
      const mode = m.mode + (m.throttlePct > 0 ? ` (throttle ${m.throttlePct}%)` : '');
      rows.push([
        r.scenario + (r.fidelity === 'fluid' ? ' (fluid)' : ''),
        m.vm,
        `${m.from}→${m.to}`,
        mode,
        outcomeText(m),
        String(m.rounds.length),
        fmtMs(m.totalTimeMs),
        fmtMs(m.downtimeMs),
        fmtBytes(m.bytesSent),
        verified(m.memoryVerified),
      ]);
    }
  }
  const table = renderTable(header, rows, new Set([5, 6, 7, 8]));
  const withNetwork = results.filter((r) => r.network !== null);
  return withNetwork.length > 0 ? `${table}\n\n${rebindTable(withNetwork)}` : table;
}

/** The network side, one row per migration: how long the VM's traffic suffered after the move. */
export function rebindTable(results: RunResult[]): string {
  const header = ['scenario', 'vm', 'vdp', 'dhcpRebind', 'igmpRebind', 'downtime', 'dhcp rebind', 'igmp rebind', 'sg drops', 'mcast gap', 'mcast lost', 'service gap'];
  const rows: string[][] = [];
  for (const r of results) {
    const sw = r.network!.switch;
    for (const m of r.migrations) {
      rows.push([
        r.scenario, m.vm, sw.vdp, sw.dhcpRebind, sw.igmpRebind,
        fmtMs(m.downtimeMs), fmtMs(m.dhcpRebindMs), fmtMs(m.igmpRebindMs),
        measure(m, 'sourceGuardDrops', m.sourceGuardDrops === null ? '—' : String(m.sourceGuardDrops)),
        measure(m, 'multicastGapMs', fmtMs(m.multicastGapMs)),
        measure(m, 'multicastLost', m.multicastLost === null ? '—' : String(m.multicastLost)),
        measure(m, 'serviceInterruptionMs', fmtMs(m.serviceInterruptionMs)),
      ]);
    }
  }
  return renderTable(header, rows, new Set([5, 6, 7, 8, 9, 10, 11]));
}

/** Notes under the table: faults, errors, what was not measured and why, post-copy faults — what a row cannot hold. */
export function notes(results: RunResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const f of r.faults ?? []) {
      const at = f.atMs === null ? 'at an unknown time' : `at ${fmtMs(f.atMs)}`;
      out.push(`${r.scenario}: ${f.scheduled ? 'fault' : 'failure'} ${at}, ${f.kind}${f.target ? ` ${f.target}` : ''}: ${f.effect}`);
    }
    for (const m of r.migrations) {
      if (m.error) out.push(`${r.scenario}/${m.vm}: ${m.error}`);
      for (const [field, why] of Object.entries(m.unmeasured ?? {})) out.push(`${r.scenario}/${m.vm}: ${field} not measured: ${why}`);
      if (m.postcopy) {
        const outage = m.postcopy.outageWaitMs > 0 ? ` (${fmtMs(m.postcopy.outageWaitMs)} of it on a cut link)` : '';
        const recovered = m.postcopy.recoveries > 0 ? `; the stream broke and was recovered ${m.postcopy.recoveries}×` : '';
        out.push(`${r.scenario}/${m.vm}: post-copy ${m.postcopy.faults} faults, ${fmtMs(m.postcopy.faultLatencyMs)} of guest time waiting on them${outage}${recovered}`);
      }
    }
    if (r.network?.countersUnmeasured) out.push(`${r.scenario}: switch counters incomplete: ${r.network.countersUnmeasured}`);
  }
  return out;
}

export function expectationLines(scenario: string, results: ExpectationResult[]): string[] {
  return results.map((e) => {
    const measured = e.measured === null ? 'not measured' : String(e.measured);
    return `${e.ok ? 'ok  ' : 'FAIL'} ${scenario}: ${e.key} = ${measured} (expected ${e.bound})`;
  });
}
