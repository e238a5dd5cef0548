// The report pages in a real browser (Debian's chromium, headless, bench/headless.ts), opened
// from file:// as a reader would: no console error, no request at all, and as many marks as the
// data implies — counted in the DOM and worked out here from the result JSON and the sweep
// fixture. Without chromium this fails, saying so: CI installs it (.ci/run).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchHeadless, type Headless } from '../bench/headless.js';
import type { RunResult } from '../model/result/format.js';
import { loadScenario } from '../model/scenario/load.js';
import { runPage } from '../report/run-page.js';
import { SWEEP_FIXTURE } from '../report/sweep-fixture.js';
import { sweepPage } from '../report/sweep-page.js';
import { runScenario } from '../sim/engine.js';

const work = mkdtempSync(join(tmpdir(), 'migsim-browser-'));
let browser: Headless | null = null;
let result: RunResult;
/** why chromium cannot run here: every test then fails with it (never skips) */
let missing: string | null = null;

/** A page opened from disk, with every console error, page error and request it made. */
async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  if (missing !== null || browser === null) throw new Error(`the browser test needs chromium: ${missing ?? 'it did not start'}`);
  const page = await browser.context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(file).href) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

beforeAll(async () => {
  missing = chromiumMissing();
  if (missing === null) browser = await launchHeadless();
  // the result as a file holds it (JSON), from an in-process run of the scenario
  result = JSON.parse(JSON.stringify(runScenario(loadScenario('scenarios/rebind/extended-leasequery-query.yaml')))) as RunResult;
  writeFileSync(join(work, 'run.html'), await runPage([{ name: 'extended-leasequery-query.json', result }]));
  writeFileSync(join(work, 'sweep.html'), await sweepPage(SWEEP_FIXTURE));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the report of scenarios/rebind/extended-leasequery-query.yaml', () => {
  it('opens from disk with no console error and no request', async () => {
    const { page, errors, requests } = await open(join(work, 'run.html'));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.title()).toBe(`migsim report: ${result.scenario}`);
    await page.close();
  });

  it('has as many marks as the result implies', async () => {
    const { page } = await open(join(work, 'run.html'));
    const m = result.migrations[0]!;
    const fig = (chart: string) => `figure[data-chart="${chart}"][data-migration="0"]`;
    // rounds: pages sent and dirty at the end, a bar each per round; durations: each round and the paused transfer
    expect(await count(page, `${fig('rounds')} g.mark-rect.role-mark path`)).toBe(2 * m.rounds.length);
    expect(await count(page, `${fig('durations')} g.mark-rect.role-mark path`)).toBe(m.rounds.length + (m.stopCopy ? 1 : 0));
    // timeline spans: the rounds, the paused transfer, and each data-plane loss the result measured above 0
    const spans = m.rounds.length + (m.stopCopy ? 1 : 0) + (m.sourceGuardDrops! > 0 ? 1 : 0) + (m.serviceInterruptionMs! > 0 ? 1 : 0) + (m.multicastGapMs !== null ? 1 : 0);
    // instants: the migration's own, and the switch's events about this VM from the start to the
    // last rebind the result measured (the IGMP join, igmpRebindMs after the resume)
    const mac = result.network!.macs![m.vm]!;
    const until = m.resumeMs! + Math.max(m.dhcpRebindMs!, m.igmpRebindMs!);
    const kinds = ['vdp-request', 'fdb-move', 'leasequery-sent', 'leasequery-reply', 'binding-moved', 'igmp-query-sent', 'igmp-join', 'assist-sent'];
    const events = result.network!.events.filter((e) => kinds.includes(e.kind) && (e.mac === mac || e.to === mac) && e.t >= m.startMs && e.t <= until);
    const own = [m.startMs, m.switchoverMs, m.resumeMs, m.endMs, m.gaveUpMs].filter((t) => t !== null).length;
    expect(events.length).toBeGreaterThanOrEqual(9);
    expect(await count(page, `${fig('timeline')} g.mark-rect.role-mark path`)).toBe(spans);
    expect(await count(page, `${fig('timeline')} g.mark-symbol.role-mark path`)).toBe(own + events.length);
    // and the table under it lists each mark
    expect(await count(page, 'table[data-table="timeline"] tbody tr')).toBe(spans + own + events.length);
    await page.close();
  });
});

describe('a sweep page (the fixture of report/sweep-fixture.ts)', () => {
  it('opens from disk with no console error and no request, with a point per mean and the front worked out here', async () => {
    const { page, errors, requests } = await open(join(work, 'sweep.html'));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    const s = SWEEP_FIXTURE.summary;
    const col = (name: string) => s.columns.indexOf(name);
    const means = (metric: string) => s.rows.filter((r) => r[col('metric')] === metric && r[col('mean')] !== null);
    for (const metric of ['downtimeMs', 'totalTimeMs', 'rounds', 'pagesSent']) {
      for (const v of SWEEP_FIXTURE.varied) {
        const sel = `figure[data-chart="mean"][data-metric="${metric}"][data-field="${v.key}"] g.mark-symbol.role-mark path`;
        expect(await count(page, sel), `${metric} × ${v.key}`).toBe(means(metric).length);
      }
    }
    expect(await count(page, 'figure[data-chart="mean"][data-metric="dhcpRebindMs"]')).toBe(0);
    expect(await count(page, 'figure[data-chart="heatmap"][data-metric="downtimeMs"] g.mark-rect.role-mark path')).toBe(means('downtimeMs').length);
    // the front: points no other point is at least as good as on both means, and better on one
    const pts = means('downtimeMs').map((d) => ({ y: d[col('mean')] as number, x: means('totalTimeMs').find((t) => t[0] === d[0])![col('mean')] as number }));
    const front = pts.filter((a) => !pts.some((b) => b !== a && b.x <= a.x && b.y <= a.y && (b.x < a.x || b.y < a.y)));
    const layers = await page.locator('figure[data-chart="pareto"] g.mark-symbol.role-mark').evaluateAll((gs) => gs.map((g) => g.querySelectorAll('path').length));
    expect(layers).toEqual([pts.length, front.length]);
    await page.close();
  });
});
