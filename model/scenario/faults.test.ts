// The `faults:` section's loader checks: each bad entry named by its path, with what was expected.

import { describe, expect, it } from 'vitest';
import { BASE, errorsOf } from './load-fixture.js';
import { parseScenario } from './load.js';

const withFaults = (faults: string, extra = '') => `${BASE}${extra}faults:\n${faults}`;
const messages = (text: string) => errorsOf(text).map((e) => `${e.path}: expected ${e.expected}`);

describe('faults: section', () => {
  it('loads every kind, in time order, in base units', () => {
    const s = parseScenario(withFaults(`  - { at: 3s, kind: host-crash, host: h2 }
  - { at: 1s, kind: link-down, host: h1, for: 2s }
  - { at: 1s, kind: link-degrade, host: h2, bandwidth: 100Mbit/s, loss: 1%, for: 5s }
  - { at: 2s, kind: cancel, vm: vm1 }
`), 'x.yaml');
    expect(s.faults).toEqual([
      { index: 1, atNs: 1e9, kind: 'link-down', host: 'h1', forNs: 2e9 },
      { index: 2, atNs: 1e9, kind: 'link-degrade', host: 'h2', bandwidthBps: 100e6, loss: 0.01, forNs: 5e9 },
      { index: 3, atNs: 2e9, kind: 'cancel', vm: 'vm1' },
      { index: 0, atNs: 3e9, kind: 'host-crash', host: 'h2' },
    ]);
  });

  it('names an unknown kind, a missing field and an unknown key', () => {
    expect(messages(withFaults(`  - { at: 1s, kind: meteor, host: h1 }
  - { at: 1s, kind: link-down, host: h1 }
  - { at: 1s, kind: host-crash, host: h1, for: 2s }
`))).toEqual([
      'faults[0].kind: expected a fault kind: host-crash, link-down, link-degrade, dhcp-down, switch-restart, cancel, spoofed-associate',
      'faults[1].for: expected a duration such as 300ms or 1.5s',
      'faults[2].for: expected one of kind, at, host (the keys of a host-crash fault)',
    ]);
  });

  it('refuses faults that name nothing, break nothing or fall after the run', () => {
    expect(messages(withFaults(`  - { at: 1s, kind: host-crash, host: h9 }
  - { at: 1s, kind: cancel, vm: vm2 }
  - { at: 1s, kind: dhcp-down, for: 2s }
  - { at: 1s, kind: link-degrade, host: h1, for: 2s }
  - { at: 1s, kind: switch-restart, downFor: 1s }
  - { at: 20s, kind: link-down, host: h1, for: 1s }
`, 'duration: 10s\n'))).toEqual([
      'faults[0].host: expected one of the hosts: h1, h2',
      'faults[1].vm: expected a VM that is migrated',
      'faults[2].kind: expected a dhcp section (there is no DHCP server to stop)',
      'faults[3].kind: expected a bandwidth or a loss above 0% (this degrades nothing)',
      'faults[4].kind: expected a data network (switch, dhcp, probe or multicast): there is no switch to restart',
      'faults[5].at: expected a time before the end of the run (duration 10 s)',
    ]);
  });

  it('takes a spoofed associate\'s VSI type from a VM on its host, and asks for one when there is none', () => {
    const net = 'dhcp: { subnet: 10.77.0.0/24 }\nduration: 10s\n';
    const s = parseScenario(withFaults('  - { at: 1s, kind: spoofed-associate, host: h2, vm: vm1 }\n', net), 'x.yaml');
    expect(s.faults[0]).toMatchObject({ kind: 'spoofed-associate', vsiType: { id: 1, version: 1 } });
    const none = BASE.replace('    host: h2\n    memory: 512MiB', '    host: h1\n    memory: 512MiB');
    expect(errorsOf(`${none}${net}faults:\n  - { at: 1s, kind: spoofed-associate, host: h2, vm: vm1 }\n`).map((e) => e.path)).toEqual(['faults[0].vsiType']);
  });

  it('refuses a loss of 100 % and a fault list beyond its limit', () => {
    expect(messages(withFaults('  - { at: 1s, kind: link-degrade, host: h1, loss: 100%, for: 1s }\n'))).toEqual([
      'faults[0].loss: expected a loss from 0% to below 100%',
    ]);
    const many = Array.from({ length: 1001 }, () => '  - { at: 1s, kind: link-down, host: h1, for: 1s }\n').join('');
    expect(messages(withFaults(many))).toEqual(['faults: expected faults entries, at most 1000 (limit faults)']);
  });

  it('bounds a switch counter with network.counters.NAME, and names an unknown one', () => {
    const net = 'dhcp: { subnet: 10.77.0.0/24 }\nduration: 10s\n';
    const s = parseScenario(`${BASE}${net}expect:\n  network.counters.vdpTakeoverRefused: { equals: 1 }\n`, 'x.yaml');
    expect(s.expect).toEqual([{ key: 'network.counters.vdpTakeoverRefused', vm: '', migration: null, field: 'vdpTakeoverRefused', network: true, equals: 1 }]);
    expect(errorsOf(`${BASE}${net}expect:\n  network.counters.hijacks: { max: 0 }\n`)[0]?.problem).toBe('no counter "hijacks"');
  });
});
