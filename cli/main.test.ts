// The CLI as users run it: the built binary in a child process, exit codes, files.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStem } from './outputs.js';

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
    // a scenario fault on a post-copy migration is refused by that migration's mode, not ignored
    const cancel = migsim('run', 'scenarios/faults/cancel.yaml', '--engine', 'testbed');
    expect(cancel.code).toBe(2);
    expect(cancel.err).toMatch(/migrations\[2\]\.mode: postcopy is not run by the testbed/);
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

// ---- every input gets a clear answer: exit status, one line naming the problem, no stack ----

/** stderr is exactly one non-empty line, and no line of a stack trace. */
function oneLine(err: string): string {
  expect(err).not.toMatch(/^\s+at /m);
  const lines = err.split('\n').filter((l) => l.trim() !== '');
  expect(lines, err).toHaveLength(1);
  return lines[0]!;
}

function migsimIn(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; node?: string[] } = {}) {
  const r = spawnSync(process.execPath, [...(opts.node ?? []), join(process.cwd(), 'bin/migsim.js'), ...args], {
    encoding: 'utf8', cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
}

/**
 * A pre-copy that takes the sim seconds of wall time (~3 s here), within the loader's
 * limits: no-convergence-plain's guest for 60 rounds instead of 30.
 */
const slow = `name: slow
hosts: [h1, h2]
network:
  migrationLink: { bandwidth: 1Gbit/s }
vms:
  - { name: vm1, host: h1, memory: 2GiB, workload: { kind: uniform, writeRate: 100000/s } }
migrations:
  - { vm: vm1, to: h2, at: 1s, maxRounds: 60 }
`;

/** A post-copy the run's duration cuts short: outcome failed (the guest's memory is split between the hosts). */
const cutShort = `name: cut-short
hosts: [h1, h2]
duration: 2s
vms:
  - { name: vm1, host: h1, memory: 4GiB, workload: { kind: hotset, writeRate: 5000/s, hotset: 4MiB } }
migrations:
  - { vm: vm1, to: h2, at: 1s, mode: postcopy }
`;

function withoutWallClock(json: string): string {
  const r = JSON.parse(json);
  delete r.wallClock;
  return JSON.stringify(r);
}

describe('--seed', () => {
  it.each(['abc', '-1', '1.5', '4294967296', '1e3', '0x10', ''])('--seed %j: exit 2, one line naming --seed and the value, nothing run', (seed) => {
    const r = migsim('run', file('seed.yaml', small), '--seed', seed, '--out', join(work, 'seed.json'));
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(new RegExp(`^migsim: --seed ${JSON.stringify(JSON.stringify(seed)).slice(1, -1)}: expected a whole number from 0 to 4294967295`));
    expect(r.out).toBe('');
  });

  it('given twice is refused, naming it', () => {
    const r = migsim('run', file('seed.yaml', small), '--seed', '1', '--seed', '2');
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/--seed given 2 times/);
  });

  it('0, 1 and 2^32−1 are accepted, recorded, and give different runs', () => {
    const path = file('seeds.yaml', small);
    const runs = ['0', '1', '4294967295'].map((seed) => {
      const r = migsim('run', path, '--json', '--seed', seed, '--out', join(work, `seed-${seed}.json`));
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).seed).toBe(Number(seed));
      return withoutWallClock(r.out).replace(/"seed":\d+/, '');
    });
    expect(new Set(runs).size).toBe(3);
  });
});

describe('--out is checked before the run', () => {
  const q = 'scenarios/quickstart.yaml';

  it('a .json --out that is an existing directory', () => {
    const dir = join(work, 'existing.json');
    mkdirSync(dir, { recursive: true });
    const r = migsim('run', q, '--out', dir);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(`migsim: --out ${dir}: is a directory`);
    expect(r.out).toBe('');
  });

  it('--out DIR/ (a trailing slash) writes into the directory, also when it ends in .json', () => {
    const dir = join(work, 'into.json');
    mkdirSync(dir, { recursive: true });
    const r = migsim('run', q, '--out', `${dir}/`);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(dir)).toEqual(['quickstart.json']);
  });

  it.each([
    ['/dev/full', /^migsim: --out \/dev\/full: .*not a directory/],
    ['/proc/result.json', /^migsim: --out \/proc\/result\.json: cannot create a file in \/proc/],
  ])('--out %s: exit 2, one line naming --out, before anything runs', (out, msg) => {
    const r = migsim('run', q, '--out', out);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(msg);
    expect(r.out).toBe('');
  });

  it('a device as a .json --out is refused (its result would be lost); /dev/null is allowed', () => {
    const link = join(work, 'full.json');
    rmSync(link, { force: true });
    symlinkSync('/dev/full', link);
    const r = migsim('run', q, '--out', link);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --out .*full\.json: is not a regular file/);
    const nul = join(work, 'null.json');
    rmSync(nul, { force: true });
    symlinkSync('/dev/null', nul);
    expect(migsim('run', q, '--out', nul).code).toBe(0);
  });

  it('a .json --out in a directory that does not exist', () => {
    const r = migsim('run', q, '--out', join(work, 'no', 'such', 'r.json'));
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --out .*r\.json: its directory .* does not exist/);
  });

  it('a path component longer than 255 bytes', () => {
    const r = migsim('run', q, '--out', join(work, 'x'.repeat(300), 'r.json'));
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --out .*: a path component is too long \(300 bytes; at most 255\)/);
  });

  it('a --out that is a file but not .json (a directory is meant)', () => {
    const f = file('plain.txt', 'x');
    const r = migsim('run', q, '--out', f);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --out .*plain\.txt: not a directory/);
  });

  it('an unwritable directory (as an unprivileged user when the tests run as root)', () => {
    const dir = join(work, 'ro');
    mkdirSync(dir, { recursive: true });
    chmodSync(work, 0o755);
    chmodSync(dir, 0o555);
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const argv = [...asUser, process.execPath, join(process.cwd(), 'bin/migsim.js'), 'run', q, '--out', join(dir, 'r.json')];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    chmodSync(dir, 0o755);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^migsim: --out .*: cannot create a file in .*ro: permission denied/);
  });

  it('a write that fails after the run (file size limit, as a full disk) loses nothing: JSON on stdout, one line, exit 1', () => {
    const out = join(work, 'efbig.json');
    const cmd = `trap '' XFSZ; ulimit -f 0; exec "${process.execPath}" "${join(process.cwd(), 'bin/migsim.js')}" run ${q} --out "${out}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(`migsim: could not write the result of quickstart to ${out}: file too large; it is printed on stdout as JSON instead`);
    expect(r.stdout).toMatch(/quickstart\s+vm1\s+h1→h2/);
    const json = r.stdout.slice(r.stdout.indexOf('{'));
    expect(JSON.parse(json).scenario).toBe('quickstart');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.startsWith('.migsim-'))).toEqual([]);
  });
});

describe('result file names', () => {
  it('a 300-character scenario name: refused by field (exit 2, one line), never a crash on the file name', () => {
    const path = file('long-name.yaml', small.replace('name: small', `name: ${'n'.repeat(300)}`));
    const dir = join(work, 'long-out');
    const r = migsim('run', path, '--out', dir);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/long-name\.yaml:1:\d+: name: expected .*at most \d+/);
    expect(existsSync(dir)).toBe(false);
  });

  it('a name too long for a file name is shortened with a hash (should the loader ever let one through)', () => {
    expect(fileStem('quickstart')).toBe('quickstart');
    const long = fileStem('n'.repeat(300));
    expect(long).toMatch(/^n{191}-[0-9a-f]{8}$/);
    expect(Buffer.byteLength(`${long}-99.events.ndjson`)).toBeLessThanOrEqual(255);
    expect(fileStem('n'.repeat(299))).not.toBe(long);
    expect(fileStem('../../etc/x')).toBe('.._.._etc_x');
  });

  it('two scenarios with the same name in one run do not overwrite each other: -2', () => {
    const a = file('same-a.yaml', small);
    const b = file('same-b.yaml', small.replace('writeRate: 5000/s', 'writeRate: 9000/s'));
    const dir = join(work, 'same-out');
    const r = migsim('run', a, b, '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['small-2.json', 'small.json']);
    expect(JSON.parse(readFileSync(join(dir, 'small.json'), 'utf8')).file).toBe(a);
    expect(JSON.parse(readFileSync(join(dir, 'small-2.json'), 'utf8')).file).toBe(b);
    const cwd = mkdtempSync(join(work, 'cwd-same-'));
    const d = migsimIn(cwd, ['run', a, b]);
    expect(d.code, d.err).toBe(0);
    const files = readdirSync(join(cwd, 'results', 'small'));
    const first = files.find((f) => !f.endsWith('-2.json'))!;
    expect(files.sort()).toEqual([first.replace(/\.json$/, '-2.json'), first].sort());
  });
});

describe('--timeout', () => {
  it('stops a long run: exit 3, one line naming --timeout and the simulated time reached, no result', () => {
    const out = join(work, 'slow.json');
    const t0 = Date.now();
    const r = migsim('run', file('slow.yaml', slow), '--timeout', '1s', '--out', out);
    const ms = Date.now() - t0;
    expect(r.code, r.err).toBe(3);
    expect(oneLine(r.err)).toMatch(/^migsim: --timeout 1s reached: slow stopped at simulated time [\d.]+ (s|m \d\d s|h \d\d m) \(0\/1 migrations done\), no result for it$/);
    expect(ms).toBeLessThan(8000);
    expect(existsSync(out)).toBe(false);
  });

  it('bounds the whole command: the scenarios before keep their results, the rest are not run', () => {
    const dir = join(work, 'timeout-dir');
    const r = migsim('run', 'scenarios/quickstart.yaml', file('slow.yaml', slow), 'scenarios/idle.yaml', '--timeout', '1s', '--out', dir);
    expect(r.code, r.err).toBe(3);
    expect(oneLine(r.err)).toMatch(/slow stopped at .*; 1 later scenario not run$/);
    expect(r.out).toMatch(/quickstart\s+vm1/);
    expect(readdirSync(dir)).toEqual(['quickstart.json']);
  });

  it('a run within it gives the same result as without (the run moves to a worker thread)', () => {
    for (const f of ['scenarios/quickstart.yaml', 'scenarios/rebind/extended-leasequery-query.yaml']) {
      const plain = migsim('run', f, '--json', '--out', join(work, 'plain.json'));
      const timed = migsim('run', f, '--json', '--timeout', '5m', '--out', join(work, 'timed.json'));
      expect(timed.code, timed.err).toBe(0);
      expect(timed.err).toBe('');
      expect(withoutWallClock(timed.out)).toBe(withoutWallClock(plain.out));
    }
  });

  it.each(['soon', '30', '0s', '-5s', '5 minutes', ''])('--timeout %j: exit 2 naming --timeout', (t) => {
    const r = migsim('run', 'scenarios/quickstart.yaml', `--timeout=${t}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --timeout "[^"]*": expected a duration/);
  });

  it('is refused for a testbed run, which it could not stop part-way', () => {
    const r = migsim('run', 'scenarios/testbed/quickstart.yaml', '--engine', 'testbed', '--timeout', '10m');
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toMatch(/^migsim: --timeout: .* runs on the testbed/);
  });

  it('Ctrl-C (SIGINT) stops the run: exit 130, one line', async () => {
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/migsim.js'), 'run', file('slow.yaml', slow), '--timeout', '1m', '--out', join(work, 'int.json')]);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await closed;
    expect(code).toBe(130);
    expect(oneLine(err)).toBe('migsim: interrupted: slow stopped, no result for it');
  });
});

describe('progress on a terminal', () => {
  const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

  /** Runs migsim under a pseudo-terminal (util-linux script): stdout and stderr together, as a terminal shows them. */
  function onTerminal(args: string[]): string {
    const cmd = [process.execPath, join(process.cwd(), 'bin/migsim.js'), ...args].map((a) => `'${a}'`).join(' ');
    return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' }).stdout;
  }

  it.skipIf(!haveScript)('a run longer than a second shows one updating line on a terminal, and wipes it', () => {
    const shown = onTerminal(['run', file('slow.yaml', slow), '--timeout', '2s', '--out', join(work, 'p.json')]);
    expect(shown).toMatch(/^\r\x1b\[Kmigsim: slow: simulated [\d.]+ .*, migrations 0\/1 done, [\d.]+ s wall(\r\x1b\[Kmigsim: slow: [^\r\n]*)*\r\x1b\[Kmigsim: --timeout 2s reached: [^\r]*\r?\n$/);
  });

  it.skipIf(!haveScript)('none with --quiet, none for a short run', () => {
    expect(onTerminal(['run', file('slow.yaml', slow), '--timeout', '1500ms', '--quiet', '--out', join(work, 'p.json')])).not.toContain('\x1b[K');
    expect(onTerminal(['run', 'scenarios/quickstart.yaml', '--out', join(work, 'p.json')])).not.toContain('\x1b[K');
  });

  it('none when stderr is not a terminal', () => {
    const r = migsim('run', file('slow.yaml', slow), '--timeout', '1500ms', '--out', join(work, 'p.json'));
    expect(r.code).toBe(3);
    expect(r.err).not.toContain('\x1b');
  });
});

describe('exit statuses of run and check', () => {
  it('run exits 1 when a migration fails, with one line naming it', () => {
    const r = migsim('run', file('cut-short.yaml', cutShort), '--out', join(work, 'o.json'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/cut-short\s+vm1\s+h1→h2\s+postcopy\s+failed/);
    expect(oneLine(r.err)).toBe('migsim: migration failed: cut-short/vm1 h1→h2: post-copy had not finished when the run ended at 2s: the guest\'s memory is split between h1 and h2');
    expect(JSON.parse(readFileSync(join(work, 'o.json'), 'utf8')).migrations[0].outcome).toBe('failed');
    // the same with the file's outcome bounded as expected: check decides by the bounds
    const expected = file('cut-short-expected.yaml', cutShort + 'expect:\n  vm1.outcome: { equals: failed }\n');
    expect(migsim('check', expected).code).toBe(0);
  });

  it('check on files with no expect: at all: one line, exit 2, nothing run', () => {
    const r = migsim('check', file('noexp.yaml', small), file('noexp2.yaml', small));
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe('migsim: check: no expect: bounds in any of the 2 files: nothing to check (add an expect: section, or use migsim run)');
    expect(r.out).toBe('');
  });

  it('check with some files to check runs them all and notes the others', () => {
    const r = migsim('check', 'scenarios/quickstart.yaml', file('noexp.yaml', small));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/note: small has no expect: bounds/);
  });

  it('every shipped scenario CI checks has expect: bounds', () => {
    const dirs = ['scenarios', 'scenarios/modes', 'scenarios/rebind', 'scenarios/testbed'];
    const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
    expect(files.filter((f) => !/^expect:/m.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});

describe('internal errors', () => {
  let injected = 0;
  const inject = (code: string): string => file(`inject-${++injected}.mjs`, code);

  it('an unexpected error is one line and exit 70, no stack; MIGSIM_DEBUG=1 adds the stack', () => {
    const boom = inject("Date.prototype.toISOString = function () { throw new TypeError('injected fault'); };\n");
    const r = migsimIn(process.cwd(), ['run', 'scenarios/quickstart.yaml', '--out', join(work, 'i.json')], { node: ['--import', boom] });
    expect(r.code).toBe(70);
    expect(oneLine(r.err)).toBe('migsim: internal error: injected fault (please report it with the command line and the scenario file: see README "Reporting a problem")');
    const d = migsimIn(process.cwd(), ['run', 'scenarios/quickstart.yaml', '--out', join(work, 'i.json')], { node: ['--import', boom], env: { MIGSIM_DEBUG: '1' } });
    expect(d.code).toBe(70);
    expect(d.err).toMatch(/^migsim: internal error: injected fault .*\nTypeError: injected fault\n\s+at /);
  });

  it.each([
    ['an uncaught exception', "setTimeout(() => { throw new RangeError('async fault'); }, 300);\n", 'async fault'],
    ['an unhandled rejection', "setTimeout(() => { Promise.reject(new Error('rejected fault')); }, 300);\n", 'rejected fault'],
  ])('%s is one line and exit 70', (_what, code, msg) => {
    const r = migsimIn(process.cwd(), ['run', file('slow.yaml', slow), '--timeout', '20s', '--out', join(work, 'u.json')], { node: ['--import', inject(code)] });
    expect(r.code).toBe(70);
    expect(oneLine(r.err)).toMatch(new RegExp(`^migsim: internal error: ${msg} \\(please report it`));
  });
});

describe('migsim compare', () => {
  it('shows what changed between two results, exit 0 within the tolerance, 1 beyond it, 2 on a file that is no result', () => {
    const a = join(work, 'cmp-a.json');
    const b = join(work, 'cmp-b.json');
    expect(migsim('run', file('cmp-a.yaml', small), '--out', a, '--quiet').code).toBe(0);
    // the same guest over a link ten times slower: total time grows ~10×
    expect(migsim('run', file('cmp-b.yaml', small + 'network: { migrationLink: { bandwidth: 1Gbit/s } }\n'), '--out', b, '--quiet').code).toBe(0);
    const same = migsim('compare', a, a);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/^0 of 14 values differ; 0 beyond ±10%$/m);
    const slower = migsim('compare', a, b);
    expect(slower.code).toBe(1);
    expect(slower.out).toMatch(/^0 +vm1 +totalTimeMs .* beyond ±10%$/m);
    expect(migsim('compare', a, b, '--tolerance', '100000%').code).toBe(0);
    const json = JSON.parse(migsim('compare', a, b, '--json').out) as { rows: { metric: string; relative: number | null }[] };
    const A = JSON.parse(readFileSync(a, 'utf8')) as { migrations: { totalTimeMs: number }[] };
    const B = JSON.parse(readFileSync(b, 'utf8')) as { migrations: { totalTimeMs: number }[] };
    expect(json.rows.find((r) => r.metric === 'totalTimeMs')!.relative).toBeCloseTo((B.migrations[0]!.totalTimeMs - A.migrations[0]!.totalTimeMs) / A.migrations[0]!.totalTimeMs, 9);
    const bad = migsim('compare', a, file('not-result.json', '{"version": 1, "scenario": "x", "engine": "sim", "migrations": [{"vm": 3}]}'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not-result\.json: not a migsim result \(version 1\): migrations\[0\]\.vm: /);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  });
});
