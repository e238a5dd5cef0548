// The charts of a sweep's page (docs/reports.md "Sweep page") as Vega-Lite specs: a metric's
// mean against one varied field with its 95 % band, the other varied fields as colour; a
// heatmap of a mean over two fields; the Pareto front of mean downtime against mean total time.
// Varied values are ordinal, in the order the sweep file lists them, never alphabetical.

import type { TopLevelSpec } from 'vega-lite';
import type { PointMean, SweepPageInput } from './sweep-data.js';

/** How a point's other varied fields (and its VM, when there are several migrations) read as a series name. */
export function seriesOf(input: SweepPageInput, p: PointMean, except: number | null, manyMigrations: boolean): string {
  const parts = input.varied.flatMap((v, i) => (i === except ? [] : [`${v.key} = ${p.values[i]}`]));
  if (manyMigrations) parts.push(`migration ${p.migration} (${p.vm})`);
  return parts.join(', ') || 'all runs';
}

/** The series names in the sweep's order (field values as listed), so colours follow it too. */
function seriesOrder(input: SweepPageInput, means: readonly PointMean[], except: number, many: boolean): string[] {
  const rank = (p: PointMean): number[] => [...input.varied.map((v, i) => (i === except ? 0 : v.values.map(String).indexOf(p.values[i]!))), p.migration];
  const sorted = [...means].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return 0;
  });
  return [...new Set(sorted.map((p) => seriesOf(input, p, except, many)))];
}

/** `metric`'s mean against varied field `field`: a line of means per series, their points, and the 95 % band where n ≥ 2. */
export function meanLineSpec(input: SweepPageInput, metric: string, field: number, means: readonly PointMean[]): TopLevelSpec {
  const many = new Set(means.map((p) => p.migration)).size > 1;
  const rows = means.filter((p) => p.mean !== null).map((p) => ({
    x: p.values[field]!, series: seriesOf(input, p, field, many), mean: p.mean, low: p.low, high: p.high, n: p.n,
  }));
  const series = seriesOrder(input, means.filter((p) => p.mean !== null), field, many);
  const x = { field: 'x', type: 'ordinal' as const, title: input.varied[field]!.key, scale: { domain: input.varied[field]!.values.map(String) }, axis: { labelAngle: 0 } };
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: series }, legend: series.length > 1 ? { orient: 'bottom' as const, columns: 1, labelLimit: 600 } : null };
  return {
    width: Math.max(240, 70 * input.varied[field]!.values.length),
    height: 200,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: 'datum.low != null && datum.high != null' }],
        mark: { type: 'errorband', opacity: 0.25 },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: `${metric} (mean, 95 % CI)` }, y2: { field: 'high' }, color },
      },
      { mark: { type: 'line' }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      { mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  } as TopLevelSpec;
}

/** `metric`'s mean over the two varied fields of a sweep that varies exactly two: a cell per point with a mean. */
export function heatmapSpec(input: SweepPageInput, metric: string, means: readonly PointMean[]): TopLevelSpec {
  const [a, b] = input.varied as [SweepPageInput['varied'][number], SweepPageInput['varied'][number]];
  const rows = means.filter((p) => p.mean !== null).map((p) => ({ a: p.values[0]!, b: p.values[1]!, mean: p.mean, label: Number(p.mean!.toPrecision(4)).toLocaleString('en-US') }));
  const x = { field: 'a', type: 'ordinal' as const, title: a.key, scale: { domain: a.values.map(String) }, axis: { labelAngle: 0 } };
  const y = { field: 'b', type: 'ordinal' as const, title: b.key, scale: { domain: b.values.map(String) } };
  // dark text on the light (high) half of the colour scale, light on the dark half
  const ms = rows.map((r) => r.mean!);
  const mid = ms.length > 0 ? (Math.min(...ms) + Math.max(...ms)) / 2 : 0;
  return {
    width: Math.max(200, 80 * a.values.length),
    height: Math.max(120, 36 * b.values.length),
    data: { values: rows },
    layer: [
      { mark: { type: 'rect' }, encoding: { x, y, color: { field: 'mean', type: 'quantitative', title: `${metric} (mean)`, scale: { scheme: 'viridis' } } } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { x, y, text: { field: 'label' }, color: { condition: { test: `datum.mean > ${mid}`, value: 'black' }, value: 'white' } } },
    ],
  } as TopLevelSpec;
}

export interface ParetoPoint {
  label: string;
  downtimeMs: number;
  totalTimeMs: number;
  front: boolean;
}

/** Every point by its mean downtime and mean total time; the front (neither can be beaten without the other) highlighted and joined. */
export function paretoSpec(points: readonly ParetoPoint[]): TopLevelSpec {
  const x = { field: 'totalTimeMs', type: 'quantitative' as const, title: 'total time, mean (ms)', scale: { zero: false } };
  const y = { field: 'downtimeMs', type: 'quantitative' as const, title: 'downtime, mean (ms)', scale: { zero: false } };
  const all = points.map((p) => ({ ...p }));
  const front = all.filter((p) => p.front).sort((p, q) => p.totalTimeMs - q.totalTimeMs);
  return {
    width: 420,
    height: 280,
    layer: [
      { data: { values: all }, mark: { type: 'point', filled: true, size: 45, color: '#9a9a9a' }, encoding: { x, y } },
      { data: { values: front }, mark: { type: 'line', color: '#d62728' }, encoding: { x, y, order: { field: 'totalTimeMs', type: 'quantitative' } } },
      { data: { values: front }, mark: { type: 'point', filled: true, size: 90, color: '#d62728' }, encoding: { x, y } },
      { data: { values: front }, mark: { type: 'text', dx: 8, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}
