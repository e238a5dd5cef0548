import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, newRunDir, SweepWriteError } from './journal.js';

const dir = mkdtempSync(join(tmpdir(), 'migsim-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (point: number) => ({ point, seed: 1, rows: [{ vm: 'vm1', downtimeMs: point }] });

describe('the journal', () => {
  it('gathers lines and writes them in order, each a run', () => {
    const j = new Journal(dir);
    for (let p = 0; p < 300; p++) j.append(run(p)); // one flush at 256, the rest on flush()
    expect(readFileSync(join(dir, 'runs.ndjson'), 'utf8').split('\n').filter(Boolean)).toHaveLength(256);
    j.flush();
    const lines = readFileSync(join(dir, 'runs.ndjson'), 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).point)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('that cannot be written stops the sweep: the error names the file and why, and every later run is refused', () => {
    const j = new Journal(join(dir, 'gone'));
    j.append(run(0));
    let err: unknown;
    try {
      j.flush();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SweepWriteError);
    expect((err as Error).message).toBe(`${join(dir, 'gone', 'runs.ndjson')}: could not be written (ENOENT); the sweep stops, the runs written before are kept`);
    expect(() => j.append(run(1))).toThrow(SweepWriteError);
  });

  it('says which directory could not be made, before anything runs', () => {
    let err: SweepWriteError | null = null;
    try {
      newRunDir(join(dir, 'runs.ndjson'), 'sweep', 'stamp'); // a file where a directory should be
    } catch (e) {
      err = e as SweepWriteError;
    }
    expect(err?.before).toBe(true);
    expect(err?.message).toMatch(/sweep's directory could not be made \((ENOTDIR|EEXIST)\)$/);
  });
});
