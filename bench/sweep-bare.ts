// The yardstick of the sweep benchmark (bench/sweep.ts): the same sweep file's points, planned
// the same way, run one after the other in this process with nothing around them — no
// threads, no journal, no CSV, no figures.
//   node dist/bench/sweep-bare.js SWEEP.yaml

import { loadSweepFile } from '../model/sweep/file.js';
import { planSweep } from '../model/sweep/points.js';
import { runScenario } from '../sim/engine.js';

const plan = planSweep(loadSweepFile(process.argv[2]!));
let verified = 0;
for (const p of plan.points) for (const seed of plan.seeds) if (runScenario(p.scenario, { seed }).migrations[0]!.memoryVerified) verified++;
console.log(`verified ${verified}`);
