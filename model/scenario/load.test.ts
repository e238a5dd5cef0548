import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Document, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FIELDS } from './defaults.js';
import { explainDefaults, explainScenario } from './explain.js';
import { ScenarioError, ScenarioErrors, loadScenario, parseScenario, parseTrace } from './load.js';
import type { Scenario } from './types.js';

// The DESIGN.md example, verbatim.
const DESIGN = `name: hotset-leasequery          # [a-z0-9-]+
description: one line, shown in reports
seed: 1                          # same seed, same results (sim)
engine: sim                      # sim | testbed
fidelity: pages                  # sim only: pages (every page tracked) | fluid (expected sizes)
duration: 30s                    # the run ends here (sim) or after the last migration settles
hosts: [h1, h2]                  # hypervisor hosts, at least two
network:
  migrationLink: { bandwidth: 1Gbit/s, latency: 100us }   # page transfer path between hosts
  accessLink: { bandwidth: 10Gbit/s, latency: 20us }      # each port's link to the switch
dhcp: { subnet: 10.77.0.0/24, leaseTime: 1h }
multicastSources: [{ group: 239.1.1.1, rate: 1000/s, size: 1200B }]
probe: { rate: 1000/s }          # UDP echo to every VM; gives serviceInterruptionMs
switch:
  vdp: extended                  # standard (prior art: no migration hint) | extended (M-bit)
  dhcpRebind: leasequery         # none | leasequery | assist
  igmpRebind: query              # none | query
  ipSourceGuard: true
  igmpQueryInterval: 125s        # the periodic general query
vms:
  - name: vm1
    host: h1
    memory: 1GiB
    pageSize: 4KiB
    mac: 02:00:00:00:01:01
    vlan: 10
    vsiType: { id: 100, version: 1 }
    multicast: [239.1.1.1]
    announceOnResume: none       # none | garp | garp+igmp (what the guest sends after resume)
    zeroPages: 0%                # share of pages that are all-zero: sent as a marker, not a page (QEMU does this)
    workload: { kind: hotset, writeRate: 20000/s, hotset: 64MiB }
migrations:
  - vm: vm1
    to: h2
    at: 2s
    mode: precopy                # precopy | stopcopy | postcopy
    downtimeLimit: 300ms
    maxRounds: 30
    bandwidth: 1Gbit/s           # optional cap, default the migration link
    deviceState: 256KiB          # non-RAM state sent while paused
    autoConverge: false
expect:                          # regression bounds, checked by \`migsim check\`
  vm1.downtimeMs: { max: 400 }
  vm1.dhcpRebindMs: { max: 5 }
`;

// A small valid scenario, one field a line, for the error cases to edit.
const BASE = `name: base
hosts: [h1, h2]
vms:
  - name: vm1
    host: h1
    memory: 1GiB
    workload: { kind: hotset, writeRate: 1000/s, hotset: 64MiB }
  - name: vm2
    host: h2
    memory: 512MiB
migrations:
  - vm: vm1
    to: h2
    at: 2s
`;

/** Every error parseScenario reports for `text` (fails the test if it loads). */
function errorsOf(text: string, file = 'x.yaml'): ScenarioError[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return [...e.errors];
    throw e;
  }
  throw new Error(`loaded without errors:\n${text}`);
}

/** 1-based line of the first occurrence of `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in text`);
  return text.slice(0, i).split('\n').length;
}

function replace(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${from} not in text`);
  return text.replace(from, to);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'migsim-load-'));
}

describe('a valid scenario', () => {
  it('normalizes the DESIGN.md example to exact base units', () => {
    const s = parseScenario(DESIGN, 'scenarios/hotset-leasequery.yaml');
    const expected: Scenario = {
      file: 'scenarios/hotset-leasequery.yaml',
      name: 'hotset-leasequery',
      description: 'one line, shown in reports',
      seed: 1,
      engine: 'sim',
      fidelity: 'pages',
      durationNs: 30_000_000_000,
      hosts: [
        { name: 'h1', memoryBytes: null },
        { name: 'h2', memoryBytes: null },
      ],
      network: {
        migrationLink: { bandwidthBps: 1e9, latencyNs: 100_000 },
        accessLink: { bandwidthBps: 1e10, latencyNs: 20_000 },
      },
      dhcp: { subnet: '10.77.0.0/24', leaseTimeNs: 3_600_000_000_000 },
      multicastSources: [{ group: '239.1.1.1', rate: 1000, sizeBytes: 1200 }],
      probe: { rate: 1000 },
      switch: {
        vdp: 'extended',
        dhcpRebind: 'leasequery',
        igmpRebind: 'query',
        ipSourceGuard: true,
        igmpQueryIntervalNs: 125_000_000_000,
      },
      vms: [
        {
          name: 'vm1',
          host: 'h1',
          memoryBytes: 1073741824,
          pageSize: 4096,
          pageCount: 262144,
          mac: '02:00:00:00:01:01',
          vlan: 10,
          vsiType: { id: 100, version: 1 },
          multicast: ['239.1.1.1'],
          announceOnResume: 'none',
          zeroPages: 0,
          workload: { kind: 'hotset', writeRate: 20000, hotsetBytes: 67108864 },
        },
      ],
      migrations: [
        {
          index: 0,
          vm: 'vm1',
          from: 'h1',
          to: 'h2',
          atNs: 2_000_000_000,
          mode: 'precopy',
          downtimeLimitNs: 300_000_000,
          maxRounds: 30,
          bandwidthBps: 1e9,
          deviceStateBytes: 262144,
          autoConverge: false,
        },
      ],
      expect: [
        { key: 'vm1.downtimeMs', vm: 'vm1', migration: null, field: 'downtimeMs', max: 400 },
        { key: 'vm1.dhcpRebindMs', vm: 'vm1', migration: null, field: 'dhcpRebindMs', max: 5 },
      ],
    };
    expect(s).toEqual(expected);
  });

  it('fills every default when fields are omitted', () => {
    const s = parseScenario('name: min\nhosts: [a, b]\nvms: [{ name: v, host: a, memory: 64MiB }]\n', 'min.yaml');
    expect(s).toEqual({
      file: 'min.yaml',
      name: 'min',
      description: '',
      seed: 1,
      engine: 'sim',
      fidelity: 'pages',
      durationNs: null,
      hosts: [
        { name: 'a', memoryBytes: null },
        { name: 'b', memoryBytes: null },
      ],
      network: {
        migrationLink: { bandwidthBps: 10e9, latencyNs: 100_000 },
        accessLink: { bandwidthBps: 10e9, latencyNs: 20_000 },
      },
      dhcp: null,
      multicastSources: [],
      probe: null,
      switch: null,
      vms: [
        {
          name: 'v',
          host: 'a',
          memoryBytes: 64 * 1024 * 1024,
          pageSize: 4096,
          pageCount: 16384,
          mac: '02:00:00:00:00:01',
          vlan: 1,
          vsiType: { id: 1, version: 1 },
          multicast: [],
          announceOnResume: 'none',
          zeroPages: 0,
          workload: { kind: 'idle' },
        },
      ],
      migrations: [],
      expect: [],
    } satisfies Scenario);
  });

  it('fills section defaults: an empty switch, dhcp without leaseTime, a migration with only vm/to/at', () => {
    const s = parseScenario(
      `${BASE}switch: {}\ndhcp: { subnet: 10.0.0.0/8 }\nnetwork: { migrationLink: { bandwidth: 1Gbit/s } }\n`,
      'x.yaml',
    );
    expect(s.switch).toEqual({
      vdp: 'standard',
      dhcpRebind: 'none',
      igmpRebind: 'none',
      ipSourceGuard: true,
      igmpQueryIntervalNs: 125e9,
    });
    expect(s.dhcp).toEqual({ subnet: '10.0.0.0/8', leaseTimeNs: 3600e9 });
    expect(s.network.migrationLink).toEqual({ bandwidthBps: 1e9, latencyNs: 100_000 });
    expect(s.migrations[0]).toEqual({
      index: 0,
      vm: 'vm1',
      from: 'h1',
      to: 'h2',
      atNs: 2e9,
      mode: 'precopy',
      downtimeLimitNs: 300e6,
      maxRounds: 30,
      bandwidthBps: null,
      deviceStateBytes: 256 * 1024,
      autoConverge: false,
    });
  });

  it('gives default MACs from the 1-based VM index, in hex', () => {
    const vms = Array.from({ length: 300 }, (_, i) => `  - { name: v${i}, host: h1, memory: 4KiB }`).join('\n');
    const s = parseScenario(`name: many\nhosts: [h1, h2]\nvms:\n${vms}\n`, 'x.yaml');
    expect(s.vms[0]?.mac).toBe('02:00:00:00:00:01');
    expect(s.vms[9]?.mac).toBe('02:00:00:00:00:0a');
    expect(s.vms[255]?.mac).toBe('02:00:00:00:01:00');
    expect(s.vms[299]?.mac).toBe('02:00:00:00:01:2c');
  });

  it('accepts host entries with memory, and lowercases MACs', () => {
    const text = replace(BASE, 'hosts: [h1, h2]', 'hosts: [{ name: h1, memory: 64GiB }, h2]').replace(
      '    memory: 512MiB',
      '    memory: 512MiB\n    mac: 0A:BB:CC:DD:EE:FF',
    );
    const s = parseScenario(text, 'x.yaml');
    expect(s.hosts).toEqual([
      { name: 'h1', memoryBytes: 64 * 1024 ** 3 },
      { name: 'h2', memoryBytes: null },
    ]);
    expect(s.vms[1]?.mac).toBe('0a:bb:cc:dd:ee:ff');
  });

  it('normalizes every workload kind', () => {
    const kinds = [
      ['{ kind: idle }', { kind: 'idle' }],
      ['{ kind: uniform, writeRate: 5000/s }', { kind: 'uniform', writeRate: 5000 }],
      ['{ kind: hotset, writeRate: 0/s, hotset: 4KiB }', { kind: 'hotset', writeRate: 0, hotsetBytes: 4096 }],
      ['{ kind: zipf, writeRate: 1.5/s, skew: 0.99 }', { kind: 'zipf', writeRate: 1.5, skew: 0.99 }],
      ['{ kind: sequential, writeRate: 250000/s }', { kind: 'sequential', writeRate: 250000 }],
    ] as const;
    for (const [yaml, spec] of kinds) {
      const text = replace(BASE, '{ kind: hotset, writeRate: 1000/s, hotset: 64MiB }', yaml);
      expect(parseScenario(text, 'x.yaml').vms[0]?.workload).toEqual(spec);
    }
  });

  it('accepts percent, announce, vsiType, multicast and the testbed engine', () => {
    const text = replace(
      BASE,
      '    memory: 512MiB\n',
      '    memory: 512MiB\n    zeroPages: 12.5%\n    announceOnResume: garp+igmp\n    vsiType: { id: 16777215 }\n    multicast: [239.1.1.1, 224.0.1.1]\n    vlan: 4094\n',
    ).replace('name: base', 'name: base\nengine: testbed\nfidelity: fluid\nseed: 42');
    const s = parseScenario(text, 'x.yaml');
    expect(s.engine).toBe('testbed');
    expect(s.fidelity).toBe('fluid');
    expect(s.seed).toBe(42);
    expect(s.vms[1]).toMatchObject({
      zeroPages: 0.125,
      announceOnResume: 'garp+igmp',
      vsiType: { id: 16777215, version: 1 },
      multicast: ['239.1.1.1', '224.0.1.1'],
      vlan: 4094,
    });
  });

  it('resolves `from` along each VM\'s migrations in time order and keeps file order', () => {
    const text = `name: hops
hosts: [h1, h2, h3]
vms:
  - { name: vm1, host: h1, memory: 1GiB }
  - { name: vm2, host: h2, memory: 1GiB }
migrations:
  - { vm: vm1, to: h1, at: 5s }
  - { vm: vm1, to: h2, at: 1s }
  - { vm: vm2, to: h3, at: 3s }
  - { vm: vm1, to: h3, at: 3s }
expect:
  vm1[0].downtimeMs: { max: 100 }
  vm1[2].outcome: { equals: completed }
  vm2.memoryVerified: { equals: true }
  vm1.totalTimeMs: { min: 1, max: 2 }
`;
    const s = parseScenario(text, 'x.yaml');
    expect(s.migrations.map((m) => [m.index, m.vm, m.from, m.to, m.atNs / 1e9])).toEqual([
      [0, 'vm1', 'h3', 'h1', 5],
      [1, 'vm1', 'h1', 'h2', 1],
      [2, 'vm2', 'h2', 'h3', 3],
      [3, 'vm1', 'h2', 'h3', 3],
    ]);
    expect(s.expect).toEqual([
      { key: 'vm1[0].downtimeMs', vm: 'vm1', migration: 0, field: 'downtimeMs', max: 100 },
      { key: 'vm1[2].outcome', vm: 'vm1', migration: 2, field: 'outcome', equals: 'completed' },
      { key: 'vm2.memoryVerified', vm: 'vm2', migration: null, field: 'memoryVerified', equals: true },
      { key: 'vm1.totalTimeMs', vm: 'vm1', migration: null, field: 'totalTimeMs', min: 1, max: 2 },
    ]);
  });

  it('places VMs on hosts with memory, following migrations', () => {
    // vm2 leaves h2 for h3 at 1s, so vm1 fits on h2 at 2s
    const text = `name: fit
hosts: [{ name: h1, memory: 8GiB }, { name: h2, memory: 8GiB }, { name: h3, memory: 8GiB }]
vms:
  - { name: vm1, host: h1, memory: 8GiB }
  - { name: vm2, host: h2, memory: 8GiB }
migrations:
  - { vm: vm1, to: h2, at: 2s }
  - { vm: vm2, to: h3, at: 1s }
`;
    expect(parseScenario(text, 'x.yaml').migrations.map((m) => m.from)).toEqual(['h1', 'h2']);
    const [e] = errorsOf(text.replace('at: 1s', 'at: 3s'));
    expect(e?.path).toBe('migrations[0].to');
    expect(e?.message).toMatch(/h2 would hold 16 GiB at 2 s \(vm2, vm1\)/);
  });

  it('loads from a file and records the path as given', () => {
    const dir = tempDir();
    const file = join(dir, 'design.yaml');
    writeFileSync(file, DESIGN);
    const s = loadScenario(file);
    expect(s.file).toBe(file);
    expect(s.vms[0]?.pageCount).toBe(262144);
  });
});

describe('trace workloads', () => {
  const scenarioWith = (workload: string) =>
    replace(BASE, '{ kind: hotset, writeRate: 1000/s, hotset: 64MiB }', workload).replace('1GiB', '4MiB');

  it('reads the trace relative to the scenario file, times in ns', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'traces'));
    writeFileSync(join(dir, 'traces', 'w.trace'), '# timeUs page\n0 1\n\n1.5 1023   # last page\n1.5 7\n2000\t3\n');
    const file = join(dir, 'x.yaml');
    writeFileSync(file, scenarioWith('{ kind: trace, file: traces/w.trace, loop: true }'));
    const w = loadScenario(file).vms[0]?.workload;
    expect(w?.kind).toBe('trace');
    if (w?.kind !== 'trace') return;
    expect(w.file).toBe(join(dir, 'traces', 'w.trace'));
    expect(w.loop).toBe(true);
    expect([...w.trace.timesNs]).toEqual([0, 1500, 1500, 2_000_000]);
    expect([...w.trace.pages]).toEqual([1, 1023, 7, 3]);
    expect(w.trace.spanNs).toBe(2_000_000);
  });

  it('defaults loop to false', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), '5 0\n');
    const s = parseScenario(scenarioWith('{ kind: trace, file: t }'), join(dir, 'x.yaml'));
    expect(s.vms[0]?.workload).toMatchObject({ kind: 'trace', loop: false });
  });

  it.each([
    ['non-numeric time', '0 1\nabc 2\n', 2, /expected a time in microseconds such as 1500, got "abc"/],
    ['non-numeric page', '0 1\n10 x\n', 2, /expected a whole page number such as 42, got "x"/],
    ['negative time', '-5 1\n', 1, /not negative, got "-5"/],
    ['negative page', '5 -1\n', 1, /page number, not negative/],
    ['decreasing time', '10 1\n20 2\n15 3\n', 3, /time 15 us is before the previous line's 20 us/],
    ['page beyond the VM', '0 1024\n', 1, /expected a page number below 1024 \(the VM's page count\), got 1024/],
    ['wrong field count', '0 1 2\n', 1, /expected a line "timeUs page"/],
  ])('rejects a %s with the trace file and line', (_, trace, line, message) => {
    const dir = tempDir();
    const traceFile = join(dir, 'w.trace');
    writeFileSync(traceFile, trace);
    const errs = errorsOf(scenarioWith('{ kind: trace, file: w.trace }'), join(dir, 'x.yaml'));
    expect(errs).toHaveLength(1);
    const e = errs[0];
    expect(e?.file).toBe(traceFile);
    expect(e?.line).toBe(line);
    expect(e?.path).toBe('vms[0].workload.file');
    expect(e?.message).toMatch(message);
    expect(e?.message.startsWith(`${traceFile}:${line}:`)).toBe(true);
  });

  it('reports a missing trace file at the field that names it', () => {
    const text = scenarioWith('{ kind: trace, file: nowhere.trace }');
    const [e] = errorsOf(text, join(tempDir(), 'x.yaml'));
    expect(e?.path).toBe('vms[0].workload.file');
    expect(e?.line).toBe(lineOf(text, 'kind: trace'));
    expect(e?.message).toMatch(/could not read .*nowhere\.trace/);
  });

  it('refuses to loop a trace that spans no time', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), '0 1\n0 2\n');
    const [e] = errorsOf(scenarioWith('{ kind: trace, file: t, loop: true }'), join(dir, 'x.yaml'));
    expect(e?.path).toBe('vms[0].workload.loop');
  });

  it('parseTrace stops after ten errors in one file', () => {
    const bad = Array.from({ length: 50 }, () => 'x y').join('\n');
    let caught: unknown;
    try {
      parseTrace(bad, 't.trace', 10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScenarioErrors);
    expect((caught as ScenarioErrors).errors).toHaveLength(10);
  });
});

describe('schema errors', () => {
  it('reads file:line:col: path: expected X, got Y', () => {
    const text = replace(BASE, 'memory: 1GiB', 'memory: 1 gigs');
    const errs = errorsOf(text, 'scenarios/x.yaml');
    expect(errs.map((e) => e.message)).toEqual([
      `scenarios/x.yaml:6:13: vms[0].memory: expected a size such as 1GiB or 512MiB, got "1 gigs"`,
    ]);
    expect(errs[0]).toMatchObject({
      file: 'scenarios/x.yaml',
      path: 'vms[0].memory',
      line: 6,
      column: 13,
      expected: 'a size such as 1GiB or 512MiB',
    });
  });

  it('collects every error in the file into one ScenarioErrors, in source order', () => {
    const text = replace(BASE, 'memory: 1GiB', 'memory: 1024').replace('at: 2s', 'at: soon').replace('name: base', 'name: Base');
    let caught: unknown;
    try {
      parseScenario(text, 'x.yaml');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScenarioErrors);
    const all = (caught as ScenarioErrors).errors;
    expect(all.map((e) => e.path)).toEqual(['name', 'vms[0].memory', 'migrations[0].at']);
    expect((caught as Error).message.split('\n')).toHaveLength(3);
    expect(all[1]?.message).toMatch(/a bare number has no unit\), got 1024$/);
  });

  it('names unknown keys at the key, with a suggestion', () => {
    const text = replace(BASE, '    memory: 512MiB', '    memroy: 512MiB');
    const errs = errorsOf(text);
    const unknown = errs.find((e) => e.path === 'vms[1].memroy');
    expect(unknown?.line).toBe(lineOf(text, 'memroy'));
    expect(unknown?.column).toBe(5);
    expect(unknown?.message).toMatch(/unknown key "memroy" \(did you mean memory\?\)/);
    expect(errs.find((e) => e.path === 'vms[1].memory')?.message).toMatch(/vms\[1\]\.memory: missing; expected a size/);
  });

  it('reports a wrong field for a workload kind against that kind', () => {
    const text = replace(BASE, 'hotset: 64MiB }', 'hotset: 64MiB, skew: 1.2 }');
    const [e] = errorsOf(text);
    expect(e?.path).toBe('vms[0].workload.skew');
    expect(e?.message).toMatch(/unknown key "skew"; expected one of kind, writeRate, hotset \(the keys of a hotset workload\)/);
    expect(e?.column).toBe(text.split('\n')[6]!.indexOf('skew') + 1);
  });

  it('reports an unknown workload kind at `kind`', () => {
    const text = replace(BASE, 'kind: hotset', 'kind: hotsett');
    const [e] = errorsOf(text);
    expect(e?.path).toBe('vms[0].workload.kind');
    expect(e?.message).toMatch(/expected a workload kind: idle, uniform, hotset, zipf, sequential, trace, got "hotsett"/);
  });

  it('reports a missing required field as missing, at its parent', () => {
    const text = replace(BASE, 'name: base\n', '');
    const [e] = errorsOf(text);
    expect(e?.path).toBe('name');
    expect(e?.message).toBe('x.yaml:1:1: name: missing; expected a name of a-z, 0-9 and -');
  });

  it('rejects the ambiguous 10Gb/s for a link', () => {
    const text = `${BASE}network:\n  migrationLink: { bandwidth: 10Gb/s }\n`;
    const [e] = errorsOf(text);
    expect(e?.path).toBe('network.migrationLink.bandwidth');
    expect(e?.message).toMatch(/Gb\/s is ambiguous: write Gbit\/s for bits or GB\/s for bytes per second\), got "10Gb\/s"/);
  });

  it.each([
    ['a YAML syntax error', 'name: [x\nhosts: 1\n', '', /expected valid YAML/],
    ['a duplicate key', 'name: a\nname: b\n', 'name', /duplicate key; expected each key once per mapping/],
    ['an empty file', '', '', /the file is empty/],
    ['a scalar document', '42\n', '', /expected a scenario: a mapping with name, hosts and vms, got 42/],
    ['two documents', 'name: a\n---\nname: b\n', '', /multiple documents/],
    ['an unresolved alias', 'name: *x\n', '', /alias/i],
    ['a list as a key', '? [a, b]\n: 1\n', '', /a key must be a plain name/],
  ])('turns %s into a ScenarioError', (_, text, path, message) => {
    const [e] = errorsOf(text);
    expect(e?.path).toBe(path);
    expect(e?.message).toMatch(message);
  });

  it('points a duplicate key at its second occurrence, with its path', () => {
    const text = replace(BASE, '    memory: 512MiB', '    memory: 512MiB\n    memory: 1GiB');
    const [e] = errorsOf(text);
    expect(e?.path).toBe('vms[1].memory');
    expect(e?.line).toBe(lineOf(text, 'memory: 1GiB\nmigrations') );
  });

  it('says an unreadable file could not be read', () => {
    let caught: unknown;
    try {
      loadScenario(join(tempDir(), 'missing.yaml'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScenarioError);
    expect((caught as ScenarioError).path).toBe('');
    expect((caught as ScenarioError).message).toMatch(/missing\.yaml: could not read the file/);
  });
});

// [what, edit of BASE, expected path, text on the line the error must point at, message pattern]
type Case = [string, (t: string) => string, string, string, RegExp?];

const vm2Extra = (extra: string) => (t: string) => replace(t, '    memory: 512MiB\n', `    memory: 512MiB\n${extra}\n`);

const CASES: Case[] = [
  ['a scenario name outside [a-z0-9-]', (t) => replace(t, 'name: base', 'name: my_scenario'), 'name', 'name: my_scenario'],
  ['one host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [h1]'), 'hosts', 'hosts:', /at least two hosts/],
  ['a duplicate host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [h1, h2, h1]'), 'hosts[2]', 'hosts:', /listed twice/],
  ['a host name with a space', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [h1, h2, "h 3"]'), 'hosts[2]', 'hosts:'],
  ['a duplicate VM name', (t) => replace(t, 'name: vm2', 'name: vm1'), 'vms[1].name', 'name: vm1\n    host: h2', /defined twice/],
  ['a VM name with a dot', (t) => replace(t, 'name: vm2', 'name: vm.2'), 'vms[1].name', 'name: vm.2'],
  ['a VM on an unknown host', (t) => replace(t, 'host: h2', 'host: h9'), 'vms[1].host', 'host: h9', /expected one of the hosts: h1, h2, got "h9"/],
  ['memory not a multiple of the page', (t) => replace(t, 'memory: 512MiB', 'memory: 1000B'), 'vms[1].memory', 'memory: 1000B', /multiple of the page size \(4 KiB\)/],
  ['zero memory', (t) => replace(t, 'memory: 512MiB', 'memory: 0B'), 'vms[1].memory', 'memory: 0B', /above 0/],
  ['a page size not a power of two', vm2Extra('    pageSize: 3KiB'), 'vms[1].pageSize', 'pageSize', /power of two/],
  ['a page size under 512B', vm2Extra('    pageSize: 256B'), 'vms[1].pageSize', 'pageSize'],
  ['a multicast MAC', vm2Extra('    mac: 01:00:5e:00:00:01'), 'vms[1].mac', 'mac:', /unicast MAC/],
  ['a malformed MAC', vm2Extra('    mac: 02:00:00:00:01'), 'vms[1].mac', 'mac:'],
  ['a MAC used twice', (t) => vm2Extra('    mac: 02:00:00:00:00:09')(replace(t, '    memory: 1GiB\n', '    memory: 1GiB\n    mac: 02:00:00:00:00:09\n')), 'vms[1].mac', 'mac: 02:00:00:00:00:09\nmigrations', /also vm1's/],
  ['a MAC equal to another VM\'s default', vm2Extra('    mac: 02:00:00:00:00:01'), 'vms[1].mac', 'mac:', /also vm1's/],
  ['vlan 0', vm2Extra('    vlan: 0'), 'vms[1].vlan', 'vlan', /1 to 4094/],
  ['vlan 4095', vm2Extra('    vlan: 4095'), 'vms[1].vlan', 'vlan'],
  ['a fractional vlan', vm2Extra('    vlan: 1.5'), 'vms[1].vlan', 'vlan'],
  ['a VSI type id of 2^24', vm2Extra('    vsiType: { id: 16777216, version: 1 }'), 'vms[1].vsiType.id', 'vsiType'],
  ['a VSI type version of 256', vm2Extra('    vsiType: { id: 1, version: 256 }'), 'vms[1].vsiType.version', 'vsiType'],
  ['a 224.0.0.x group', vm2Extra('    multicast: [239.1.1.1, 224.0.0.5]'), 'vms[1].multicast[1]', 'multicast', /outside 224\.0\.0\.x/],
  ['a unicast group', vm2Extra('    multicast: [10.0.0.1]'), 'vms[1].multicast[0]', 'multicast'],
  ['zeroPages over 100%', vm2Extra('    zeroPages: 150%'), 'vms[1].zeroPages', 'zeroPages', /0% to 100%/],
  ['zeroPages without %', vm2Extra('    zeroPages: 0.5'), 'vms[1].zeroPages', 'zeroPages'],
  ['an unknown announce', vm2Extra('    announceOnResume: arp'), 'vms[1].announceOnResume', 'announce', /one of none, garp, garp\+igmp/],
  ['a hotset larger than memory', (t) => replace(t, 'hotset: 64MiB', 'hotset: 2GiB'), 'vms[0].workload.hotset', 'hotset: 2GiB', /to the VM's memory \(1 GiB\)/],
  ['a hotset under one page', (t) => replace(t, 'hotset: 64MiB', 'hotset: 1KiB'), 'vms[0].workload.hotset', 'hotset: 1KiB', /from one page \(4 KiB\)/],
  ['a negative writeRate', (t) => replace(t, 'writeRate: 1000/s', 'writeRate: -1/s'), 'vms[0].workload.writeRate', 'writeRate', /not negative/],
  ['a zero zipf skew', (t) => replace(t, '{ kind: hotset, writeRate: 1000/s, hotset: 64MiB }', '{ kind: zipf, writeRate: 1/s, skew: 0 }'), 'vms[0].workload.skew', 'skew'],
  ['a VM larger than its host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [{ name: h1, memory: 512MiB }, h2]'), 'vms[0].memory', 'memory: 1GiB', /vm1 needs 1 GiB but h1 has 512 MiB/],
  ['VMs that overfill a host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [{ name: h1, memory: 1GiB }, h2]').replace('host: h2', 'host: h1'), 'vms[1].host', 'host: h1\n    memory: 512MiB', /h1 would hold 1.5 GiB \(vm1, vm2\)/],
  ['a migration onto a full host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [h1, { name: h2, memory: 1GiB }]'), 'migrations[0].to', 'to: h2', /h2 would hold 1.5 GiB at 2 s/],
  ['a migration of an unknown VM', (t) => replace(t, 'vm: vm1', 'vm: vm9'), 'migrations[0].vm', 'vm: vm9', /one of the VMs: vm1, vm2/],
  ['a migration to an unknown host', (t) => replace(t, 'to: h2', 'to: h7'), 'migrations[0].to', 'to: h7'],
  ['a migration to the host the VM is on', (t) => `${t}  - { vm: vm1, to: h2, at: 3s }\n`, 'migrations[1].to', '{ vm: vm1, to: h2, at: 3s }', /vm1 is already on h2 at 3 s; expected a host other than h2/],
  ['a negative start', (t) => replace(t, 'at: 2s', 'at: -2s'), 'migrations[0].at', 'at: -2s'],
  ['maxRounds 0', (t) => `${t}    maxRounds: 0\n`, 'migrations[0].maxRounds', 'maxRounds', /at least 1/],
  ['fractional maxRounds', (t) => `${t}    maxRounds: 2.5\n`, 'migrations[0].maxRounds', 'maxRounds'],
  ['a zero downtimeLimit', (t) => `${t}    downtimeLimit: 0ms\n`, 'migrations[0].downtimeLimit', 'downtimeLimit', /above 0/],
  ['a zero bandwidth cap', (t) => `${t}    bandwidth: 0Gbit/s\n`, 'migrations[0].bandwidth', 'bandwidth', /above 0/],
  ['a negative deviceState', (t) => `${t}    deviceState: -1KiB\n`, 'migrations[0].deviceState', 'deviceState'],
  ['an unknown mode', (t) => `${t}    mode: hybrid\n`, 'migrations[0].mode', 'mode', /one of precopy, stopcopy, postcopy/],
  ['a duration that ends before a migration', (t) => `${t}duration: 2s\n`, 'migrations[0].at', 'at: 2s', /before the end of the run \(duration 2 s\)/],
  ['a zero duration', (t) => `${t}duration: 0s\n`, 'duration', 'duration'],
  ['a malformed expect key', (t) => `${t}expect:\n  downtimeMs: { max: 1 }\n`, 'expect.downtimeMs', 'downtimeMs:', /VM\.FIELD or VM\[N\]\.FIELD/],
  ['an expect key for an unknown VM', (t) => `${t}expect:\n  vm7.downtimeMs: { max: 1 }\n`, 'expect["vm7.downtimeMs"]', 'vm7.', /no VM "vm7"/],
  ['an expect index out of range', (t) => `${t}expect:\n  vm1[1].downtimeMs: { max: 1 }\n`, 'expect["vm1[1].downtimeMs"]', 'vm1[1]', /vm1 has 1 migration, so there is no vm1\[1\]/],
  ['an expect on a VM that never moves', (t) => `${t}expect:\n  vm2.downtimeMs: { max: 1 }\n`, 'expect["vm2.downtimeMs"]', 'vm2.', /vm2 has no migrations/],
  ['an expect on an unknown field', (t) => `${t}expect:\n  vm1.downtime: { max: 1 }\n`, 'expect["vm1.downtime"]', 'vm1.downtime', /no result field "downtime"/],
  ['an empty bound', (t) => `${t}expect:\n  vm1.downtimeMs: {}\n`, 'expect["vm1.downtimeMs"]', 'vm1.', /at least one of min, max, equals/],
  ['min above max', (t) => `${t}expect:\n  vm1.downtimeMs: { min: 5, max: 1 }\n`, 'expect["vm1.downtimeMs"].min', 'vm1.', /min ≤ max/],
  ['a string bound on a number field', (t) => `${t}expect:\n  vm1.downtimeMs: { equals: fast }\n`, 'expect["vm1.downtimeMs"].equals', 'vm1.', /expected a number, got "fast"/],
  ['min on a boolean field', (t) => `${t}expect:\n  vm1.memoryVerified: { min: 1 }\n`, 'expect["vm1.memoryVerified"].min', 'vm1.', /min\/max on a boolean field/],
  ['a number for outcome', (t) => `${t}expect:\n  vm1.outcome: { equals: 1 }\n`, 'expect["vm1.outcome"].equals', 'vm1.', /expected a string, got 1/],
  ['an unknown outcome', (t) => `${t}expect:\n  vm1.outcome: { equals: done }\n`, 'expect["vm1.outcome"].equals', 'vm1.', /one of completed, reverted, failed/],
  ['a non-number min', (t) => `${t}expect:\n  vm1.downtimeMs: { min: low }\n`, 'expect["vm1.downtimeMs"].min', 'vm1.', /expected a number, got "low"/],
  ['a subnet with host bits set', (t) => `${t}dhcp: { subnet: 10.77.0.1/24 }\n`, 'dhcp.subnet', 'dhcp:', /host bits zero/],
  ['a subnet without a prefix', (t) => `${t}dhcp: { subnet: 10.77.0.0 }\n`, 'dhcp.subnet', 'dhcp:'],
  ['a zero lease time', (t) => `${t}dhcp: { subnet: 10.77.0.0/24, leaseTime: 0s }\n`, 'dhcp.leaseTime', 'dhcp:'],
  ['a source group outside 224/4', (t) => `${t}multicastSources: [{ group: 240.1.1.1, rate: 1/s, size: 1B }]\n`, 'multicastSources[0].group', 'multicastSources'],
  ['a zero source rate', (t) => `${t}multicastSources: [{ group: 239.1.1.1, rate: 0/s, size: 1B }]\n`, 'multicastSources[0].rate', 'multicastSources', /above 0/],
  ['a zero probe rate', (t) => `${t}probe: { rate: 0/s }\n`, 'probe.rate', 'probe', /above 0/],
  ['an unknown switch mode', (t) => `${t}switch: { dhcpRebind: snoop }\n`, 'switch.dhcpRebind', 'switch', /none, leasequery, assist/],
  ['an unknown engine', (t) => `${t}engine: qemu\n`, 'engine', 'engine', /one of sim, testbed/],
  ['a negative seed', (t) => `${t}seed: -1\n`, 'seed', 'seed'],
];

describe('each check reports its path and line', () => {
  it.each(CASES)('%s', (_, edit, path, needle, message) => {
    const text = edit(BASE);
    const errs = errorsOf(text);
    const hit = errs.find((e) => e.path === path);
    expect(hit, `no error at ${path}; got:\n${errs.map((e) => e.message).join('\n')}`).toBeDefined();
    expect(hit?.line).toBe(lineOf(text, needle));
    expect(hit?.message.startsWith(`x.yaml:${hit?.line}:${hit?.column}: ${path}: `)).toBe(true);
    expect(hit?.expected.length).toBeGreaterThan(0);
    if (message) expect(hit?.message).toMatch(message);
  });
});

describe('explain', () => {
  it('lists every field of the defaults table with its default', () => {
    const text = explainDefaults();
    for (const field of Object.keys(FIELDS)) expect(text).toContain(field);
    expect(text).toMatch(/migrations\[\]\.downtimeLimit\s+300ms/);
    expect(text).toMatch(/vms\[\]\.workload\s+\{ kind: idle \}/);
    expect(text).toMatch(/name\s+\(required\)/);
  });

  it('shows a scenario with units', () => {
    const text = explainScenario(parseScenario(DESIGN, 'x.yaml'));
    expect(text).toContain('1 GiB = 262144 pages of 4 KiB');
    expect(text).toContain('migrationLink 1 Gbit/s, latency 100 us');
    expect(text).toContain('hotset: 20000/s over the first 64 MiB');
    expect(text).toContain('downtimeLimit 300 ms');
    expect(text).toContain('vm1.downtimeMs: downtimeMs <= 400');
  });
});

// ---- robustness: nothing but ScenarioError escapes ------------------------------

function onlyScenarioErrors(text: string, file = 'fuzz.yaml'): void {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    for (const err of e.errors) {
      expect(err.message.length).toBeGreaterThan(0);
      expect(typeof err.path).toBe('string');
    }
  }
}

/** Paths to every scalar (and collection) in a parsed document. */
function nodePaths(doc: Document): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    out.push(path);
    if (isMap(node)) {
      for (const p of node.items) if (isScalar(p.key)) walk(p.value, [...path, String(p.key.value)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return out.filter((p) => p.length > 0);
}

const quantity = fc.constantFrom(
  '1GiB', '0B', '-1s', '10Gb/s', '1e400', '4KiB', '100us', '20000/s', '50%', '1 gigs', 'h1', 'vm1', 'h2',
  '239.1.1.1', '224.0.0.1', '02:00:00:00:01:01', '01:00:00:00:00:01', 'vm1[0].downtimeMs', '__proto__', 'constructor',
);
const junkValue = fc.oneof(
  quantity,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('robustness (fast-check)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'w.trace'), '0 1\n10 2\n');
  const withTrace = DESIGN.replace(
    'migrations:\n',
    '  - name: vm2\n    host: h2\n    memory: 4MiB\n    workload: { kind: trace, file: w.trace, loop: true }\nmigrations:\n',
  ).replace('expect:', '  - vm: vm2\n    to: h1\n    at: 3s\nexpect:');
  const validFile = join(dir, 'valid.yaml');

  it('the fuzz base is valid', () => {
    expect(parseScenario(withTrace, validFile).vms).toHaveLength(2);
  });

  it('random text never throws anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => onlyScenarioErrors(text)),
      { numRuns: 300 },
    );
  });

  it('random YAML values never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => onlyScenarioErrors(new Document(value).toString())),
      { numRuns: 300 },
    );
  });

  it('replacing or deleting any node of a valid file never throws anything but ScenarioError', () => {
    const paths = nodePaths(parseDocument(withTrace));
    fc.assert(
      fc.property(fc.constantFrom(...paths), junkValue, fc.boolean(), (path, value, remove) => {
        const doc = parseDocument(withTrace);
        if (remove) doc.deleteIn(path);
        else doc.setIn(path, value);
        onlyScenarioErrors(doc.toString(), validFile);
      }),
      { numRuns: 500 },
    );
  });

  it('character edits of a valid file never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: withTrace.length }),
        fc.nat({ max: 20 }),
        fc.string({ maxLength: 8 }),
        (at, cut, insert) => {
          const text = withTrace.slice(0, at) + insert + withTrace.slice(at + cut);
          onlyScenarioErrors(text, validFile);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('junk trace files never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (trace) => {
        try {
          parseTrace(trace, 't.trace', 1024);
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
