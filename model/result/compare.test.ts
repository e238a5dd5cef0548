import { describe, expect, it } from 'vitest';
import { compareResults } from './compare.js';
import { failedMigration, type MigrationResult } from './format.js';

const mig = (over: Partial<MigrationResult>): MigrationResult => ({
  ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 1000),
  outcome: 'completed', error: null, memoryVerified: true, switchover: 'converged', totalTimeMs: 1000, downtimeMs: 100, bytesSent: 5000,
  ...over,
});
const row = (c: ReturnType<typeof compareResults>, metric: string) => c.rows.find((r) => r.metric === metric)!;

describe('compareResults', () => {
  it('gives the relative change of each number and flags it beyond the tolerance', () => {
    const c = compareResults([mig({})], [mig({ totalTimeMs: 1050, downtimeMs: 125, bytesSent: 5000 })], 0.1);
    // 1000 → 1050 is +5 %: within ±10 %; 100 → 125 is +25 %: beyond
    expect(row(c, 'totalTimeMs')).toMatchObject({ a: 1000, b: 1050, relative: 0.05, flagged: false });
    expect(row(c, 'downtimeMs')).toMatchObject({ a: 100, b: 125, relative: 0.25, flagged: true });
    expect(row(c, 'bytesSent')).toMatchObject({ relative: 0, flagged: false });
  });

  it('flags a changed outcome or verdict, a value measured in one only, and a change from 0', () => {
    const c = compareResults(
      [mig({ dhcpRebindMs: 0.15, sourceGuardDrops: 0 })],
      [mig({ outcome: 'reverted', memoryVerified: null, dhcpRebindMs: null, sourceGuardDrops: 3 })],
      0.1,
    );
    expect(row(c, 'outcome')).toMatchObject({ a: 'completed', b: 'reverted', relative: null, flagged: true });
    expect(row(c, 'memoryVerified')).toMatchObject({ flagged: true });
    expect(row(c, 'dhcpRebindMs')).toMatchObject({ a: 0.15, b: null, flagged: true });
    expect(row(c, 'sourceGuardDrops')).toMatchObject({ a: 0, b: 3, relative: null, flagged: true });
    // both unmeasured: nothing to flag
    expect(row(c, 'igmpRebindMs')).toMatchObject({ a: null, b: null, flagged: false });
  });

  it('matches migrations by place and lists the ones only one file has', () => {
    const c = compareResults([mig({}), mig({ vm: 'vm2' })], [mig({})], 0.1);
    expect(c.unmatched).toEqual([{ migration: 1, vm: 'vm2', in: 'A' }]);
    expect(new Set(c.rows.map((r) => r.migration))).toEqual(new Set([0]));
    expect(row(c, 'rounds')).toMatchObject({ a: 0, b: 0, flagged: false });
  });
});
