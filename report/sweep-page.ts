// A sweep's HTML page (docs/reports.md "Sweep page") from its points.csv and summary.csv:
// the runs that did not complete, each main metric's mean with its 95 % band against each
// varied field, a heatmap when exactly two fields are varied, and the Pareto front of mean
// downtime against mean total time. One self-contained file, charts as inline SVG.

import { svgOf } from './charts.js';
import { esc, figure, page, row, table, type HtmlCell } from './html.js';
import { heatmapSpec, meanLineSpec, paretoSpec, type ParetoPoint } from './sweep-charts.js';
import { measuredMetrics, meansOf, paretoFront, SWEEP_METRICS, unfinishedRuns, type PointMean, type SweepPageInput } from './sweep-data.js';
import { NETWORK_KEYS, valueText } from './values.js';

export type { SweepPageInput } from './sweep-data.js';

const unitOf = (metric: string) => (metric.endsWith('Ms') ? 'ms' as const : 'count' as const);

function meanText(p: PointMean | undefined, metric: string): HtmlCell {
  if (!p || p.mean === null) return { html: 'not measured at this point', cls: 'unmeasured' };
  const v = valueText(p.mean, unitOf(metric)) ?? '';
  const ci = p.low !== null && p.high !== null ? ` [${valueText(p.low, unitOf(metric))} – ${valueText(p.high, unitOf(metric))}]` : ' (n = 1: no interval)';
  return { html: esc(v + ci), cls: 'num' };
}

function failures(input: SweepPageInput): string {
  const bad = unfinishedRuns(input.points);
  if (bad.length === 0) return '';
  const failed = bad.filter((b) => b.outcome === 'failed' || b.outcome === 'did not run').length;
  return [
    `<div class="${failed > 0 ? 'failed' : 'reverted'}" role="alert">${bad.length} of ${input.points.rows.length} runs did not complete${failed > 0 ? ` (${failed} FAILED)` : ''}</div>`,
    table(['point', 'seed', 'vm', 'outcome', 'why'], bad.map((b) => [String(b.point), b.seed, b.vm, b.outcome, b.why]), 'data-table="unfinished"'),
  ].join('\n');
}

async function meanCharts(input: SweepPageInput, metrics: readonly string[]): Promise<string> {
  const out: string[] = [];
  for (const metric of metrics) {
    const means = meansOf(input, metric);
    const figs = await Promise.all(input.varied.map(async (v, i) =>
      figure('mean', await svgOf(meanLineSpec(input, metric, i, means)), `${metric} against ${v.key}: the mean over the seeds, with its 95 % confidence interval as a band.`, { metric, field: v.key })));
    out.push(`<h3>${esc(metric)}</h3>`, row(figs));
  }
  return out.join('\n');
}

async function heatmaps(input: SweepPageInput, metrics: readonly string[]): Promise<string> {
  if (input.varied.length !== 2) return '';
  const out: string[] = ['<h2>Heatmaps</h2>'];
  for (const metric of metrics.filter((m) => m === 'downtimeMs' || m === 'totalTimeMs')) {
    const means = meansOf(input, metric);
    for (const mig of [...new Set(means.map((p) => p.migration))]) {
      const mine = means.filter((p) => p.migration === mig);
      out.push(figure('heatmap', await svgOf(heatmapSpec(input, metric, mine)), `${metric}, mean over the seeds, migration ${mig} (${mine[0]?.vm ?? ''}); a blank cell is not measured.`, { metric, migration: mig }));
    }
  }
  return out.join('\n');
}

/** The Pareto points of migration `mig`: every point with both means measured, and whether it is on the front. */
export function paretoPoints(input: SweepPageInput, mig: number): { point: PointMean; xy: ParetoPoint }[] {
  const down = meansOf(input, 'downtimeMs').filter((p) => p.migration === mig);
  const total = meansOf(input, 'totalTimeMs').filter((p) => p.migration === mig);
  const both = down.flatMap((d) => {
    const t = total.find((x) => x.point === d.point);
    return d.mean !== null && t && t.mean !== null ? [{ point: d, downtimeMs: d.mean, totalTimeMs: t.mean }] : [];
  });
  const front = paretoFront(both.map((b) => ({ x: b.totalTimeMs, y: b.downtimeMs })));
  return both.map((b, i) => ({ point: b.point, xy: { label: `point ${b.point.point}`, downtimeMs: b.downtimeMs, totalTimeMs: b.totalTimeMs, front: front[i]! } }));
}

async function pareto(input: SweepPageInput): Promise<string> {
  const migs = [...new Set(meansOf(input, 'downtimeMs').map((p) => p.migration))];
  const out: string[] = ['<h2>Downtime against total time</h2>'];
  for (const mig of migs) {
    const pts = paretoPoints(input, mig);
    if (pts.length === 0) {
      out.push(`<p class="note">Migration ${mig}: no point has both a measured mean downtime and total time.</p>`);
      continue;
    }
    out.push(figure('pareto', await svgOf(paretoSpec(pts.map((p) => p.xy))), `Migration ${mig}: each point's mean total time and mean downtime; in red the Pareto front, the points no other point beats on both.`, { migration: mig }));
    const rows = pts.filter((p) => p.xy.front).map((p) => [String(p.point.point), ...p.point.values, { html: esc(valueText(p.xy.downtimeMs, 'ms')!), cls: 'num' }, { html: esc(valueText(p.xy.totalTimeMs, 'ms')!), cls: 'num' }]);
    out.push(table(['point', ...input.varied.map((v) => v.key), 'downtime (mean)', 'total time (mean)'], rows, `data-table="pareto" data-migration="${mig}"`));
  }
  return out.join('\n');
}

function pointsTable(input: SweepPageInput): string {
  const down = meansOf(input, 'downtimeMs');
  const total = meansOf(input, 'totalTimeMs');
  const rows = down.map((d) => [
    { html: String(d.point), cls: 'num' }, ...d.values.map((v) => ({ html: esc(v) })), { html: esc(`${d.migration} (${d.vm})`) }, { html: String(d.n), cls: 'num' },
    meanText(d, 'downtimeMs'), meanText(total.find((t) => t.point === d.point && t.migration === d.migration), 'totalTimeMs'),
  ]);
  return table(['point', ...input.varied.map((v) => v.key), 'migration', 'n (downtime)', 'downtime, mean [95 % CI]', 'total time, mean [95 % CI]'], rows, 'data-table="points"');
}

export async function sweepPage(input: SweepPageInput): Promise<string> {
  const metrics = measuredMetrics(input);
  const absent = SWEEP_METRICS.filter((m) => !metrics.includes(m) && !NETWORK_KEYS.has(m));
  const seeds = new Set(input.points.rows.map((r) => r[input.points.columns.indexOf('seed')]));
  const body = [
    `<h1>migsim sweep: ${esc(input.sweep)}</h1>`,
    table(['varied field', 'values, in the sweep\'s order'], input.varied.map((v) => [v.key, v.values.map(String).join(', ')]), 'data-table="varied"'),
    `<p>${new Set(input.summary.rows.map((r) => r[0])).size} points × ${seeds.size} seed${seeds.size === 1 ? '' : 's'}; ${input.points.rows.length} rows in points.csv.</p>`,
    failures(input),
    '<h2>Means against each varied field</h2>',
    input.varied.length === 0 ? '<p class="note">No field is varied: nothing to plot against.</p>' : await meanCharts(input, metrics),
    absent.length > 0 ? `<p class="note">Not plotted, not measured at any point: ${absent.map((m) => esc(m)).join(', ')}.</p>` : '',
    await heatmaps(input, metrics),
    await pareto(input),
    '<h2>Points</h2>',
    pointsTable(input),
    '<p class="note">Made by migsim from the sweep\'s summary.csv and points.csv; docs/reports.md says what each chart shows.</p>',
  ];
  return page(`migsim sweep: ${input.sweep}`, body.filter((x) => x !== '').join('\n'));
}
