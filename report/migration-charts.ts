// The charts of one migration (docs/reports.md): its live rounds — pages sent and pages dirty
// at each round's end, as grouped bars — each round's duration with the paused transfer's, and
// its timeline on the run clock. Each returns a Vega-Lite spec; charts.ts renders it.

import type { TopLevelSpec } from 'vega-lite';
import type { MigrationResult } from '../model/result/format.js';
import { LANES, type TimelineItem } from './timeline.js';

/** Bar series of the rounds chart, in legend order. */
export const ROUND_SERIES = ['pages sent', 'dirty pages at its end'] as const;

/** Pages sent and pages left dirty per live round: 2 bars a round. */
export function roundsSpec(m: MigrationResult): TopLevelSpec {
  const values = m.rounds.flatMap((r) => [
    { round: String(r.index), series: ROUND_SERIES[0], pages: r.pagesSent },
    { round: String(r.index), series: ROUND_SERIES[1], pages: r.dirtyPagesAtEnd },
  ]);
  return {
    data: { values },
    width: { step: Math.max(24, Math.min(60, 480 / Math.max(1, m.rounds.length))) },
    height: 220,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'round', type: 'ordinal', sort: m.rounds.map((r) => String(r.index)), title: 'live round', axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: [...ROUND_SERIES] },
      y: { field: 'pages', type: 'quantitative', title: 'pages' },
      color: { field: 'series', type: 'nominal', sort: [...ROUND_SERIES], title: null, scale: { range: ['#4c78a8', '#f58518'] }, legend: { orient: 'top' } },
    },
  };
}

/** How long each live round ran, and the paused transfer (stop-and-copy) after them: one bar each. */
export function durationsSpec(m: MigrationResult): TopLevelSpec {
  const values: { step: string; kind: string; ms: number }[] = m.rounds.map((r) => ({ step: String(r.index), kind: 'live round', ms: r.durationMs }));
  if (m.stopCopy) values.push({ step: 'stop-copy', kind: 'paused transfer', ms: m.stopCopy.durationMs });
  return {
    data: { values },
    width: { step: Math.max(24, Math.min(60, 480 / Math.max(1, values.length))) },
    height: 180,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'step', type: 'ordinal', sort: values.map((v) => v.step), title: 'live round, then the paused transfer', axis: { labelAngle: 0 } },
      y: { field: 'ms', type: 'quantitative', title: 'duration (ms)' },
      color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['live round', 'paused transfer'], range: ['#4c78a8', '#e45756'] }, legend: { orient: 'top' } },
    },
  };
}

/** Colours of the timeline's kinds: a fixed order, so two reports colour alike. */
const KIND_ORDER = [
  'start', 'live round', 'paused transfer', 'pause', 'resume', 'end', 'given up',
  'VDP pre-associate', 'VDP associate', 'VDP de-associate', 'FDB move',
  'leasequery sent', 'leasequery reply', 'leasequery gave up', 'assistance request', 'binding moved',
  'IGMP query', 'IGMP report (join)', 'source-guard drops', 'service interruption', 'multicast gap',
];

/**
 * The timeline on one axis, ms since the run's start: spans (rounds, the paused transfer, the
 * data-plane losses) as bars, instants as points; one row per lane, one colour per kind.
 */
export function timelineSpec(items: readonly TimelineItem[], width = 760): TopLevelSpec {
  const spans = items.filter((i) => i.endMs !== null);
  const instants = items.filter((i) => i.endMs === null);
  const lanes = LANES.filter((l) => items.some((i) => i.lane === l));
  const kinds = [...KIND_ORDER.filter((k) => items.some((i) => i.kind === k)), ...new Set(items.map((i) => i.kind).filter((k) => !KIND_ORDER.includes(k)))];
  const lo = Math.min(...items.map((i) => i.startMs));
  const hi = Math.max(...items.map((i) => i.endMs ?? i.startMs));
  const pad = Math.max((hi - lo) * 0.03, 1);
  const x = { type: 'quantitative' as const, title: 'ms since the run started', scale: { domain: [lo - pad, hi + pad], zero: false, nice: false } };
  const y = { field: 'lane', type: 'nominal' as const, title: null, scale: { domain: lanes } };
  const color = { field: 'kind', type: 'nominal' as const, title: null, scale: { domain: kinds, scheme: 'tableau20' }, legend: { columns: 4, orient: 'bottom' as const } };
  return {
    width,
    height: 30 * lanes.length,
    layer: [
      {
        data: { values: spans.map((s) => ({ ...s })) },
        mark: { type: 'bar', height: { band: 0.55 }, stroke: '#333', strokeWidth: 0.5 },
        encoding: { x: { field: 'startMs', ...x }, x2: { field: 'endMs' }, y, color },
      },
      {
        data: { values: instants.map((s) => ({ ...s })) },
        mark: { type: 'point', filled: true, size: 70, stroke: '#333', strokeWidth: 0.5, opacity: 0.9 },
        encoding: { x: { field: 'startMs', ...x }, y, color },
      },
    ],
  } as TopLevelSpec;
}
