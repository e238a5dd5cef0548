// The sweep page on a hand-made sweep (sweep-fixture.ts): what it plots and how many marks, the
// varied values in the sweep's order (not alphabetical), the Pareto front worked out by hand,
// the runs that did not complete, and nothing plotted that no point measured.

import { beforeAll, describe, expect, it } from 'vitest';
import { paretoFront } from './sweep-data.js';
import { BANDWIDTHS, MEANS, SWEEP_FIXTURE, WRITE_RATES } from './sweep-fixture.js';
import { sweepPage } from './sweep-page.js';
import { figuresOf, marksOf, xAxisLabels } from './svg-marks-fixture.js';

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

let html = '';
beforeAll(async () => {
  html = await sweepPage(SWEEP_FIXTURE);
});

const chart = (metric: string, field: string) => {
  const f = figuresOf(html, 'mean').filter((x) => x.attrs.metric === metric && x.attrs.field === field);
  expect(f).toHaveLength(1);
  return f[0]!.svg;
};

describe('the means against each varied field', () => {
  it('one chart per measured metric and varied field; none for a metric no point measured, nor for a share', () => {
    const metrics = [...new Set(figuresOf(html, 'mean').map((f) => f.attrs.metric))];
    expect(metrics).toEqual(['downtimeMs', 'totalTimeMs', 'rounds', 'pagesSent']);
    expect(figuresOf(html, 'mean')).toHaveLength(4 * 2);
  });

  it('a point per measured mean; a line and a band per series of the other field (a band only where n ≥ 2)', () => {
    const svg = chart('downtimeMs', 'network.migrationLink.bandwidth');
    // measured means: points 0–4 (point 5 failed on every seed)
    const measured = MEANS.filter((m) => m.downtimeMs !== null).length;
    expect(sum(marksOf(svg, 'symbol'))).toBe(measured);
    // series = the write rates: 5000 (points 0, 2, 4) and 20000 (points 1, 3); vega draws a line (and a band) per series
    expect(sum(marksOf(svg, 'line'))).toBe(WRITE_RATES.length);
    // the bands: 5000 has n ≥ 2 at points 0 and 2, 20000 at 1 and 3 — both series have one
    expect(sum(marksOf(svg, 'area'))).toBe(2);
  });

  it('against the write rate, three bandwidth series; the 100Mbit/s one has one point and no band (n = 1)', () => {
    const svg = chart('downtimeMs', 'vms[0].workload.writeRate');
    expect(sum(marksOf(svg, 'line'))).toBe(3);
    expect(sum(marksOf(svg, 'area'))).toBe(2);
    expect(sum(marksOf(svg, 'symbol'))).toBe(5);
  });

  it('orders string values as the sweep lists them, not alphabetically', () => {
    const labels = xAxisLabels(chart('totalTimeMs', 'network.migrationLink.bandwidth'));
    expect(labels.map((l) => l.text)).toEqual(BANDWIDTHS);
    expect([...BANDWIDTHS].sort()).not.toEqual(BANDWIDTHS);
    const xs = labels.map((l) => l.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
  });
});

describe('the heatmaps (exactly two fields varied)', () => {
  it('one per main time metric, a cell per point with a mean', () => {
    const maps = figuresOf(html, 'heatmap');
    expect(maps.map((m) => m.attrs.metric)).toEqual(['downtimeMs', 'totalTimeMs']);
    for (const m of maps) expect(marksOf(m.svg, 'rect')).toEqual([MEANS.filter((x) => x.downtimeMs !== null).length]);
  });
});

describe('the Pareto front', () => {
  it('of the points by hand: (40, 800), (120, 600), (90, 700) and (20, 5000) are on it; (300, 2500) is not', () => {
    expect(paretoFront([{ x: 800, y: 40 }, { x: 600, y: 120 }, { x: 700, y: 90 }, { x: 2500, y: 300 }, { x: 5000, y: 20 }, { x: null, y: null }]))
      .toEqual([true, true, true, false, true, false]);
    // a tie is no domination; a point equal in one and worse in the other is dominated
    expect(paretoFront([{ x: 1, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 2 }])).toEqual([true, true, false]);
  });

  it('plots every point with both means, the front again highlighted, and lists the front', () => {
    const [p] = figuresOf(html, 'pareto');
    expect(p).toBeDefined();
    // layers in order: all points, the front's line, the front's points, the front's labels
    expect(marksOf(p!.svg, 'symbol')).toEqual([5, 4]);
    expect(marksOf(p!.svg, 'line')).toEqual([1]);
    const table = /<table data-table="pareto"[\s\S]*?<\/table>/.exec(html)![0];
    const points = [...table.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(points).toEqual([0, 1, 2, 4]);
  });
});

describe('runs that did not complete, and nulls', () => {
  it('says prominently how many runs did not complete and how many failed', () => {
    expect(html).toContain('<div class="failed" role="alert">5 of 18 runs did not complete (3 FAILED)</div>');
    expect(html).toContain('the migration connection h1 → h2 broke');
  });

  it('a point with no measured mean reads "not measured", never 0', () => {
    const table = /<table data-table="points"[\s\S]*?<\/table>/.exec(html)![0];
    const last = table.split('<tr>').at(-1)!;
    expect(last).toContain('not measured at this point');
    expect(last).not.toMatch(/>0(\.0+)? ms/);
  });
});
