// The report page of one or more run results (`migsim report`, `migsim run --report`): each
// run's facts, faults, bounds and switch, a comparison table when there are several, then per
// migration the results' charts side by side. One self-contained HTML file: docs/reports.md.

import type { RunResult } from '../model/result/format.js';
import { formatElapsed } from '../model/units.js';
import { comparisonTable, type NamedResult } from './comparison.js';
import { columns, esc, facts, page, table, type HtmlCell } from './html.js';
import { migrationView } from './migration-view.js';

export type { NamedResult } from './comparison.js';

function runFacts(n: NamedResult): string {
  const r = n.result;
  const failed = r.migrations.filter((m) => m.outcome === 'failed').length;
  const parts = [
    `<h3>${esc(r.scenario)}</h3>`,
    failed > 0 ? `<div class="failed" role="alert">${failed} of ${r.migrations.length} migration${r.migrations.length === 1 ? '' : 's'} FAILED</div>` : '',
    facts([
      ['result file', esc(n.name)],
      ['description', esc(r.description ?? '')],
      ['scenario file', esc(r.file ?? '')],
      ['engine', esc(`${r.engine}${r.engine === 'sim' ? `, ${r.fidelity} fidelity` : ''}`)],
      ['seed', esc(String(r.seed))],
      ['run span', esc(formatElapsed(r.durationMs * 1e6))],
      ['migsim', esc(r.migsim ?? '')],
      ['started', esc(r.wallClock?.startedAt ?? '')],
    ]),
  ];
  const faults = r.faults ?? [];
  if (faults.length > 0) {
    parts.push('<h4>Faults</h4>', table(['at', 'kind', 'target', 'scheduled', 'effect'], faults.map((f) => [
      f.atMs === null ? 'not known' : formatElapsed(f.atMs * 1e6), f.kind, f.target ?? '', f.scheduled ? 'yes' : 'no (observed)', f.effect,
    ]), 'data-table="faults"'));
  }
  if ((r.expectations ?? []).length > 0) {
    parts.push('<h4>expect: bounds</h4>', table(['bound', 'measured', 'holds'], r.expectations.map((e): HtmlCell[] => [
      { html: esc(`${e.key} ${e.bound}`) },
      e.measured === null ? { html: 'not measured', cls: 'unmeasured' } : { html: esc(String(e.measured)), cls: 'num' },
      { html: e.ok ? 'yes' : 'NO', cls: e.ok ? '' : 'flag' },
    ]), 'data-table="expectations"'));
  }
  if (r.network) {
    const sw = r.network.switch;
    parts.push('<h4>Switch</h4>', facts([
      ['VDP', esc(sw.vdp)], ['DHCP rebind', esc(`${sw.dhcpRebind}${sw.dhcpRebindFallback && sw.dhcpRebindFallback !== 'none' ? `, fallback ${sw.dhcpRebindFallback}` : ''}`)],
      ['IGMP rebind', esc(sw.igmpRebind)], ['IP source guard', sw.ipSourceGuard ? 'on' : 'off'],
      ['counters', r.network.countersUnmeasured
        ? `<span class="unmeasured">not measured: ${esc(r.network.countersUnmeasured)}</span>`
        : esc(Object.entries(r.network.counters).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'all 0')],
    ]));
  } else {
    parts.push('<p class="note">No data network in this run: the network figures are not measured.</p>');
  }
  return parts.join('\n');
}

/** Migrations drawn with charts; later ones show their figures only (a page stays readable and quick to make). */
export const MAX_CHARTED_MIGRATIONS = 100;

/**
 * The page; `tolerance` (relative, 0.1 = ±10 %) flags changes in the comparison of several
 * results; migrations from `charted` on show their figures only.
 */
export async function runPage(results: readonly NamedResult[], tolerance = 0.1, charted = MAX_CHARTED_MIGRATIONS): Promise<string> {
  if (results.length === 0) throw new Error('runPage: no result');
  const title = results.length === 1 ? `migsim report: ${results[0]!.result.scenario}` : `migsim report: ${results.length} results`;
  const body = [`<h1>${esc(title)}</h1>`, '<h2>Runs</h2>', columns(results.map(runFacts))];
  if (results.length > 1) {
    body.push('<h2>Comparison</h2>', `<p class="note">Each result against the first, migration by migration (matched by place); a change beyond ±${tolerance * 100} % is flagged, as <code>migsim compare</code> does.</p>`, comparisonTable(results, tolerance));
  }
  const most = Math.max(...results.map((n) => n.result.migrations.length));
  if (most === 0) body.push('<p class="note">No migrations in these results.</p>');
  for (let i = 0; i < most; i++) {
    if (i === charted) body.push(`<p class="note">Migrations from ${charted} on: their figures only, no charts.</p>`);
    const charts = i < charted;
    const cols = await Promise.all(results.map(async (n) => (i < n.result.migrations.length ? migrationView(n.result, i, charts) : `<p class="note">${esc(n.name)} has no migration ${i}.</p>`)));
    body.push(`<section data-migration="${i}"><h2>Migration ${i}</h2>`, columns(cols), '</section>');
  }
  body.push(`<p class="note">Made by migsim from ${results.map((n) => esc(n.name)).join(', ')}. Times are ms on the run clock (0 is the run's start); docs/reports.md says what each chart shows.</p>`);
  return page(title, body.join('\n'));
}

export type { RunResult };
