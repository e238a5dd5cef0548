// The run report page on hand-made results (run-fixture.ts): self-contained, its marks as many
// as the result implies, a failed migration said prominently, a null never shown as 0 but as
// "not measured" with its reason, a lower bound as "≥", and several results compared.

import { beforeAll, describe, expect, it } from 'vitest';
import { failedMigration, UNMEASURED_NETWORK } from '../model/result/format.js';
import { EVENTS, move, result } from './run-fixture.js';
import { runPage } from './run-page.js';
import { figuresOf, marksOf } from './svg-marks-fixture.js';

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const metricRow = (html: string, migration: number, label: string): string => {
  const t = new RegExp(`<table data-table="metrics" data-migration="${migration}">[\\s\\S]*?</table>`).exec(html)![0];
  return new RegExp(`<tr><td>${label.replace(/[()]/g, '\\$&')}</td>(.*?)</tr>`).exec(t)![1]!;
};

describe('one result', () => {
  const r = result([move({})], EVENTS);
  let html = '';
  beforeAll(async () => {
    html = await runPage([{ name: 'r.json', result: r }]);
  });

  it('is one self-contained page: no script, nothing fetched, a policy that forbids fetching', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\s(src|href)=/i);
  });

  it('the rounds chart: two bars a round; the durations chart: a bar a round and one for the paused transfer', () => {
    const m = r.migrations[0]!;
    expect(sum(marksOf(figuresOf(html, 'rounds')[0]!.svg, 'rect'))).toBe(2 * m.rounds.length);
    expect(sum(marksOf(figuresOf(html, 'durations')[0]!.svg, 'rect'))).toBe(m.rounds.length + 1);
  });

  it('the timeline: a bar per span and a point per instant, as many as its table lists', () => {
    const svg = figuresOf(html, 'timeline')[0]!.svg;
    // spans: 2 rounds, the paused transfer, the drops, the interruption, the gap; instants: 20 − 6
    expect(marksOf(svg, 'rect')).toEqual([6]);
    expect(marksOf(svg, 'symbol')).toEqual([14]);
    const rows = /<table data-table="timeline" data-migration="0">[\s\S]*?<\/table>/.exec(html)![0].match(/<tr>/g)!.length - 1;
    expect(rows).toBe(20);
  });

  it('prints the measured figures in their units', () => {
    expect(metricRow(html, 0, 'downtime')).toContain('10.0 ms');
    expect(metricRow(html, 0, 'source-guard drops')).toContain('>4<');
  });
});

describe('nulls and failures', () => {
  const failed = failedMigration('vm1', 'h1', 'h2', 'precopy', 'h2 is down (crashed at 3s): the destination cannot be reached', 3000);
  const reasoned = move({ ...UNMEASURED_NETWORK, sourceGuardDrops: 7, lowerBounds: ['sourceGuardDrops'], unmeasured: { serviceInterruptionMs: 'the probe died at 1.40 s' } });
  const r = result([failed, reasoned], EVENTS);
  let html = '';
  beforeAll(async () => {
    html = await runPage([{ name: 'r.json', result: r }]);
  });

  it('a failed migration says so prominently, with its reason', () => {
    expect(html).toContain('<div class="failed" role="alert" data-outcome="failed">MIGRATION FAILED: h2 is down (crashed at 3s): the destination cannot be reached</div>');
    expect(html).toContain('1 of 2 migrations FAILED');
  });

  it('a null is "not measured: <reason>", never 0', () => {
    expect(metricRow(html, 0, 'downtime')).toContain('not measured: the migration failed (h2 is down');
    expect(metricRow(html, 0, 'downtime')).not.toMatch(/>0/);
    // the reason the result gives, when it gives one
    expect(metricRow(html, 1, 'service interruption (probe)')).toContain('not measured: the probe died at 1.40 s');
    // otherwise what null means for that field
    expect(metricRow(html, 1, 'DHCP rebind (from resume)')).toContain('not measured: the switch did not bind the VM&#39;s address to its new port within the move&#39;s window');
    expect(metricRow(html, 1, 'DHCP rebind (from resume)')).toContain('class="unmeasured"');
  });

  it('a lower bound reads "≥"', () => {
    expect(metricRow(html, 1, 'source-guard drops')).toContain('≥ 7 (the run ended first)');
  });

  it('no data network: its figures are not measured, and why', async () => {
    const plain = { ...result([move({ ...UNMEASURED_NETWORK, networkTimes: UNMEASURED_NETWORK.networkTimes })], []), network: null };
    const page = await runPage([{ name: 'p.json', result: plain }]);
    expect(metricRow(page, 0, 'multicast gap')).toContain('not measured: the run had no data network');
  });
});

describe('many migrations', () => {
  it('charts the first ones only; the rest show their figures', async () => {
    const r = result([move({}), move({ vm: 'vm2' }), move({ vm: 'vm3' })], EVENTS);
    const html = await runPage([{ name: 'r.json', result: r }], 0.1, 2);
    expect(figuresOf(html, 'timeline').map((f) => f.attrs.migration)).toEqual(['0', '1']);
    expect(html.match(/data-table="metrics"/g)).toHaveLength(3);
    expect(html).toContain('Migrations from 2 on: their figures only, no charts.');
  });
});

describe('several results', () => {
  it('a comparison table against the first, flagged beyond the tolerance, and their charts side by side', async () => {
    const a = result([move({})], EVENTS);
    const b = result([move({ downtimeMs: 12, totalTimeMs: 311 })], EVENTS);
    const html = await runPage([{ name: 'a.json', result: a }, { name: 'b.json', result: b }], 0.1);
    const table = /<table data-table="comparison">[\s\S]*?<\/table>/.exec(html)![0];
    // downtime 10 → 12: +20 %, beyond ±10 %; total 310 → 311: +0.3 %, not flagged
    expect(table).toMatch(/downtimeMs<\/td><td class="num">10\.0 ms<\/td><td class="num">12\.0 ms<\/td><td class="num flag">\+20\.0 % \(beyond ±10 %\)/);
    expect(table).toMatch(/totalTimeMs<\/td><td class="num">310\.0 ms<\/td><td class="num">311\.0 ms<\/td><td class="num">\+0\.3 %<\/td>/);
    expect(figuresOf(html, 'timeline')).toHaveLength(2);
    expect(html).toContain('<div class="columns" style="--n: 2">');
  });
});
