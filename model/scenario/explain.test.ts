// explain: the defaults table and a loaded scenario shown with units.

import { describe, expect, it } from 'vitest';
import { FIELDS } from './defaults.js';
import { explainDefaults, explainScenario } from './explain.js';
import { LIMITS } from './limits.js';
import { DOC_EXAMPLE } from './load-fixture.js';
import { parseScenario } from './load.js';

describe('explain', () => {
  it('lists every field of the defaults table with its default', () => {
    const text = explainDefaults();
    for (const field of Object.keys(FIELDS)) expect(text).toContain(field);
    expect(text).toMatch(/migrations\[\]\.downtimeLimit\s+300ms/);
    expect(text).toMatch(/vms\[\]\.workload\s+\{ kind: idle \}/);
    expect(text).toMatch(/name\s+\(required\)/);
  });

  it('lists every limit with its bound and reason after the defaults', () => {
    const text = explainDefaults();
    for (const [name, l] of Object.entries(LIMITS)) {
      expect(text).toContain(name);
      expect(text).toContain(l.reason);
    }
    expect(text).toMatch(/writeRate\s+≤ 1000000000\/s\s+vms\[\]\.workload\.writeRate/);
    expect(text).toMatch(/bandwidthMin\s+≥ 1 Mbit\/s/);
    expect(text).toMatch(/trackedStateBudget\s+≤ 640 MiB/);
  });

  it('shows a scenario with units', () => {
    const text = explainScenario(parseScenario(DOC_EXAMPLE, 'x.yaml'));
    expect(text).toContain('1 GiB = 262144 pages of 4 KiB');
    expect(text).toContain('migrationLink 1 Gbit/s, latency 100 us');
    expect(text).toContain('hotset: 20000/s over the first 64 MiB');
    expect(text).toContain('downtimeLimit 300 ms');
    expect(text).toContain('vm1.downtimeMs: downtimeMs <= 400');
  });

  it('shows the faults, the keepalive, the timeout and a switch counter bound', () => {
    const text = explainScenario(parseScenario(`${DOC_EXAMPLE.replace('    autoConverge: false\n', '    autoConverge: false\n    timeout: 20s\n')}faults:
  - { at: 3s, kind: link-degrade, host: h2, loss: 1%, for: 2s }
  - { at: 1s, kind: host-crash, host: h2 }
`.replace('expect:', 'expect:\n  network.counters.vdpTakeoverRefused: { max: 0 }'), 'x.yaml'));
    expect(text).toContain('keepalive     every 5 s, 5 unanswered: a peer is dead after 30 s');
    expect(text).toContain('autoConverge off, timeout 20 s');
    expect(text).toContain("faults (in time order)\n  [1] at 1 s: host-crash of h2\n  [0] at 3 s: link-degrade of h2's migration NIC for 2 s: rate unchanged, 1% loss");
    expect(text).toContain('network.counters.vdpTakeoverRefused: switch counter vdpTakeoverRefused <= 0 (over the run)');
  });
});
