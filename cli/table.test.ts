// The terminal table: the switchover reason in the outcome, lower bounds with ≥, durations
// in the largest sensible unit. Results are built by hand; the expected cells written out.

import { describe, expect, it } from 'vitest';
import { fmtMs, notes, outcomeText, rebindTable, summaryTable } from './table.js';
import { failedMigration, type MigrationResult, type RunResult } from '../model/result/format.js';

const mig = (over: Partial<MigrationResult>): MigrationResult => ({
  ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 1000),
  outcome: 'completed', error: null, memoryVerified: true, switchover: 'converged',
  switchoverMs: 5000, resumeMs: 5010, endMs: 5010, totalTimeMs: 4010, downtimeMs: 10, bytesSent: 1024 ** 3,
  ...over,
});
const run = (migrations: MigrationResult[], network = false): RunResult => ({
  version: 1, scenario: 'sc', description: '', file: 'sc.yaml', engine: 'sim', fidelity: 'pages', seed: 1, migsim: '0',
  durationMs: 1, migrations, expectations: [],
  network: network
    ? { switch: { vdp: 'standard', dhcpRebind: 'none', igmpRebind: 'none', ipSourceGuard: true, igmpQueryIntervalMs: 60_000, rebindQueryMaxRespMs: 100, bindingDatabase: 'none', dhcpRebindFallback: 'none' }, counters: {}, events: [] }
    : null,
  faults: [],
  wallClock: { startedAt: '', elapsedMs: 0 },
});
/** The cells of the table's first data row (columns are separated by two spaces or more). */
const row = (table: string, i = 0): string[] => table.split('\n')[2 + i]!.trim().split(/\s{2,}/);

describe('the outcome says a forced switchover', () => {
  it('forced: "(forced)"; converged and immediate: the outcome alone', () => {
    expect(outcomeText(mig({ switchover: 'forced' }))).toBe('completed (forced)');
    expect(outcomeText(mig({ switchover: 'forced', outcome: 'reverted' }))).toBe('reverted (forced)');
    expect(outcomeText(mig({ switchover: 'converged' }))).toBe('completed');
    expect(outcomeText(mig({ switchover: 'immediate', mode: 'stopcopy' }))).toBe('completed');
    expect(outcomeText(mig({ switchover: null, outcome: 'failed' }))).toBe('failed');
    const cells = row(summaryTable([run([mig({ switchover: 'forced', rounds: [] })])]));
    expect(cells[4]).toBe('completed (forced)');
  });
});

describe('durations in the largest sensible unit', () => {
  it('ms, s, then m s, h m, d h', () => {
    expect(fmtMs(null)).toBe('—');
    expect(fmtMs(0.150798)).toBe('0.15 ms');
    expect(fmtMs(261.832608)).toBe('261.8 ms');
    expect(fmtMs(9406.463904)).toBe('9.41 s');
    expect(fmtMs(511387.650726)).toBe('8 m 31 s');
    expect(fmtMs(667041136.6)).toBe('7 d 17 h');
    expect(fmtMs(667041136.6 * 1000)).toBe('7720 d 9 h');
    const cells = row(summaryTable([run([mig({ totalTimeMs: 667041136.6, downtimeMs: 16470.991008 })])]));
    expect(cells.slice(6, 8)).toEqual(['7 d 17 h', '16.5 s']);
  });

  it('the notes use the same format', () => {
    const n = notes([run([mig({ mode: 'postcopy', postcopy: { faults: 3, faultLatencyMs: 90_000, pagesPushed: 1, outageWaitMs: 0, recoveries: 0 } })])]);
    expect(n).toEqual(['sc/vm1: post-copy 3 faults, 1 m 30 s of guest time waiting on them']);
  });
});

describe('lower bounds print with ≥', () => {
  it('only the fields named in lowerBounds; null stays —', () => {
    const m = mig({
      dhcpRebindMs: null, igmpRebindMs: null, sourceGuardDrops: 1977, multicastGapMs: 19789.957974, multicastLost: 1973, serviceInterruptionMs: 19730,
      lowerBounds: ['sourceGuardDrops', 'multicastGapMs', 'multicastLost', 'serviceInterruptionMs'],
    });
    expect(row(rebindTable([run([m], true)])).slice(5)).toEqual(['10.0 ms', '—', '—', '≥ 1977', '≥ 19.8 s', '≥ 1973', '≥ 19.7 s']);
    const closed = { ...m, lowerBounds: [] };
    expect(row(rebindTable([run([closed], true)])).slice(8)).toEqual(['1977', '19.8 s', '1973', '19.7 s']);
  });
});
