// `npm run bench`: the speed and memory targets of the sim engine, measured side by side
// in one run, printed as Markdown for bench/RESULTS.md.
//   node dist/bench/run.js [--only NAME] [--quick]

import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { runScenario } from '../sim/engine.js';
import { loadScenario } from '../sim/scenario/load.js';

interface Row {
  name: string;
  measured: string;
  target: string;
  ok: boolean | null;
  detail: string;
}

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const quick = args.includes('--quick');

function best<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let bestMs = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return { ms: bestMs, value };
}

/** The 64 GiB guest through the real CLI, in a child so its RSS is its own. */
function bigGuest(): Row {
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--import', './bench/rss-hook.js', 'bin/migsim.js', 'run', 'bench/scenarios/big-64g.yaml', '--out', '/tmp/migsim-bench-big.json', '--json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const wallMs = performance.now() - t0;
  if (child.status !== 0) throw new Error(`big guest run failed: ${child.stderr}`);
  const rssKb = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr)?.[1]);
  const m = JSON.parse(child.stdout).migrations[0];
  const rssMb = rssKb / 1024;
  return {
    name: '64 GiB guest, 1 GiB hot set @ 200k writes/s, 10 Gbit/s, pages (CLI end to end)',
    measured: `${(wallMs / 1000).toFixed(2)} s wall, ${rssMb.toFixed(0)} MB peak RSS`,
    target: '< 2 s, < 400 MB',
    ok: wallMs < 2000 && rssMb < 400,
    detail: `${m.rounds.length} rounds, simulated total ${(m.totalTimeMs / 1000).toFixed(1)} s, downtime ${m.downtimeMs.toFixed(1)} ms, verified ${m.memoryVerified}`,
  };
}

function thousand(fidelity: 'pages' | 'fluid', targetMs: number): Row {
  const s = { ...loadScenario('bench/scenarios/one-gib.yaml'), fidelity };
  const n = quick ? 100 : 1000;
  const { ms, value } = best(3, () => {
    let verified = 0;
    let downtime = 0;
    for (let i = 0; i < n; i++) {
      const m = runScenario(s, { seed: i + 1 }).migrations[0]!;
      if (m.memoryVerified) verified++;
      downtime += m.downtimeMs ?? 0;
    }
    return { verified, meanDowntime: downtime / n };
  });
  const perMigrationUs = (ms * 1000) / n;
  const scaledMs = (ms * 1000) / n;
  return {
    name: `1,000 migrations of a 1 GiB guest, ${fidelity} fidelity (in-process, best of 3)`,
    measured: `${scaledMs.toFixed(fidelity === 'fluid' ? 1 : 0)} ms (${perMigrationUs.toFixed(1)} µs each)${quick ? ` [${n} run]` : ''}`,
    target: `< ${targetMs} ms`,
    ok: scaledMs < targetMs,
    detail: `mean downtime ${value.meanDowntime.toFixed(1)} ms${fidelity === 'pages' ? `, ${value.verified}/${n} verified` : ''}`,
  };
}

/** SimGrid 3.32's live-migration model on the same workload, if it can be built here. */
function simgrid(): Row {
  let out: string;
  try {
    out = execFileSync('bash', ['bench/simgrid/run.sh', '1000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    return { name: 'SimGrid 3.32, 1,000 migrations', measured: 'not run', target: 'reference', ok: null, detail: String(e) };
  }
  const r = JSON.parse(out.trim().split('\n').pop()!);
  if (r.skipped) return { name: 'SimGrid 3.32, 1,000 migrations', measured: 'skipped', target: 'reference', ok: null, detail: r.skipped };
  return {
    name: 'SimGrid 3.32 live-migration plugin, 1,000 migrations of the same guest (reference)',
    measured: `${r.simMs.toFixed(1)} ms`,
    target: 'reference',
    ok: null,
    detail: `one migration simulated as ${r.lastMigrationSimSeconds} s; total with setup ${r.totalMs.toFixed(1)} ms`,
  };
}

const benches: Record<string, () => Row> = {
  big: bigGuest,
  pages1000: () => thousand('pages', 10_000),
  fluid1000: () => thousand('fluid', 50),
  simgrid,
};

const rows: Row[] = [];
for (const [name, fn] of Object.entries(benches)) {
  if (only && only !== name) continue;
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(fn());
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
let kernel = '';
try {
  kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
} catch {
  kernel = 'unknown';
}
console.log(`Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${kernel}, Node ${process.version}`);
console.log(`Date: ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| benchmark | measured | target | met | detail |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.measured} | ${r.target} | ${r.ok === null ? '—' : r.ok ? 'yes' : '**no**'} | ${r.detail} |`);
if (rows.some((r) => r.ok === false)) process.exitCode = 1;
