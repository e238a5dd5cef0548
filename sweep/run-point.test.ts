import { describe, expect, it } from 'vitest';
import { parseScenario } from '../model/scenario/load.js';
import { pointsTable } from '../model/sweep/points-table.js';
import { summarize } from '../model/sweep/summary.js';
import { runPoint } from './run-point.js';

const scenario = parseScenario(
  'name: s\nhosts: [h1, h2]\nnetwork:\n  migrationLink: { bandwidth: 1Gbit/s }\nvms:\n  - { name: vm1, host: h1, memory: 64MiB, workload: { kind: hotset, writeRate: 4000/s, hotset: 8MiB } }\nmigrations:\n  - { vm: vm1, to: h2, at: 100ms }\n',
  's.yaml',
);

describe('a run of a sweep', () => {
  it('is its migration rows, with the seed it ran with', () => {
    const r = runPoint(scenario, 3, 7);
    expect(r).toMatchObject({ point: 3, seed: 7 });
    if (!('rows' in r)) throw new Error('expected rows');
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ vm: 'vm1', outcome: 'completed', memoryVerified: true, 'run.expectationsFailed': 0 });
    expect(r.rows[0]!.rounds).toBeGreaterThanOrEqual(1);
  });

  it('that throws is recorded with its error, and stays in the tables as a run that did not run', () => {
    const broken = { ...scenario, vms: [] }; // the engine finds no VM to migrate
    const r = runPoint(broken, 1, 1);
    expect('error' in r && r.error).toMatch(/^\w*Error: /);
    const ok = runPoint(scenario, 0, 1);
    const t = pointsTable(['k'], [['a'], ['b']], [1], [r, ok]);
    const col = (name: string) => t.columns.indexOf(name);
    expect(t.rows.map((row) => [row[col('point')], row[col('migration')], row[col('vm')]])).toEqual([[0, 0, 'vm1'], [1, null, null]]);
    expect(t.rows[1]![col('run.error')]).toBe((r as { error: string }).error);
    expect(t.rows[0]![col('run.error')]).toBeNull();
    // nothing of the failed run counts as a measurement
    const s = summarize(t, ['k']);
    const down = s.rows.find((row) => row[0] === 1 && row[4] === 'downtimeMs')!;
    expect(down.slice(5, 8)).toEqual([0, 1, null]);
  });
});
