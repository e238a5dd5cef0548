// The one validation: everything `run` would refuse is found by the loader, in one pass and in
// bounded time — limits (limits.ts), the run's estimate, what the engines cannot run, traces
// read as bounded streams from inside the scenario's directory, and the silent nonsense
// (a non-UTF-8 file, fields a mode ignores, groups no source sends, overlapping migrations).

import { execSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, ftruncateSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioError } from './errors.js';
import { errorsOf, replace, tempDir } from './load-fixture.js';
import { loadScenario, type LoadOptions } from './load.js';
import { estimateRun, LIMITS } from './limits.js';
import { checkSupported, unsupported } from './support.js';

/** Every error loadScenario reports for a file (fails the test if it loads). */
function fileErrors(file: string, opts: LoadOptions = {}): ScenarioError[] {
  try {
    loadScenario(file, opts);
  } catch (e) {
    return [...(e as ScenarioError).errors];
  }
  throw new Error(`${file} loaded without errors`);
}

function writeScenario(text: string | Uint8Array, name = 'x.yaml'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

/** Runs `f`, failing if it takes longer than `ms` (the loader is synchronous: measured, not raced). */
function within<T>(ms: number, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  expect(performance.now() - t0).toBeLessThan(ms);
  return out;
}

const SMALL = `name: small
hosts: [h1, h2]
vms:
  - { name: vm1, host: h1, memory: 1GiB }
migrations:
  - { vm: vm1, to: h2, at: 1s }
`;

describe('limits on single fields, with the limit named', () => {
  it.each([
    ['a 1 PiB VM', replace(SMALL, 'memory: 1GiB', 'memory: 1024TiB'), 'vms[0].memory', /at most 16 TiB \(limit vmMemory\), got "1024TiB"$/],
    ['writeRate 1e15/s', replace(SMALL, 'memory: 1GiB }', 'memory: 1GiB, workload: { kind: uniform, writeRate: 1000000000000000/s } }'), 'vms[0].workload.writeRate', /at most 1000000000\/s \(limit writeRate\)/],
    ['a 1 bit/s migration link', `${SMALL}network: { migrationLink: { bandwidth: 1bit/s } }\n`, 'network.migrationLink.bandwidth', /at least 1 Mbit\/s \(limit bandwidthMin\), got "1bit\/s"$/],
    ['a 1 bit/s link at fidelity: fluid', `${SMALL}fidelity: fluid\nnetwork: { migrationLink: { bandwidth: 1bit/s } }\n`, 'network.migrationLink.bandwidth', /limit bandwidthMin/],
    ['a 1 Pbit/s link', `${SMALL}network: { accessLink: { bandwidth: 1000Tbit/s } }\n`, 'network.accessLink.bandwidth', /at most 1 Tbit\/s \(limit bandwidthMax\)/],
    ['a 1 bit/s migration cap', `${SMALL}    bandwidth: 1bit/s\n`.replace('  - { vm: vm1, to: h2, at: 1s }\n', '  - vm: vm1\n    to: h2\n    at: 1s\n'), 'migrations[0].bandwidth', /limit bandwidthMin/],
    ['a 1 ms lease', `${SMALL}duration: 1h\ndhcp: { subnet: 10.0.0.0/24, leaseTime: 1ms }\n`, 'dhcp.leaseTime', /at least 1 s \(limit leaseTime\), got "1ms"$/],
    ['a probe at 1e9/s', `${SMALL}duration: 10s\ndhcp: { subnet: 10.0.0.0/24 }\nprobe: { rate: 1000000000/s }\n`, 'probe.rate', /at most 100000\/s \(limit probeRate\)/],
    ['a multicast source at 1e9/s', `${SMALL}duration: 10s\ndhcp: { subnet: 10.0.0.0/24 }\nmulticastSources: [{ group: 239.1.1.1, rate: 1000000000/s, size: 100B }]\n`, 'multicastSources[0].rate', /at most 1000000\/s \(limit multicastRate\)/],
    ['a datagram larger than UDP carries', `${SMALL}duration: 10s\ndhcp: { subnet: 10.0.0.0/24 }\nmulticastSources: [{ group: 239.1.1.1, rate: 10/s, size: 1MiB }]\n`, 'multicastSources[0].size', /at most 65507 B \(limit multicastSize\)/],
    ['a two-day duration', `${SMALL}duration: 48h\n`, 'duration', /at most 24 h \(limit duration\)/],
    ['maxRounds 1e6', `${SMALL}`.replace('at: 1s }', 'at: 1s, maxRounds: 1000000 }'), 'migrations[0].maxRounds', /limit maxRounds/],
    ['a query every millisecond', `${SMALL}duration: 10s\nswitch: { igmpQueryInterval: 1ms }\n`, 'switch.igmpQueryInterval', /at least 1 s \(limit igmpQueryInterval\)/],
  ])('refuses %s', (_, text, path, message) => {
    const errs = within(1000, () => errorsOf(text));
    const e = errs.find((x) => x.path === path);
    expect(e?.message, errs.map((x) => x.message).join('\n')).toMatch(message);
    expect(e?.message.split('\n')).toHaveLength(1);
    expect(e?.line).toBeGreaterThan(0);
  });
});

describe('limits across fields and the run estimate', () => {
  it('refuses a 4 TiB VM at pages fidelity by its tracked state, once, with a hint', () => {
    const errs = within(1000, () => errorsOf(replace(SMALL, 'memory: 1GiB', 'memory: 4TiB')));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.path).toBe('vms[0].memory');
    expect(errs[0]?.message).toMatch(/estimated at 8\.25 GiB of tracked state \(vm1's 4 TiB is 1\.07e9 pages of 4 KiB\); expected tracked state at most 640 MiB \(limit trackedStateBudget\); try `fidelity: fluid`/);
  });

  it('accepts the same 4 TiB VM at fidelity: fluid', () => {
    expect(() => errorsOf(`${replace(SMALL, 'memory: 1GiB', 'memory: 4TiB')}fidelity: fluid\n`)).toThrow(/loaded without errors/);
  });

  it('refuses writes beyond the work budget at the writeRate, estimating the migration', () => {
    const text = replace(SMALL, 'memory: 1GiB }', 'memory: 1GiB, workload: { kind: uniform, writeRate: 10000000/s } }').replace('at: 1s', 'at: 10s');
    const [e, more] = errorsOf(text);
    expect(more).toBeUndefined();
    expect(e?.path).toBe('vms[0].workload.writeRate');
    expect(e?.message).toMatch(/estimated at 3\.\d+e8 page operations \(vm1 writes 10000000\/s for ~3\d\.\d+ s of guest time.*limit pageWorkBudget\); try `fidelity: fluid` \(no per-page state\), or a lower `writeRate`$/);
  });

  it('refuses a probe whose frames over the duration are beyond the budget, at probe.rate', () => {
    const text = `${SMALL}duration: 1h\ndhcp: { subnet: 10.0.0.0/24 }\nprobe: { rate: 1000/s }\n`;
    const [e] = errorsOf(text);
    expect(e?.path).toBe('probe.rate');
    expect(e?.message).toMatch(/estimated at 7\.2\de6 frames \(probe 1000\/s × 1 VMs × 1 h, request and reply\); expected frames at most 1e6 \(limit frameBudget\); try a lower `rate`, or a shorter `duration`$/);
  });

  it('refuses a lease renewed too often for the duration', () => {
    const [e] = errorsOf(`${SMALL}duration: 24h\ndhcp: { subnet: 10.0.0.0/24, leaseTime: 2s }\n`);
    expect(e?.path).toBe('dhcp.leaseTime');
    expect(e?.message).toMatch(/each VM would renew 86400 times .*limit leaseRenewals/);
  });

  it('refuses a run without duration whose migration would end after a day', () => {
    const text = `${replace(SMALL, 'memory: 1GiB', 'memory: 16GiB')}fidelity: fluid\nnetwork: { migrationLink: { bandwidth: 1Mbit/s } }\n`;
    const [e] = errorsOf(text);
    expect(e?.path).toBe('migrations[0]');
    expect(e?.message).toMatch(/simulated end at .*expected a run that ends at most 24 h \(limit duration\); try a faster `bandwidth` or a `duration`/);
  });

  it('refuses 10^6 migrations by the file size before parsing, fast', () => {
    const line = '  - { vm: vm1, to: h2, at: 1s }\n';
    const file = writeScenario(SMALL + line.repeat(1_000_000));
    const errs = within(500, () => fileErrors(file));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toMatch(/: the file's size is 3\d\.\d+ MiB; expected a scenario file of at most 512 KiB \(limit scenarioFileBytes\)$/);
  });

  it('refuses 15,000 migrations by their count before building them', () => {
    const rows = Array.from({ length: 15_000 }, (_, i) => `- {vm: v, to: h${(i % 2) + 1}, at: ${i % 10}s}`).join('\n');
    const text = `name: many\nhosts: [h1, h2]\nvms: [{ name: v, host: h1, memory: 1GiB }]\nmigrations:\n${rows}\n`;
    expect(text.length).toBeLessThan(LIMITS.scenarioFileBytes.value);
    const errs = within(5000, () => errorsOf(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.path).toBe('migrations');
    expect(errs[0]?.message).toMatch(/migrations: 15000 given; expected migrations entries, at most 10000 \(limit migrations\)$/);
  });

  it('refuses /dev/zero as the scenario file itself, fast', () => {
    const errs = within(1000, () => fileErrors('/dev/zero'));
    expect(errs[0]?.message).toMatch(/^\/dev\/zero: the file's size is more than 512 KiB; expected a scenario file/);
  });

  it('estimates every shipped scenario within the budgets (and loads it)', () => {
    const files = ['scenarios', 'scenarios/modes', 'scenarios/rebind', 'scenarios/testbed', 'bench/scenarios'].flatMap((d) =>
      readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)),
    );
    expect(files.length).toBeGreaterThan(25);
    for (const f of files) {
      const s = loadScenario(f);
      expect(unsupported(s)).toEqual([]);
      expect(() => checkSupported(s)).not.toThrow();
      const e = estimateRun(s);
      expect(e.trackedStateBytes.value).toBeLessThanOrEqual(LIMITS.trackedStateBudget.value);
      expect(e.pageWork.value).toBeLessThanOrEqual(LIMITS.pageWorkBudget.value);
    }
    // the scale target: a 64 GiB guest at pages fidelity (runs in ~0.6 s with 143 MB)
    const big = estimateRun(loadScenario('bench/scenarios/big-64g.yaml'));
    expect(big.trackedStateBytes.value).toBeCloseTo(16_777_216 * 8.25);
  });
});

describe('one pass: everything run would refuse, at once', () => {
  it('reports a schema error, a hotset larger than memory, a capacity error and a support refusal together', () => {
    const text = `name: all
hosts: [{ name: h1, memory: 1GiB }, h2]
fidelity: fluid
vms:
  - { name: vm1, host: h1, memory: 1GiB, workload: { kind: hotset, writeRate: 10/s, hotset: 2GiB } }
  - { name: vm2, host: h1, memory: 512MiB }
  - { name: vm3, host: h2, memory: 1 gigs }
  - { name: vm4, host: h2, memory: 4MiB, workload: { kind: trace, file: t.trace } }
probe: { rate: 10/s }
migrations:
  - { vm: vm3, to: h1, at: 1s }
  - { vm: vm1, to: h2, at: soon }
`;
    const dir = tempDir();
    writeFileSync(join(dir, 't.trace'), '0 1\n');
    const errs = errorsOf(text, join(dir, 'x.yaml'));
    expect(new Set(errs.map((e) => e.path))).toEqual(
      new Set(['vms[0].workload.hotset', 'vms[1].host', 'vms[2].memory', 'vms[3].workload', 'probe', 'duration', 'migrations[1].at']),
    );
    expect(errs).toHaveLength(7);
    const byPath = new Map(errs.map((e) => [e.path, e.message]));
    expect(byPath.get('vms[0].workload.hotset')).toMatch(/to the VM's memory \(1 GiB\)/);
    expect(byPath.get('vms[1].host')).toMatch(/h1 has 1 GiB but would hold 1\.5 GiB \(vm1 1 GiB, vm2 512 MiB\)/);
    expect(byPath.get('vms[2].memory')).toMatch(/got "1 gigs"/);
    expect(byPath.get('vms[3].workload')).toMatch(/a trace workload has no closed form, so it needs `fidelity: pages`/);
    expect(byPath.get('probe')).toMatch(/the probe needs `dhcp`/);
    expect(byPath.get('duration')).toMatch(/needs a duration/);
    expect(byPath.get('migrations[1].at')).toMatch(/got "soon"/);
    // vm3's migration is not judged against a capacity it could not be placed by
    expect(errs.filter((e) => e.path.startsWith('migrations[0]'))).toEqual([]);
  });

  it('states a host\'s memory, the total and the VMs once per host, however many VMs overfill it', () => {
    const vms = Array.from({ length: 5 }, (_, i) => `  - { name: v${i}, host: h1, memory: 1GiB }`).join('\n');
    const errs = errorsOf(`name: full\nhosts: [{ name: h1, memory: 2GiB }, { name: h2, memory: 1GiB }]\nvms:\n${vms}\n  - { name: w, host: h2, memory: 2GiB }\n`);
    expect(errs.map((e) => e.message.replace(/^x\.yaml:\d+:\d+: /, ''))).toEqual([
      'vms[2].host: h1 has 2 GiB but would hold 5 GiB (v0 1 GiB, v1 1 GiB, v2 1 GiB, v3 1 GiB, v4 1 GiB); expected VMs on h1 that fit in its 2 GiB',
      'vms[5].memory: w needs 2 GiB but h2 has 1 GiB; expected a host with at least 2 GiB of memory',
    ]);
  });

  it('folds the engines\' checks in: a duration-less scenario with a probe, a probe without dhcp, a trace at fluid', () => {
    expect(errorsOf(`${SMALL}dhcp: { subnet: 10.0.0.0/24 }\nprobe: { rate: 10/s }\n`).map((e) => [e.path, e.message.replace(/^x\.yaml(:\d+:\d+)?: /, '')])).toEqual([
      ['duration', 'duration: a scenario with a network (switch, dhcp, probe, multicast) needs a duration: its traffic never ends by itself; expected a duration'],
    ]);
    const [probe] = errorsOf(`${SMALL}duration: 10s\nprobe: { rate: 10/s }\n`);
    expect(probe?.message).toMatch(/^x\.yaml:\d+:\d+: probe: the probe needs `dhcp`: the VMs get their addresses from it; expected a dhcp section$/);
  });
});

describe('traces: bounded streams, inside the scenario directory, no content echoed', () => {
  const withTrace = (file: string) =>
    replace(SMALL, 'memory: 1GiB }', `memory: 4MiB, workload: { kind: trace, file: ${file} } }`);

  it.each(['/dev/zero', '/dev/urandom'])('refuses %s quickly (with --allow-outside)', (dev) => {
    const file = writeScenario(withTrace(dev));
    const errs = within(1000, () => fileErrors(file, { allowOutside: true }));
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.length).toBeLessThanOrEqual(10);
    for (const e of errs) {
      expect(e.file).toBe(dev);
      expect(e.path).toBe('vms[0].workload.file');
      expect(e.message).toMatch(/^\/dev\/\w+:\d+(:\d+)?: vms\[0\]\.workload\.file: (line \d+ is longer|line \d+ is not UTF-8|line \d+ has \d+ fields?|the (time|page) is)/);
    }
    if (dev === '/dev/zero') expect(errs[0]?.message).toMatch(/line 1 is longer; expected lines of at most 1 KiB \(limit traceLineBytes\)$/);
  });

  it.each(['/dev/zero', '../../../etc/passwd'])('refuses %s outside the scenario directory without reading it', (path) => {
    const file = writeScenario(withTrace(path));
    const [e, more] = within(1000, () => fileErrors(file));
    expect(more).toBeUndefined();
    expect(e?.path).toBe('vms[0].workload.file');
    expect(e?.message).toMatch(/is outside the scenario's directory; expected a trace file inside .* \(or --allow-outside\)$/);
  });

  it('names the line of /etc/passwd, never its content, when allowed outside', () => {
    const file = writeScenario(withTrace('/etc/passwd'));
    const errs = fileErrors(file, { allowOutside: true });
    expect(errs[0]?.message).toMatch(/^\/etc\/passwd:1:1: vms\[0\]\.workload\.file: line 1 has 1 field; expected a line "timeUs page"/);
    for (const e of errs) expect(e.message).not.toMatch(/root|bin|nologin|\/bin\/(ba)?sh/);
  });

  it('refuses a trace file larger than the limit from its size, without reading it', () => {
    const dir = tempDir();
    const fd = openSync(join(dir, 'huge.trace'), 'w');
    ftruncateSync(fd, LIMITS.traceFileBytes.value + 1); // sparse: nothing to read
    closeSync(fd);
    writeFileSync(join(dir, 'x.yaml'), withTrace('huge.trace'));
    const [e] = within(500, () => fileErrors(join(dir, 'x.yaml')));
    expect(e?.message).toMatch(/huge\.trace: vms\[0\]\.workload\.file: .*huge\.trace is 128 MiB; expected a trace file of at most 128 MiB \(limit traceFileBytes\)$/);
  });

  it('follows symlinks before deciding what is inside', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'traces'));
    execSync(`ln -s /etc/hostname ${join(dir, 'traces', 'h.trace')}`);
    writeFileSync(join(dir, 'x.yaml'), withTrace('traces/h.trace'));
    const [e] = fileErrors(join(dir, 'x.yaml'));
    expect(e?.message).toMatch(/is outside the scenario's directory/);
  });
});

describe('silent nonsense, refused', () => {
  it('refuses a description that is not UTF-8 at its line and column, with the other problems', () => {
    const text = Buffer.concat([Buffer.from('name: latin\ndescription: caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n'), Buffer.from(SMALL.replace('name: small\n', '').replace('at: 1s', 'at: 1 sec'))]);
    const errs = fileErrors(writeScenario(text));
    expect(errs.map((e) => e.message.replace(/^.*x\.yaml/, 'x.yaml'))).toEqual([
      'x.yaml:2:17: description: the bytes here are not UTF-8; expected UTF-8 text',
      expect.stringMatching(/^x\.yaml:7:\d+: migrations\[0\]\.at: .*"1 sec"$/),
    ]);
  });

  it.each([
    ['postcopy', 'maxRounds: 5', 'maxRounds'],
    ['postcopy', 'autoConverge: true', 'autoConverge'],
  ])('refuses %s with %s: ignored by the mode', (mode, field, key) => {
    const text = SMALL.replace('at: 1s }', `at: 1s, mode: ${mode}, ${field} }`);
    const [e, more] = errorsOf(text);
    expect(more).toBeUndefined();
    expect(e?.path).toBe(`migrations[0].${key}`);
    expect(e?.message).toMatch(new RegExp(`${key} is ignored by ${mode}; expected no ${key} with mode: ${mode} \\(it has no live rounds\\)$`));
    expect(e?.column).toBe(text.split('\n')[5]!.indexOf(key) + 1);
  });

  it('accepts postcopy with autoConverge: false (the default, written out)', () => {
    expect(() => errorsOf(SMALL.replace('at: 1s }', 'at: 1s, mode: postcopy, autoConverge: false }'))).toThrow(/loaded without errors/);
  });

  it('refuses a VM joining a group that no multicast source sends', () => {
    const text = `${SMALL.replace('memory: 1GiB }', 'memory: 1GiB, multicast: [239.1.1.1, 239.2.2.2] }')}duration: 10s\ndhcp: { subnet: 10.0.0.0/24 }\nmulticastSources: [{ group: 239.1.1.1, rate: 10/s, size: 100B }]\n`;
    const [e, more] = errorsOf(text);
    expect(more).toBeUndefined();
    expect(e?.path).toBe('vms[0].multicast[1]');
    expect(e?.message).toMatch(/vm1 joins 239\.2\.2\.2, which no multicast source sends; expected a group one of multicastSources sends \(239\.1\.1\.1\)$/);
  });

  it('refuses the same VM migrated twice at the same instant (no "h1→h1 failed" row)', () => {
    const text = `${SMALL}  - { vm: vm1, to: h1, at: 1s }\n`;
    const [e, more] = errorsOf(text);
    expect(more).toBeUndefined();
    expect(e?.path).toBe('migrations[1].at');
    expect(e?.message).toMatch(/migrations\[0\] also moves vm1 at 1 s; expected a start after vm1's previous migration \(one migration of a VM at a time\)$/);
  });

  it('leaves a later start while the previous migration runs to the engines (the sim fails it with its reason)', () => {
    expect(() => errorsOf(`${SMALL}  - { vm: vm1, to: h1, at: 1500ms }\n`)).toThrow(/loaded without errors/);
  });
});

describe('names', () => {
  it('refuses a 100,000-character scenario name (it names the results directory), without echoing it', () => {
    const [e, more] = errorsOf(SMALL.replace('name: small', `name: ${'a'.repeat(100_000)}`));
    expect(more).toBeUndefined();
    expect(e?.path).toBe('name');
    expect(e?.message).toMatch(/expected a name of a-z, 0-9 and -, at most 100 \(limit nameLength\) characters/);
    expect(e?.message.length).toBeLessThan(400);
  });
});
