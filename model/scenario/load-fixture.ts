// Scenario texts and helpers the loader's tests share: docs/scenario-format.md's example, a small valid
// scenario for error cases to edit, and what parseScenario reports for a text.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScenarioError } from './errors.js';
import { parseScenario } from './load.js';

// docs/scenario-format.md's example, verbatim (load.test.ts checks that the doc still shows it).
export const DOC_EXAMPLE = `name: hotset-leasequery          # [a-z0-9-]+
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
export const BASE = `name: base
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
export function errorsOf(text: string, file = 'x.yaml'): ScenarioError[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return [...e.errors];
    throw e;
  }
  throw new Error(`loaded without errors:\n${text}`);
}

/** 1-based line of the first occurrence of `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in text`);
  return text.slice(0, i).split('\n').length;
}

export function replace(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${from} not in text`);
  return text.replace(from, to);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'migsim-load-'));
}
