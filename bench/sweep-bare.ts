// The yardstick of the sweep benchmark (bench/sweep.ts): the same sweep file's points, planned
// the same way, run one after the other in this process with nothing around them — no
// threads, no journal, no CSV, no figures. Prints the loop's own time. With `K N`, only every
// N-th point from the K-th (two of these side by side show what two cores give this work).
//   node dist/bench/sweep-bare.js SWEEP.yaml [K N]

import { loadSweepFile } from '../model/sweep/file.js';
import { planSweep } from '../model/sweep/points.js';
import { runScenario } from '../sim/engine.js';

const plan = planSweep(loadSweepFile(process.argv[2]!));
const [k, n] = [Number(process.argv[3] ?? 0), Number(process.argv[4] ?? 1)];
let verified = 0;
let runs = 0;
const t0 = performance.now();
for (const p of plan.points.filter((_, i) => i % n === k)) {
  for (const seed of plan.seeds) {
    if (runScenario(p.scenario, { seed }).migrations[0]!.memoryVerified) verified++;
    runs++;
  }
}
console.log(`loop ${(performance.now() - t0).toFixed(1)} ms, ${runs} runs, ${verified} verified`);
