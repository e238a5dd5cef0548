// The comparison table of a report of several results: each later result against the first,
// per migration (matched by place) and metric, with the relative change and the flag of
// model/result/compare.ts — the numbers `migsim compare` gives.

import { compareResults, type CompareRow } from '../model/result/compare.js';
import type { RunResult } from '../model/result/format.js';
import { esc, table, type HtmlCell } from './html.js';
import { METRICS, nullReason, valueText } from './values.js';

export interface NamedResult {
  /** how the page names it: the result file as given */
  name: string;
  result: RunResult;
}

function valueCell(r: RunResult, migration: number, metric: string, v: CompareRow['a']): HtmlCell {
  const unit = METRICS.find((x) => x.key === metric)?.unit ?? 'count';
  const t = valueText(v, unit);
  if (t !== null) return { html: esc(t), cls: typeof v === 'number' ? 'num' : '' };
  const m = r.migrations[migration];
  return { html: esc(`not measured: ${m ? nullReason(r, m, metric) : 'no such migration'}`), cls: 'unmeasured' };
}

function changeCell(row: CompareRow | undefined, tolerance: number): HtmlCell {
  if (!row) return { html: '' };
  const text = row.relative === null ? (row.a === row.b ? '' : 'changed') : `${row.relative > 0 ? '+' : ''}${(row.relative * 100).toFixed(1)} %`;
  return { html: esc(row.flagged ? `${text} (beyond ±${tolerance * 100} %)` : text), cls: row.flagged ? 'num flag' : 'num' };
}

/** The table (and a line per migration only some results have); `tolerance` relative, 0.1 = ±10 %. */
export function comparisonTable(results: readonly NamedResult[], tolerance: number): string {
  const base = results[0]!;
  const others = results.slice(1);
  const comps = others.map((o) => compareResults(base.result.migrations, o.result.migrations, tolerance));
  const header = ['#', 'vm', 'metric', base.name, ...others.flatMap((o) => [o.name, 'change vs. the first'])];
  const n = base.result.migrations.length;
  const rows: HtmlCell[][] = [];
  for (let i = 0; i < n; i++) {
    const vm = base.result.migrations[i]!.vm;
    for (const metric of METRICS.map((x) => x.key)) {
      const found = comps.map((c) => c.rows.find((row) => row.migration === i && row.metric === metric));
      if (found.every((f) => f === undefined)) continue;
      const a = found.find((f) => f !== undefined)!.a;
      const cells: HtmlCell[] = [{ html: String(i), cls: 'num' }, { html: esc(vm) }, { html: esc(metric) }, valueCell(base.result, i, metric, a)];
      others.forEach((o, j) => {
        const row = found[j];
        cells.push(row ? valueCell(o.result, i, metric, row.b) : { html: 'no such migration', cls: 'unmeasured' }, changeCell(row, tolerance));
      });
      rows.push(cells);
    }
  }
  const unmatched = comps.flatMap((c, j) => c.unmatched.map((u) => `migration ${u.migration} (${u.vm}) is only in ${u.in === 'A' ? base.name : others[j]!.name}`));
  return [table(header, rows, 'data-table="comparison"'), ...unmatched.map((u) => `<p class="note">${esc(u)}</p>`)].join('\n');
}
