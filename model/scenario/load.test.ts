// The loader on valid scenarios: every field normalized to base units, defaults filled,
// migrations resolved in time order, placements checked against host memory.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE, DOC_EXAMPLE, errorsOf, replace, tempDir } from './load-fixture.js';
import { loadScenario, parseScenario } from './load.js';
import type { Scenario } from './types.js';

describe('a valid scenario', () => {
  it('docs/scenario-format.md shows this very example', () => {
    const doc = readFileSync(new URL('../../docs/scenario-format.md', import.meta.url), 'utf8');
    const block = /## Example\n[^]*?```yaml\n([^]*?)```\n/.exec(doc)?.[1];
    expect(block).toBe(DOC_EXAMPLE.replace(/\n*$/, '\n'));
  });

  it('normalizes the example of docs/scenario-format.md to exact base units', () => {
    const s = parseScenario(DOC_EXAMPLE, 'scenarios/hotset-leasequery.yaml');
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
        keepalive: { intervalNs: 5e9, count: 5 },
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
        bindingDatabase: 'none',
        dhcpRebindFallback: 'none',
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
          throttleInitialPct: 20,
          throttleIncrementPct: 10,
          postcopyAfterRounds: 0,
          timeoutNs: null,
        },
      ],
      faults: [],
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
        keepalive: { intervalNs: 5e9, count: 5 },
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
      faults: [],
      expect: [],
    } satisfies Scenario);
  });

  it('fills section defaults: an empty switch, dhcp without leaseTime, a migration with only vm/to/at', () => {
    const s = parseScenario(
      `${BASE}duration: 10s\nswitch: {}\ndhcp: { subnet: 10.0.0.0/8 }\nnetwork: { migrationLink: { bandwidth: 1Gbit/s } }\n`,
      'x.yaml',
    );
    expect(s.switch).toEqual({
      vdp: 'standard',
      dhcpRebind: 'none',
      igmpRebind: 'none',
      ipSourceGuard: true,
      igmpQueryIntervalNs: 125e9,
      bindingDatabase: 'none',
      dhcpRebindFallback: 'none',
    });
    expect(s.network.keepalive).toEqual({ intervalNs: 5e9, count: 5 });
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
      throttleInitialPct: 20,
      throttleIncrementPct: 10,
      postcopyAfterRounds: 0,
      timeoutNs: null,
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
    )
      .replace('name: base', 'name: base\nengine: testbed\nfidelity: fluid\nseed: 42\nduration: 10s\ndhcp: { subnet: 10.0.0.0/24 }')
      .replace('    memory: 1GiB\n', '    memory: 1GiB\n    vlan: 4094\n')
      .concat('multicastSources: [{ group: 239.1.1.1, rate: 10/s, size: 100B }, { group: 224.0.1.1, rate: 10/s, size: 100B }]\n');
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
    expect(e?.message).toMatch(/h2 has 8 GiB but would hold 16 GiB at 2 s \(vm2 8 GiB, vm1 8 GiB\)/);
  });

  it('loads from a file and records the path as given', () => {
    const dir = tempDir();
    const file = join(dir, 'design.yaml');
    writeFileSync(file, DOC_EXAMPLE);
    const s = loadScenario(file);
    expect(s.file).toBe(file);
    expect(s.vms[0]?.pageCount).toBe(262144);
  });
});
