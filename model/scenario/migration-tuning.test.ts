// The migration fields for guestperf-like sweeps (issue 12): `throttleInitial`,
// `throttleIncrement` (auto-converge's tuning, QEMU's cpu-throttle-initial/-increment) and
// `postcopyAfterRounds` — their defaults, values, and each bad value or misplaced field refused
// in one line naming the field, at its line and column.

import { describe, expect, it } from 'vitest';
import { explainScenario } from './explain.js';
import { estimateRun } from './limits.js';
import { errorsOf } from './load-fixture.js';
import { parseScenario } from './load.js';

/** A one-migration scenario; `fields` goes into the migration's flow mapping, `top` before `migrations:`. */
function one(fields: string, top = ''): string {
  return `name: t
hosts: [h1, h2]
vms:
  - { name: vm1, host: h1, memory: 1GiB }
${top}migrations:
  - { vm: vm1, to: h2, at: 1s${fields} }
`;
}

/** The one error `text` gives, checked to sit on the migration's line at the column of `at`. */
function theError(text: string, at: string): string {
  const errs = errorsOf(text);
  expect(errs.map((e) => e.message), 'exactly one error').toHaveLength(1);
  const e = errs[0]!;
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(at)) + 1;
  expect(e.line).toBe(line);
  expect(e.column).toBe(lines[line - 1]!.indexOf(at) + 1);
  return e.message;
}

describe('defaults and values', () => {
  it('defaults to 20%, 10% and 0 rounds: what auto-converge and post-copy did before the fields existed', () => {
    const m = parseScenario(one(''), 'x.yaml').migrations[0]!;
    expect(m).toMatchObject({ autoConverge: false, throttleInitialPct: 20, throttleIncrementPct: 10, postcopyAfterRounds: 0 });
  });

  it('reads whole percentages and a round count', () => {
    const m = parseScenario(one(', mode: postcopy, postcopyAfterRounds: 5, autoConverge: true, throttleInitial: 30%, throttleIncrement: 25%'), 'x.yaml').migrations[0]!;
    expect(m).toMatchObject({ mode: 'postcopy', autoConverge: true, throttleInitialPct: 30, throttleIncrementPct: 25, postcopyAfterRounds: 5 });
    const edges = parseScenario(one(', autoConverge: true, throttleInitial: 1%, throttleIncrement: 99%'), 'x.yaml').migrations[0]!;
    expect(edges).toMatchObject({ throttleInitialPct: 1, throttleIncrementPct: 99 });
  });

  it('accepts postcopyAfterRounds: 0 written out with postcopy, and 1000 (the maxRounds limit)', () => {
    expect(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 0'), 'x.yaml').migrations[0]!.postcopyAfterRounds).toBe(0);
    expect(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 1000'), 'x.yaml').migrations[0]!.postcopyAfterRounds).toBe(1000);
  });

  it('`validate --explain` shows them', () => {
    const tuned = explainScenario(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 3, autoConverge: true, throttleInitial: 30%, throttleIncrement: 25%'), 'x.yaml'));
    expect(tuned).toContain('autoConverge on (throttleInitial 30%, throttleIncrement 25%), timeout none, postcopyAfterRounds 3');
    const plain = explainScenario(parseScenario(one(''), 'x.yaml'));
    expect(plain).toContain('autoConverge off, timeout none\n');
  });
});

describe('bad values, refused naming the field', () => {
  const PCT_INITIAL = "expected a whole percentage from 1% to 99%, such as 20% (QEMU's cpu-throttle-initial)";
  const PCT_INCREMENT = "expected a whole percentage from 1% to 99%, such as 20% (QEMU's cpu-throttle-increment)";
  const ROUNDS = 'expected a whole number of rounds from 0, at most 1000 (limit maxRounds)';
  it.each([
    ['throttleInitial 0%', ', autoConverge: true, throttleInitial: 0%', '0%', `migrations[0].throttleInitial: ${PCT_INITIAL}, got "0%"`],
    ['throttleInitial 100%', ', autoConverge: true, throttleInitial: 100%', '100%', `migrations[0].throttleInitial: ${PCT_INITIAL}, got "100%"`],
    ['a fractional throttleIncrement', ', autoConverge: true, throttleIncrement: 12.5%', '12.5%', `migrations[0].throttleIncrement: ${PCT_INCREMENT}, got "12.5%"`],
    ['throttleIncrement 150%', ', autoConverge: true, throttleIncrement: 150%', '150%', `migrations[0].throttleIncrement: ${PCT_INCREMENT}, got "150%"`],
    ['a bare number', ', autoConverge: true, throttleIncrement: 25', '25', 'migrations[0].throttleIncrement: expected a percentage such as 5% (a bare number has no unit), got 25'],
    ['a negative round count', ', mode: postcopy, postcopyAfterRounds: -1', '-1', `migrations[0].postcopyAfterRounds: ${ROUNDS}, got -1`],
    ['a fractional round count', ', mode: postcopy, postcopyAfterRounds: 2.5', '2.5', `migrations[0].postcopyAfterRounds: ${ROUNDS}, got 2.5`],
    ['a round count beyond the limit', ', mode: postcopy, postcopyAfterRounds: 1001', '1001', `migrations[0].postcopyAfterRounds: ${ROUNDS}, got 1001`],
    ['a round count as text', ', mode: postcopy, postcopyAfterRounds: five', 'five', `migrations[0].postcopyAfterRounds: ${ROUNDS}, got "five"`],
  ])('%s', (_, fields, at, message) => {
    const text = one(fields);
    expect(theError(text, at)).toBe(`x.yaml:6:${text.split('\n')[5]!.indexOf(at) + 1}: ${message}`);
  });
});

describe('a field where it would be ignored, refused (as libvirt refuses it)', () => {
  it.each([
    ['throttleInitial without autoConverge', ', throttleInitial: 30%', 'throttleInitial', 'migrations[0].throttleInitial: throttleInitial is ignored without autoConverge; expected no throttleInitial without autoConverge: true (turn auto-convergence on to tune it)'],
    ['throttleIncrement with autoConverge: false written', ', autoConverge: false, throttleIncrement: 10%', 'throttleIncrement', 'migrations[0].throttleIncrement: throttleIncrement is ignored without autoConverge; expected no throttleIncrement without autoConverge: true (turn auto-convergence on to tune it)'],
    ['postcopyAfterRounds: 0 with precopy (the default mode)', ', postcopyAfterRounds: 0', 'postcopyAfterRounds', 'migrations[0].postcopyAfterRounds: postcopyAfterRounds is ignored by precopy; expected no postcopyAfterRounds with mode: precopy (only mode: postcopy switches to post-copy)'],
    ['postcopyAfterRounds with stopcopy', ', mode: stopcopy, postcopyAfterRounds: 2', 'postcopyAfterRounds', 'migrations[0].postcopyAfterRounds: postcopyAfterRounds is ignored by stopcopy; expected no postcopyAfterRounds with mode: stopcopy (only mode: postcopy switches to post-copy)'],
    ['maxRounds with post-copy after rounds', ', mode: postcopy, postcopyAfterRounds: 3, maxRounds: 5', 'maxRounds', 'migrations[0].maxRounds: maxRounds is ignored by postcopy; expected no maxRounds with mode: postcopy (postcopyAfterRounds is its number of live rounds)'],
    ['autoConverge with post-copy after no rounds', ', mode: postcopy, autoConverge: true, throttleInitial: 30%', 'autoConverge', 'migrations[0].autoConverge: autoConverge is ignored by postcopy; expected no autoConverge with mode: postcopy (it has no live rounds)'],
  ])('%s', (_, fields, at, message) => {
    const text = one(fields);
    expect(theError(text, at)).toBe(`x.yaml:6:${text.split('\n')[5]!.indexOf(at) + 1}: ${message}`);
  });

  it('accepts autoConverge and its tuning with post-copy after rounds (they act in its live rounds)', () => {
    expect(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 1, autoConverge: true, throttleIncrement: 5%'), 'x.yaml').migrations[0]).toMatchObject({ autoConverge: true, throttleIncrementPct: 5 });
  });

  it('refuses post-copy after rounds at fidelity fluid (its post-copy starts with every page on the source)', () => {
    const text = one(', mode: postcopy, postcopyAfterRounds: 2', 'fidelity: fluid\n');
    expect(theError(text, '2 }')).toMatch(
      /^x\.yaml:7:\d+: migrations\[0\]\.postcopyAfterRounds: the fluid model's post-copy starts with every page on the source, so post-copy after pre-copy rounds needs `fidelity: pages`; expected fidelity: pages for post-copy after pre-copy rounds$/,
    );
    expect(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 0', 'fidelity: fluid\n'), 'x.yaml').fidelity).toBe('fluid');
  });
});

describe("the run's estimate counts post-copy's live rounds", () => {
  it('N rounds of a guest that never converges, then its last dirty set pushed', () => {
    // 1 GiB = 262144 pages at the default 10 Gbit/s: each round sends every page again (10^7 writes/s dirty them all)
    const text = one(', mode: postcopy, postcopyAfterRounds: 3').replace('memory: 1GiB }', 'memory: 1GiB, workload: { kind: uniform, writeRate: 10000000/s } }');
    const e = estimateRun(parseScenario(text, 'x.yaml')).migrations[0]!;
    const passNs = ((262144 * 4104 * 8) / 1e10) * 1e9; // 860.67 ms
    expect(e.rounds).toBe(3);
    expect(e.pushChunks).toBe(Math.ceil(passNs / 1e6)); // 861, one per ms of push
    expect(e.postcopyNs).toBeCloseTo(passNs + ((256 * 1024 * 8) / 1e10) * 1e9 + 2 * 100e3, 0);
    expect(e.ns).toBeCloseTo(3 * passNs + e.postcopyNs, 0);
  });

  it('rounds that converge: a pre-copy estimate, no push', () => {
    const e = estimateRun(parseScenario(one(', mode: postcopy, postcopyAfterRounds: 3'), 'x.yaml')).migrations[0]!;
    expect(e).toMatchObject({ rounds: 1, pushChunks: 0, postcopyNs: 0 });
  });
});
