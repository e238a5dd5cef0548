// `npm run screenshots`: the PNGs of docs/ taken in headless chromium (bench/headless.ts).
//   node dist/bench/screenshots.js                  the report of scenarios/rebind/extended-leasequery-query.yaml → docs/img/report-rebind.png,
//                                                   and the page of scenarios/sweeps/downtime-limit.yaml → docs/img/sweep-downtime-limit.png
//   node dist/bench/screenshots.js PAGE.html OUT.png  any page (a sweep's, say) → a PNG of the whole page
// Exit 0, or 1 with one line saying why.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchHeadless } from './headless.js';
import { loadScenario } from '../model/scenario/load.js';
import { runPage } from '../report/run-page.js';
import { runScenario } from '../sim/engine.js';

const REBIND = 'scenarios/rebind/extended-leasequery-query.yaml';

/** A PNG of the whole page at `html`. */
async function screenshot(html: string, png: string): Promise<void> {
  const b = await launchHeadless();
  try {
    const page = await b.context.newPage();
    await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
    mkdirSync(dirname(resolve(png)), { recursive: true });
    await page.screenshot({ path: png, fullPage: true });
  } finally {
    await b.close();
  }
}

/** The rebind scenario's report, as `migsim run --report` makes it, in a temporary file. */
async function rebindReport(dir: string): Promise<string> {
  const result = runScenario(loadScenario(REBIND));
  const file = join(dir, 'extended-leasequery-query.html');
  writeFileSync(file, await runPage([{ name: 'extended-leasequery-query.json', result }]));
  return file;
}

const SWEEP = 'scenarios/sweeps/downtime-limit.yaml';

/** The sweep's page, as `migsim sweep` writes it, in `out`. */
function sweepPageOf(file: string, out: string): string {
  const r = spawnSync(process.execPath, ['bin/migsim.js', 'sweep', file, '--out', out, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`migsim sweep ${file}: exit ${r.status}: ${r.stderr.trim()}`);
  return join(out, 'sweep.html');
}

async function main(args: string[]): Promise<void> {
  if (args.length === 2) return screenshot(args[0]!, args[1]!);
  if (args.length !== 0) throw new Error('usage: screenshots.js [PAGE.html OUT.png]');
  const dir = mkdtempSync(join(tmpdir(), 'migsim-shots-'));
  try {
    await screenshot(await rebindReport(dir), 'docs/img/report-rebind.png');
    process.stdout.write('docs/img/report-rebind.png\n');
    await screenshot(sweepPageOf(SWEEP, join(dir, 'sweep')), 'docs/img/sweep-downtime-limit.png');
    process.stdout.write('docs/img/sweep-downtime-limit.png\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`screenshots: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
