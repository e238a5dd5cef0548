// A migration's figures as a report prints them: each metric with its unit, `≥` before a lower
// bound, and a null as "not measured: <reason>" — the reason the result gives in `unmeasured`,
// else what null means for that field there (docs/result-format.md) — never as 0.

import { COMPARED_METRICS } from '../model/result/compare.js';
import { type MigrationResult, type RunResult, UNMEASURED_NETWORK } from '../model/result/format.js';
import { measuredValue } from '../model/result/expect.js';
import { formatBytes, formatElapsed } from '../model/units.js';

export type Unit = 'ms' | 'count' | 'bytes' | 'word' | 'verdict';

/** How a report shows each metric `migsim compare` compares. */
const SHOWN: Record<(typeof COMPARED_METRICS)[number], { label: string; unit: Unit }> = {
  outcome: { label: 'outcome', unit: 'word' },
  memoryVerified: { label: 'memory verified', unit: 'verdict' },
  switchover: { label: 'switchover', unit: 'word' },
  totalTimeMs: { label: 'total time', unit: 'ms' },
  downtimeMs: { label: 'downtime', unit: 'ms' },
  rounds: { label: 'live rounds', unit: 'count' },
  pagesSent: { label: 'pages sent', unit: 'count' },
  bytesSent: { label: 'data sent', unit: 'bytes' },
  dhcpRebindMs: { label: 'DHCP rebind (from resume)', unit: 'ms' },
  igmpRebindMs: { label: 'IGMP rebind (from resume)', unit: 'ms' },
  sourceGuardDrops: { label: 'source-guard drops', unit: 'count' },
  multicastGapMs: { label: 'multicast gap', unit: 'ms' },
  multicastLost: { label: 'multicast datagrams lost', unit: 'count' },
  serviceInterruptionMs: { label: 'service interruption (probe)', unit: 'ms' },
};

/** The metrics a migration's table shows: those `migsim compare` compares, in its order; key (as in `expect:`), label, unit. */
export const METRICS: readonly { key: string; label: string; unit: Unit }[] = COMPARED_METRICS.map((key) => ({ key, ...SHOWN[key] }));

/** The network fields: null for a run without a data network, or a move that never resumed. */
export const NETWORK_KEYS: ReadonlySet<string> = new Set(Object.keys(UNMEASURED_NETWORK).filter((k) => k !== 'networkTimes'));

/** What null means for a network field of a move that was measured (docs/result-format.md "Metrics"). */
const NETWORK_NULL: Record<string, string> = {
  dhcpRebindMs: "the switch did not bind the VM's address to its new port within the move's window",
  igmpRebindMs: 'the VM joined no multicast group, or a group was not joined on the new port within the window',
  sourceGuardDrops: 'no reason recorded in the result',
  multicastGapMs: 'the VM joined no multicast group, or received no datagram of one before the switchover',
  multicastLost: 'the VM joined no multicast group, or received no datagram of one before the switchover',
  serviceInterruptionMs: 'no probe, or no probe echo in the window',
};

const TIMES = new Set(['switchoverMs', 'resumeMs', 'endMs', 'totalTimeMs', 'downtimeMs', 'switchover']);

/** Why `key` of this migration is null. */
export function nullReason(r: RunResult, m: MigrationResult, key: string): string {
  const given = m.unmeasured?.[key];
  if (given) return given;
  const ended = m.outcome === 'reverted' ? `the migration was reverted${m.error ? ` (${m.error})` : ''}` : m.outcome === 'failed' ? `the migration failed${m.error ? ` (${m.error})` : ''}` : null;
  if (NETWORK_KEYS.has(key)) {
    if (r.network === null) return 'the run had no data network';
    if (m.switchoverMs === null || m.resumeMs === null || m.outcome === 'reverted') return ended ?? 'the VM never resumed on the destination';
    return NETWORK_NULL[key] ?? 'no reason recorded in the result';
  }
  if (key === 'memoryVerified') return r.fidelity === 'fluid' ? 'fluid fidelity keeps no pages to check' : ended ?? 'the transfer did not complete';
  if (key === 'switchover' && m.switchoverMs === null) return 'the VM never paused on the source';
  if (TIMES.has(key) && ended) return ended;
  return 'no reason recorded in the result';
}

/** A value as text, in its unit; null gives null (the caller says why). */
export function valueText(v: number | string | boolean | null, unit: Unit): string | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return unit === 'verdict' ? (v ? 'yes' : 'NO') : String(v);
  if (typeof v === 'string') return v;
  if (unit === 'ms') return formatElapsed(v * 1e6);
  if (unit === 'bytes') return formatBytes(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
}

/** One metric of a migration: its text, or the reason it is null; `lowerBound` when it is "at least". */
export function metricText(r: RunResult, m: MigrationResult, key: string, unit: Unit): { text: string; measured: boolean } {
  const v = measuredValue(m, key);
  const t = valueText(v, unit);
  if (t === null) return { text: `not measured: ${nullReason(r, m, key)}`, measured: false };
  const atLeast = (m.lowerBounds ?? []).includes(key as never);
  return { text: atLeast ? `≥ ${t} (the run ended first)` : t, measured: true };
}
