// The terminal's view of a finished sweep: per point (and migration, when there are several),
// the varied values and the means of downtime, total time and — when measured — the rebind
// times, each ± the half-width of its 95 % interval; the first SHOWN rows only — the rest is
// in summary.csv.

import type { SweepFile } from '../model/sweep/file.js';
import type { Cell, Table } from '../model/sweep/table.js';
import { renderTable } from './table.js';

const SHOWN = 20;
const METRICS = ['downtimeMs', 'totalTimeMs', 'dhcpRebindMs', 'igmpRebindMs'] as const;

function ms(v: Cell): string {
  return typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–';
}

export function formatSummary(sweep: SweepFile, migrations: number, summary: Table | null): string {
  if (!summary) return '';
  const c = (name: string) => summary.columns.indexOf(name);
  const keys = sweep.vary.map((f) => f.key);
  const several = migrations > 1;
  const byPoint = new Map<string, Map<string, Cell[]>>();
  for (const r of summary.rows) {
    const id = `${r[c('point')]}/${r[c('migration')]}`;
    if (!byPoint.has(id)) byPoint.set(id, new Map());
    byPoint.get(id)!.set(String(r[c('metric')]), r);
  }
  const shown = METRICS.filter((m) => summary.rows.some((r) => r[c('metric')] === m && r[c('mean')] !== null));
  const header = [...keys, ...(several ? ['vm'] : []), ...shown.map((m) => `${m} (mean ± 95% CI)`)];
  const rows: string[][] = [];
  for (const metrics of byPoint.values()) {
    const any = metrics.values().next().value!;
    const cells = [...keys.map((k) => String(any[c(k)])), ...(several ? [String(any[c('vm')])] : [])];
    for (const m of shown) {
      const r = metrics.get(m);
      if (!r || r[c('mean')] === null) cells.push('not measured');
      else cells.push(`${ms(r[c('mean')]!)}${r[c('ci95High')] === null ? '' : ` ± ${ms((r[c('ci95High')] as number) - (r[c('mean')] as number))}`}`);
    }
    rows.push(cells);
  }
  const right = new Set(shown.map((_, i) => header.length - shown.length + i));
  const more = rows.length > SHOWN ? `\n… ${rows.length - SHOWN} more in summary.csv` : '';
  return renderTable(header, rows.slice(0, SHOWN), right) + more + '\n';
}
