// The tables a sweep writes (docs/sweeps.md): points.csv — one row per point × seed ×
// migration, the result's fields flattened — and summary.csv — per point, migration and
// metric, the statistics over the seeds. A cell is what the CSV holds; null is an empty cell.

export type Cell = string | number | boolean | null;

export interface Table {
  columns: string[];
  rows: Cell[][];
}

/** The columns of summary.csv after `point`, the varied keys, `migration` and `vm`. */
export const SUMMARY_STATS = ['metric', 'n', 'missing', 'mean', 'sd', 'ci95Low', 'ci95High', 'min', 'max'] as const;
