// `expect:` bounds against a value that is only a lower bound (docs/result-format.md "lowerBounds").

import { describe, expect, it } from 'vitest';
import { evaluateExpectations } from './expect.js';
import { failedMigration, type MigrationResult } from './format.js';
import type { Expectation } from '../scenario/types.js';
import { migration } from '../scenario/fixture.js';

const result = (over: Partial<MigrationResult>): MigrationResult => ({ ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 1000), ...over });
const bound = (b: Partial<Expectation>): Expectation =>
  ({ key: 'vm1.serviceInterruptionMs', vm: 'vm1', migration: null, field: 'serviceInterruptionMs', ...b }) as Expectation;

describe('a bound on a lower bound', () => {
  const open = result({ serviceInterruptionMs: 5790, lowerBounds: ['serviceInterruptionMs'] });
  const closed = result({ serviceInterruptionMs: 5790, lowerBounds: [] });
  const check = (r: MigrationResult, b: Partial<Expectation>) => evaluateExpectations([bound(b)], [migration()], [r])[0]!;

  it('a min holds on it: the true value is at least the lower bound', () => {
    expect(check(open, { min: 1000 })).toMatchObject({ ok: true, measured: 5790, bound: '≥ 1000' });
    expect(check(open, { min: 6000 }).ok).toBe(false);
  });

  it('a max or equals cannot be shown to hold: not met, and the line says why', () => {
    const r = check(open, { max: 10_000 });
    expect(r.ok).toBe(false);
    expect(r.bound).toBe('≤ 10000 (measured is only a lower bound: the run ended first)');
    expect(check(open, { equals: 5790 }).ok).toBe(false);
  });

  it('the same value measured (the interval closed) is judged as before', () => {
    expect(check(closed, { max: 10_000 })).toMatchObject({ ok: true, bound: '≤ 10000' });
  });
});
