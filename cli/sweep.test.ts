// `migsim sweep` through the built CLI: the same CSVs whatever the number of threads, the
// summary against statistics computed here from points.csv, bad sweep files (exit 2 naming
// the key, nothing written), Ctrl-C and --resume (exit 130, then the same CSVs as a whole run).

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { writeGridSweep } from '../test/support/sweep-files.js';

const work = mkdtempSync(join(tmpdir(), 'migsim-sweep-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function migsim(...args: string[]) {
  return spawnSync(process.execPath, [join(process.cwd(), 'bin/migsim.js'), ...args], { encoding: 'utf8', cwd: work });
}

const sweepFile = (name: string, seeds: number): string => writeGridSweep(work, name, seeds);
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
type Row = Record<string, string>;
const csv = (text: string): Row[] => parse(text, { columns: true });

// Student's t, 0.975 quantile, 4 degrees of freedom, from a printed table
const T975_4 = 2.776;

describe('migsim sweep', () => {
  const file = sweepFile('grid', 5);
  const one = join(work, 'one');
  const two = join(work, 'two');
  const r1 = migsim('sweep', file, '--workers', '1', '--out', one);
  const r2 = migsim('sweep', file, '--workers', '2', '--out', two);

  it('runs every point × seed and says where the files are', () => {
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/sweep grid: 6 points × 5 seeds = 30 runs, 1 worker thread/);
    expect(r1.stdout).toContain(`wrote ${join(one, 'points.csv')}`);
    expect(r1.stdout).toContain(`wrote ${join(one, 'sweep.html')}`);
    // the page: one mean chart per metric and varied field, each an inline SVG
    expect(read(one, 'sweep.html')).toMatch(/<svg[^>]*class="marks"/);
    expect(read(one, 'sweep.html')).not.toMatch(/<script/);
    const rows = csv(read(one, 'points.csv'));
    expect(rows).toHaveLength(30);
    expect(rows.map((r) => `${r.point}/${r['network.migrationLink.bandwidth']}/${r['migrations[0].downtimeLimit']}/${r.seed}`).slice(0, 6)).toEqual([
      '0/1Gbit/s/5ms/1', '0/1Gbit/s/5ms/2', '0/1Gbit/s/5ms/3', '0/1Gbit/s/5ms/4', '0/1Gbit/s/5ms/5', '1/1Gbit/s/30ms/1',
    ]);
    expect(new Set(rows.map((r) => r.outcome))).toEqual(new Set(['completed']));
  });

  it('writes byte-identical CSVs with 1 and 2 worker threads', () => {
    expect(r2.status, r2.stderr).toBe(0);
    expect(read(two, 'points.csv')).toBe(read(one, 'points.csv'));
    expect(read(two, 'summary.csv')).toBe(read(one, 'summary.csv'));
  });

  it('summarizes each point as statistics computed independently from points.csv say', () => {
    const points = csv(read(one, 'points.csv'));
    const summary = csv(read(one, 'summary.csv'));
    for (const metric of ['downtimeMs', 'totalTimeMs', 'pagesSent']) {
      for (let p = 0; p < 6; p++) {
        const xs = points.filter((r) => r.point === String(p)).map((r) => Number(r[metric]));
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
        const s = summary.find((r) => r.point === String(p) && r.metric === metric)!;
        expect(Number(s.n)).toBe(5);
        expect(Number(s.mean)).toBeCloseTo(mean, 6);
        expect(Number(s.sd)).toBeCloseTo(sd, 6);
        const half = (T975_4 * sd) / Math.sqrt(5);
        expect(Math.abs(Number(s.ci95High) - (mean + half))).toBeLessThanOrEqual(1e-3 * Math.max(1, sd));
        expect(Math.abs(Number(s.ci95Low) - (mean - half))).toBeLessThanOrEqual(1e-3 * Math.max(1, sd));
        expect(Number(s.min)).toBe(Math.min(...xs));
        expect(Number(s.max)).toBe(Math.max(...xs));
      }
    }
    // a faster link moves the same guest sooner
    const mean = (p: number) => Number(summary.find((r) => r.point === String(p) && r.metric === 'totalTimeMs')!.mean);
    expect(mean(0)).toBeGreaterThan(mean(2));
    expect(mean(2)).toBeGreaterThan(mean(4));
  });

  it('refuses a bad key with exit 2 naming the sweep file, the key and the base field, before anything runs', () => {
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, 'sweep: bad\nbase: base.yaml\nvary:\n  migrations[0].downtimeLimt: [5ms]\n');
    const r = migsim('sweep', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^migsim: .*bad\.yaml: vary migrations\[0\]\.downtimeLimt: 5ms: base base\.yaml field migrations\[0\]\.downtimeLimt: unknown key/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(join(work, 'results'))).toBe(false);
  });

  it('refuses bad flags with one line each', () => {
    expect(migsim('sweep', file, '--workers', '0').stderr).toMatch(/^migsim: --workers "0": expected a whole number from 1 to 256\n$/);
    expect(migsim('sweep', file, '--queue', 'http://x').stderr).toMatch(/^migsim: --queue "http:\/\/x": expected redis:\/\/HOST:PORT/);
    expect(migsim('sweep', file, '--out', one).stderr).toMatch(/exists and is not an empty directory/);
    const r = migsim('sweep', join(work, 'none.yaml'));
    expect([r.status, r.stderr]).toEqual([2, `migsim: ${join(work, 'none.yaml')}: could not read the sweep file (ENOENT)\n`]);
  });

  it('refuses to resume a directory another sweep made', () => {
    const other = sweepFile('other', 2);
    const r = migsim('sweep', other, '--resume', one);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/made by sweep "grid"/);
  });

  it('resumes after Ctrl-C, and after a torn journal line, to the same files', async () => {
    const long = sweepFile('long', 200);
    const whole = join(work, 'whole');
    expect(migsim('sweep', long, '--workers', '2', '--out', whole).status).toBe(0);
    const cut = join(work, 'cut');
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/migsim.js'), 'sweep', long, '--workers', '2', '--out', cut], { cwd: work });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const journal = join(cut, 'runs.ndjson');
    const t0 = Date.now();
    while (!(existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 20) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(status).toBe(130);
    expect(stderr).toContain(`--resume ${cut}`);
    expect(existsSync(join(cut, 'points.csv'))).toBe(false);
    const kept = readFileSync(journal, 'utf8').split('\n').filter(Boolean).length;
    expect(kept).toBeGreaterThan(20);
    expect(kept).toBeLessThan(1200);
    appendFileSync(journal, '{"point":3,"seed":1,"rows":[{"vm":"vm'); // a run cut off mid-write
    const r = migsim('sweep', long, '--resume', cut);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${1200 - kept} runs in`);
    expect(r.stdout).toContain(`${kept} from the earlier run`);
    expect(read(cut, 'points.csv')).toBe(read(whole, 'points.csv'));
    expect(read(cut, 'summary.csv')).toBe(read(whole, 'summary.csv'));
  });

  it('resumes the newest run of the sweep under results/ when given no directory', () => {
    const f = sweepFile('newest', 2);
    expect(migsim('sweep', f).status).toBe(0);
    const [dir] = readdirSync(join(work, 'results', 'newest'));
    unlinkSync(join(work, 'results', 'newest', dir!, 'points.csv'));
    const r = migsim('sweep', f, '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 runs in');
    expect(r.stdout).toContain('12 from the earlier run');
    expect(existsSync(join(work, 'results', 'newest', dir!, 'points.csv'))).toBe(true);
  });
});
