// Every sweep file shipped in scenarios/sweeps/ loads, with every one of its points: a knob
// renamed in the scenario format, or a base scenario moved, fails here, not in a user's hands.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSweepFile } from '../model/sweep/file.js';
import { planSweep, pointCount } from '../model/sweep/points.js';

const DIR = 'scenarios/sweeps';

describe('scenarios/sweeps', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  it('has the sweeps the README and docs/sweeps.md name', () => {
    expect(files).toContain('bw-vs-limit.yaml');
    expect(files).toContain('rebind-matrix.yaml');
  });
  for (const f of files) {
    it(`${f} loads every point`, () => {
      const sweep = loadSweepFile(join(DIR, f));
      const plan = planSweep(sweep);
      expect(plan.points).toHaveLength(pointCount(sweep));
      expect(sweep.name).toBe(f.replace(/\.yaml$/, ''));
    });
  }
});
