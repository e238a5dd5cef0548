// `npm run bench:testbed`: the Docker testbed's benchmarks (one a file in bench/testbed/),
// side by side in one run, printed as Markdown rows like bench/run.ts. Usage, needs and
// `--quick`: bench/RESULTS.md ("How they run", in the testbed section).

import { loadavg } from 'node:os';
import { benchArgs, machineLine, printRows, type Row } from './report.js';
import { docker, log } from './testbed/kit.js';
import { forwarding } from './testbed/forwarding.js';
import { rebind } from './testbed/rebind.js';
import { transfer } from './testbed/transfer.js';

const { only, quick } = benchArgs();

const benches: Record<string, () => Promise<Row[]>> = { transfer, forwarding, rebind };
if (only && !(only in benches)) {
  process.stderr.write(`--only ${only}: expected one of ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}

const rows: Row[] = [];
/** the 1-minute load average as each benchmark started: other work on the machine shows here */
const loads: string[] = [];
for (const [name, fn] of Object.entries(benches)) {
  if (only && only !== name) continue;
  loads.push(`${name} ${loadavg()[0]!.toFixed(2)}`);
  log(`${name}${quick ? ' (quick)' : ''}…`);
  const t0 = Date.now();
  try {
    rows.push(...(await fn()));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`${name} failed: ${msg}`);
    rows.push({ name, measured: 'failed', target: '', ok: false, detail: msg.split('\n')[0]! });
  }
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

let dockerVersion = 'unknown';
try {
  dockerVersion = (await docker.version()).Version;
} catch {
  // no engine: every row above failed already
}
console.log(machineLine([`Docker ${dockerVersion}`]));
console.log(`Date: ${new Date().toISOString().slice(0, 10)}${quick ? ' (--quick)' : ''}; 1-minute load average at each benchmark's start: ${loads.join(', ')}\n`);
printRows(rows);
