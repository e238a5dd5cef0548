// The fault words both engines write (model/result/fault-words.ts) and libvirt's keepalive
// timeout, checked against a sim run of the same scenario; and the order faults come in.

import { describe, expect, it } from 'vitest';
import { runScenario } from './engine.js';
import { migration, ms, s, scenario, vm } from '../model/scenario/fixture.js';
import { parseScenario } from '../model/scenario/load.js';
import { keepaliveTimeoutNs } from '../model/scenario/faults.js';
import { cancelEffect, cancelReason, crashDetectReason, linkDegradeEffect, timeoutReason } from '../model/result/fault-words.js';

describe('fault words', () => {
  it('the loader hands the faults over by time, then as listed (the order both engines inject them in)', () => {
    const sc = parseScenario(`name: order
hosts: [h1, h2]
vms: [{ name: vm1, host: h1, memory: 1MiB }]
migrations: [{ vm: vm1, to: h2, at: 1s }]
faults:
  - { at: 3s, kind: cancel, vm: vm1 }
  - { at: 1s, kind: cancel, vm: vm1 }
  - { at: 1s, kind: cancel, vm: vm1 }
  - { at: 0s, kind: cancel, vm: vm1 }
`, 'order.yaml');
    expect(sc.faults.map((x) => x.index)).toEqual([3, 1, 2, 0]);
  });

  it('the keepalive gives up after interval × (count + 1): 30 s by default, 3 s for 1 s × 2', () => {
    expect(keepaliveTimeoutNs(scenario({}))).toBe(30 * s);
    expect(keepaliveTimeoutNs(scenario({ network: { ...scenario({}).network, keepalive: { intervalNs: 1 * s, count: 2 } } }))).toBe(3 * s);
  });

  it('reasons and effects are the words of the sim run of the same scenario', () => {
    const sc = scenario({
      durationNs: 10 * s,
      network: { ...scenario({}).network, keepalive: { intervalNs: 1 * s, count: 2 } },
      vms: [vm({ name: 'vm1', host: 'h1' }), vm({ name: 'vm2', host: 'h3' })],
      hosts: [{ name: 'h1', memoryBytes: null }, { name: 'h2', memoryBytes: null }, { name: 'h3', memoryBytes: null }, { name: 'h4', memoryBytes: null }],
      migrations: [migration({ vm: 'vm1', from: 'h1', to: 'h2', atNs: 1 * s }), migration({ vm: 'vm2', from: 'h3', to: 'h4', atNs: 1 * s, timeoutNs: 2 * s, index: 1 })],
      faults: [{ index: 0, atNs: 1500 * ms, kind: 'cancel', vm: 'vm1' }],
    });
    const r = runScenario(sc);
    const [m1, m2] = r.migrations;
    expect(m1!.error).toBe(cancelReason(sc.faults[0]!));
    expect(r.faults[0]!.effect).toBe(cancelEffect('vm1', { to: 'h2', from: 'h1' }, true, null));
    expect(m2!.error).toBe(timeoutReason(sc.migrations[1]!));
    expect(crashDetectReason('h2', 3 * s, 3 * s)).toBe('the destination h2 crashed at 3s; the source gave up on it 3 s later (keepalive)');
    expect(linkDegradeEffect('h4', null, 0.01, 30 * s)).toBe("h4's migration NIC runs at 1% loss for 30 s");
    expect(cancelEffect('vm1', null, false, null)).toBe('no effect: vm1 was not migrating');
  });
});
