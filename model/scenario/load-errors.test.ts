// The loader's errors: file:line:col: path: expected X, got Y — for schema issues, YAML
// errors and every cross-field check, each pointing at the line that holds the problem.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError, ScenarioErrors } from './errors.js';
import { BASE, errorsOf, lineOf, replace, tempDir } from './load-fixture.js';
import { loadScenario, parseScenario } from './load.js';

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
  ['VMs that overfill a host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [{ name: h1, memory: 1GiB }, h2]').replace('host: h2', 'host: h1'), 'vms[1].host', 'host: h1\n    memory: 512MiB', /h1 has 1 GiB but would hold 1.5 GiB \(vm1 1 GiB, vm2 512 MiB\)/],
  ['a migration onto a full host', (t) => replace(t, 'hosts: [h1, h2]', 'hosts: [h1, { name: h2, memory: 1GiB }]'), 'migrations[0].to', 'to: h2', /h2 has 1 GiB but would hold 1.5 GiB at 2 s \(vm2 512 MiB, vm1 1 GiB\)/],
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
