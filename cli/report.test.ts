// `migsim report` and `migsim run --report` as users run them: the built binary in a child
// process, where the page goes, what it holds, and bad input — a file that is no result, a
// field of the wrong type, an --out that cannot be written — as one line and exit 2.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'migsim-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function migsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/migsim.js'), ...args], { encoding: 'utf8', cwd: process.cwd() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const A = join(work, 'a.json');
const B = join(work, 'b.json');
beforeAll(() => {
  expect(migsim('run', 'scenarios/rebind/extended-leasequery-query.yaml', '--quiet', '--out', A, '--report').code).toBe(0);
  expect(migsim('run', 'scenarios/rebind/standard-none-none.yaml', '--quiet', '--out', B).code).toBe(0);
}, 60_000);

describe('migsim run --report', () => {
  it('writes the page beside the result and names it', () => {
    const html = readFileSync(join(work, 'a.html'), 'utf8');
    expect(html).toContain('<h1>migsim report: rebind-extended-leasequery-query</h1>');
    expect(html).toContain('data-chart="timeline"');
    expect(html).toContain('data-chart="rounds"');
  });

  it('without --report, no page', () => {
    expect(existsSync(join(work, 'b.html'))).toBe(false);
  });

  it('a page that could not be written is refused before anything runs', () => {
    mkdirSync(join(work, 'c.html'));
    const r = migsim('run', 'scenarios/quickstart.yaml', '--quiet', '--out', join(work, 'c.json'), '--report');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`--report: cannot write ${join(work, 'c.html')}: is a directory`);
    expect(existsSync(join(work, 'c.json'))).toBe(false);
  });
});

describe('migsim report', () => {
  it('beside the first result by default; several results compared', () => {
    const r = migsim('report', B, A);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`report: ${join(work, 'b.html')}\n`);
    const html = readFileSync(join(work, 'b.html'), 'utf8');
    expect(html).toContain('data-table="comparison"');
    expect(html.match(/data-chart="timeline"/g)).toHaveLength(2);
  });

  it('--out names the page', () => {
    const out = join(work, 'sub', 'x.html');
    expect(migsim('report', A, '--out', out).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('a result written before the report\'s extensions still makes a page, which says what it cannot show', () => {
    const r = JSON.parse(readFileSync(A, 'utf8'));
    for (const m of r.migrations) {
      delete m.networkTimes;
      for (const round of m.rounds) delete round.startMs;
      delete m.stopCopy.startMs;
    }
    delete r.network.macs;
    const old = join(work, 'old.json');
    writeFileSync(old, JSON.stringify(r));
    expect(migsim('report', old).code).toBe(0);
    const html = readFileSync(join(work, 'old.html'), 'utf8');
    expect(html).toContain('does not record when its rounds started');
    expect(html).toContain('does not name vm1&#39;s MAC');
  });

  it('bad input: one line naming the file and the field, exit 2, no page', () => {
    const bad = (name: string, text: string) => {
      const p = join(work, name);
      writeFileSync(p, text);
      return p;
    };
    const r0 = JSON.parse(readFileSync(A, 'utf8'));
    r0.migrations[0].rounds[0].durationMs = 'fast';
    const cases: [string, RegExp][] = [
      [bad('t.json', 'not json'), /t\.json: not a result file: /],
      [bad('u.json', '{"version": 2}'), /u\.json: not a migsim result \(version 1\): version: /],
      [bad('v.json', JSON.stringify(r0)), /v\.json: not a migsim result \(version 1\): migrations\[0\]\.rounds\[0\]\.durationMs: /],
      [join(work, 'missing.json'), /missing\.json: cannot read: /],
    ];
    for (const [file, message] of cases) {
      const r = migsim('report', file);
      expect(r.code, file).toBe(2);
      expect(r.err.trim().split('\n'), file).toHaveLength(1);
      expect(r.err, file).toMatch(message);
      expect(r.err).not.toMatch(/\s+at\s/);
      expect(existsSync(file.replace(/\.json$/, '.html'))).toBe(false);
    }
  });

  it('an --out that cannot be written, or a bad --tolerance: exit 2', () => {
    expect(migsim('report', A, '--out', work).code).toBe(2);
    const t = migsim('report', A, '--tolerance', 'lots');
    expect(t.code).toBe(2);
    expect(t.err).toContain('--tolerance: expected a share such as 10% or 0.1, got "lots"');
  });
});
