// The sweep benchmark (issue 12): a 1,000-point pages-fidelity sweep of the 1 GiB bench guest
// (bench/scenarios/one-gib.yaml; 10 downtime limits × 100 write rates, one seed each), whole
// processes timed in turn — 1 thread, 2 threads, and the bare runs (bench/sweep-bare.ts) — so
// the ratios come from one run on one machine.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Row } from './report.js';

function sweepFile(dir: string): string {
  const limits = ['10ms', '20ms', '30ms', '50ms', '100ms', '150ms', '200ms', '300ms', '500ms', '1s'];
  const rates = Array.from({ length: 100 }, (_, i) => `${15000 + i * 100}/s`);
  const f = join(dir, 'bench-sweep.yaml');
  writeFileSync(f, `sweep: bench-sweep\nbase: ${resolve('bench/scenarios/one-gib.yaml')}\nvary:\n  migrations[0].downtimeLimit: [${limits.join(', ')}]\n  vms[0].workload.writeRate: [${rates.join(', ')}]\n`);
  return f;
}

function wallMs(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function sweepBench(quick: boolean): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'migsim-bench-sweep-'));
  try {
    const file = sweepFile(dir);
    const runs = quick ? 1 : 5;
    const t: Record<'one' | 'two' | 'bare', number[]> = { one: [], two: [], bare: [] };
    for (let i = 0; i < runs; i++) {
      // in turn, so a drift of the machine's speed touches all three alike
      t.bare.push(wallMs(['dist/bench/sweep-bare.js', file]));
      t.one.push(wallMs(['bin/migsim.js', 'sweep', file, '--workers', '1', '--out', join(dir, `one-${i}`), '--quiet']));
      t.two.push(wallMs(['bin/migsim.js', 'sweep', file, '--workers', '2', '--out', join(dir, `two-${i}`), '--quiet']));
    }
    const [one, two, bare] = [median(t.one), median(t.two), median(t.bare)];
    const perS = (ms: number) => (1000 * 1000) / ms;
    const speedup = one / two;
    const overhead = (one - bare) / bare;
    const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
    return [
      {
        name: `1,000-point sweep of the 1 GiB guest, pages fidelity: 2 worker threads against 1 (whole \`migsim sweep\`, median of ${runs})`,
        measured: `${perS(two).toFixed(0)} points/s with 2, ${perS(one).toFixed(0)} with 1: **${speedup.toFixed(2)}×**`,
        target: '≥ 1.7×',
        ok: speedup >= 1.7,
        detail: `2 threads ${spread(t.two)}, 1 thread ${spread(t.one)}; each includes start-up, loading the 1,000 points, points.csv, summary.csv and sweep.html`,
      },
      {
        name: `The sweep's overhead against bare runs of the same 1,000 points (1 thread, median of ${runs})`,
        measured: `${(overhead * 100).toFixed(1)} % (${((one - bare) / 1000).toFixed(3)} ms a point)`,
        target: '< 10 %',
        ok: overhead < 0.1,
        detail: `sweep ${one.toFixed(0)} ms, bare ${bare.toFixed(0)} ms (${spread(t.bare)}): the same plan run in a loop in one process, nothing written`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
