// The CLI as users run it: the built binary in a child process, exit codes, files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'migsim-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function migsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/migsim.js'), ...args], { encoding: 'utf8', cwd: process.cwd() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

const small = `name: small
hosts: [h1, h2]
vms:
  - { name: vm1, host: h1, memory: 64MiB, workload: { kind: hotset, writeRate: 5000/s, hotset: 4MiB } }
migrations:
  - { vm: vm1, to: h2, at: 1s }
`;

describe('migsim run', () => {
  it('prints the table and writes the result file', () => {
    const out = join(work, 'q.json');
    const r = migsim('run', 'scenarios/quickstart.yaml', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/quickstart\s+vm1\s+h1→h2\s+precopy\s+completed/);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.version).toBe(1);
    expect(result.migrations[0].memoryVerified).toBe(true);
    expect(result.migrations[0].dhcpRebindMs).toBeNull();
  });

  it('writes results/<scenario>/sim-<timestamp>.json by default', () => {
    const dir = mkdtempSync(join(work, 'cwd-'));
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/migsim.js'), 'run', file('s.yaml', small)], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readdirSync(join(dir, 'results', 'small'))[0]).toMatch(/^sim-\d{4}-\d\d-\d\dT.*\.json$/);
  });

  it('same seed: byte-identical JSON apart from the wall-clock fields; --seed changes it', () => {
    const path = file('d.yaml', small);
    const a = JSON.parse(migsim('run', path, '--json', '--out', join(work, 'a.json')).out);
    const b = JSON.parse(migsim('run', path, '--json', '--out', join(work, 'b.json')).out);
    const c = JSON.parse(migsim('run', path, '--json', '--seed', '9', '--out', join(work, 'c.json')).out);
    delete a.wallClock;
    delete b.wallClock;
    delete c.wallClock;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('bad input: exit 2, naming the file, the field path and what was expected; nothing run', () => {
    const bad = file('bad.yaml', small.replace('memory: 64MiB', 'memory: 64 megs'));
    const r = migsim('run', bad, file('good.yaml', small));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:4:`);
    expect(r.err).toContain('vms[0].memory');
    expect(r.err).toMatch(/expected a size/);
    expect(r.out).toBe('');
  });

  it('unknown keys, bad units and impossible values are each refused', () => {
    const cases: [string, RegExp][] = [
      [small.replace('at: 1s', 'at: 1s, colour: red'), /migrations\[0\]\.colour/],
      [small.replace('writeRate: 5000/s', 'writeRate: 5000'), /writeRate/],
      [small.replace('to: h2', 'to: h1'), /already on h1/],
      [small.replace('host: h1,', 'host: h9,'), /vms\[0\]\.host/],
    ];
    for (const [text, msg] of cases) {
      const r = migsim('validate', file('c.yaml', text));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });

  it('an unreadable file is bad input, not a crash', () => {
    const r = migsim('run', join(work, 'missing.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/could not read/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
  });

  it('what this version cannot run is refused by field, never ignored', () => {
    const r = migsim('run', file('sw.yaml', small + 'switch: { vdp: extended }\n'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/duration: .*needs a duration/);
    // the testbed runs no post-copy: refused by field before anything touches Docker
    const pc = migsim('run', 'scenarios/modes/postcopy.yaml', '--engine', 'testbed');
    expect(pc.code).toBe(2);
    expect(pc.err).toMatch(/migrations\[0\]\.mode: postcopy is not run by the testbed/);
  });
});

describe('migsim check', () => {
  it('exits 0 when every bound holds and 1 listing each failed bound with its measured value', () => {
    expect(migsim('check', 'scenarios/quickstart.yaml').code).toBe(0);
    const tight = file('tight.yaml', small + 'expect:\n  vm1.downtimeMs: { max: 0.001 }\n  vm1.rounds: { min: 1 }\n');
    const r = migsim('check', tight);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL small: vm1\.downtimeMs = [\d.]+ \(expected ≤ 0\.001\)/);
    expect(r.out).toMatch(/ok {3}small: vm1\.rounds = 1/);
  });
});

describe('migsim validate', () => {
  it('accepts every shipped scenario and explains the defaults', () => {
    expect(migsim('validate', 'scenarios/quickstart.yaml', 'scenarios/concurrent.yaml').code).toBe(0);
    const r = migsim('validate', '--explain');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/downtimeLimit\s+300ms/);
  });
});
