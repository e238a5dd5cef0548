// What every benchmark runner shares: its options, the row it measures, and the Markdown it
// prints for bench/RESULTS.md (the machine, the date, one table).

import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Row {
  name: string;
  measured: string;
  target: string;
  ok: boolean | null;
  detail: string;
}

/** `--only NAME` and `--quick`. */
export function benchArgs(argv = process.argv.slice(2)): { only: string | undefined; quick: boolean } {
  return { only: argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined, quick: argv.includes('--quick') };
}

/** `Machine: CPU, N cores, M GiB, Linux K[, extra], Node V`. */
export function machineLine(extra: string[] = []): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let kernel = 'unknown';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    // not Linux
  }
  return `Machine: ${[cpu, `${cpus().length} cores`, `${(totalmem() / 2 ** 30).toFixed(0)} GiB`, `Linux ${kernel}`, ...extra, `Node ${process.version}`].join(', ')}`;
}

/** The rows as a Markdown table; the exit status is 1 if a target was missed. */
export function printRows(rows: Row[]): void {
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  console.log('| benchmark | measured | target | met | detail |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${cell(r.name)} | ${cell(r.measured)} | ${cell(r.target)} | ${r.ok === null ? '—' : r.ok ? 'yes' : '**no**'} | ${cell(r.detail)} |`);
  if (rows.some((r) => r.ok === false)) process.exitCode = 1;
}
