// One migration of one result as the report shows it: a banner when it did not complete, its
// figures (nulls with their reason), the rounds and durations charts, the timeline and the
// list of what the timeline marks.

import type { RunResult } from '../model/result/format.js';
import { svgOf } from './charts.js';
import { esc, figure, row, table, type HtmlCell } from './html.js';
import { durationsSpec, roundsSpec, timelineSpec } from './migration-charts.js';
import { timelineOf } from './timeline.js';
import { METRICS, metricText } from './values.js';

/** The banner of a migration that did not complete: failed (and a lost VM) prominently, reverted plainly. */
function banner(r: RunResult, index: number): string {
  const m = r.migrations[index]!;
  if (m.outcome === 'completed') return '';
  const why = m.error ? `: ${esc(m.error)}` : '';
  if (m.outcome === 'failed') {
    return `<div class="failed" role="alert" data-outcome="failed">MIGRATION FAILED${m.vmLost ? ' — THE VM WAS LOST' : ''}${why}</div>`;
  }
  return `<div class="reverted" data-outcome="${esc(m.outcome)}">Migration ${esc(m.outcome)}: the VM runs on at ${esc(m.from)}${why}</div>`;
}

/** The migration's figures, one row each. */
function metricsTable(r: RunResult, index: number): string {
  const m = r.migrations[index]!;
  const rows = METRICS.map((x) => {
    const t = metricText(r, m, x.key, x.unit);
    const cell: HtmlCell = { html: esc(t.text), cls: t.measured ? (x.unit === 'word' || x.unit === 'verdict' ? '' : 'num') : 'unmeasured' };
    return [x.label, cell];
  });
  return table(['metric', 'value'], rows, `data-table="metrics" data-migration="${index}"`);
}

const at = (ms: number): string => ms.toFixed(3);

/** Everything about migration `index` of `r`, as an HTML fragment; without `charts`, its figures only. */
export async function migrationView(r: RunResult, index: number, charts = true): Promise<string> {
  const m = r.migrations[index]!;
  const parts = [`<h3>${esc(m.vm)}: ${esc(m.from)} → ${esc(m.to)}, ${esc(m.mode)}</h3>`, banner(r, index)];
  if (!charts) return [...parts, metricsTable(r, index)].join('\n');
  const data = { migration: index };
  const top = [metricsTable(r, index)];
  if (m.rounds.length > 0) {
    top.push(figure('rounds', await svgOf(roundsSpec(m)), 'Each live round: the pages it sent, and the pages written during it (dirty at its end: what the next round, or the paused transfer, sends).', data));
    top.push(figure('durations', await svgOf(durationsSpec(m)), 'How long each live round took, and the paused transfer (stop-and-copy) after them.', data));
  } else {
    top.push(`<p class="note" data-chart-absent="rounds">No live rounds (${esc(m.mode)}${m.outcome === 'failed' && m.switchoverMs === null ? ', and it never got going' : ''}).</p>`);
  }
  parts.push(row(top));
  const tl = timelineOf(r, index);
  if (tl.items.length > 0) {
    parts.push(figure('timeline', await svgOf(timelineSpec(tl.items)), 'The migration and the network on one time axis (ms since the run started): spans are bars, instants points.', data));
  }
  for (const n of tl.notes) parts.push(`<p class="note">Note: ${esc(n)}.</p>`);
  const rows = tl.items.map((i) => [{ html: at(i.startMs), cls: 'num' }, { html: i.endMs === null ? '' : at(i.endMs), cls: 'num' }, i.lane, i.label]);
  parts.push(`<details${tl.items.length <= 30 ? ' open' : ''}><summary>The timeline's ${tl.items.length} marks as a table</summary>${table(['at (ms)', 'until (ms)', 'lane', 'what'], rows, `data-table="timeline" data-migration="${index}"`)}</details>`);
  return parts.join('\n');
}
