// The `faults:` section's cross-field checks: what each fault names exists, it falls inside
// the run, and the run has the part it breaks (a DHCP server, a data network). The kinds and
// what each does: docs/faults.md.

import { formatDuration } from '../units.js';
import { list } from './gaps.js';
import type { Problems } from './problems.js';
import type { RawFault, RawScenario } from './schema.js';
import type { FaultSpec, Scenario, VmSpec } from './types.js';
import type { Ns } from '../time.js';

/** libvirt's rule: a peer that answers no keepalive for interval × (count + 1) is dead. */
export function keepaliveTimeoutNs(s: Scenario): Ns {
  return s.network.keepalive.intervalNs * (s.network.keepalive.count + 1);
}

/** The run has a data network (switch, DHCP, probe or multicast): the same rule as support.ts hasNetwork, on the raw file. */
function rawHasNetwork(raw: RawScenario): boolean {
  return raw.switch !== undefined || raw.dhcp !== undefined || raw.probe !== undefined || raw.multicastSources.length > 0 || raw.vms.some((v) => v.multicast.length > 0);
}

export function normalizeFaults(raw: RawScenario, hosts: Set<string>, vms: VmSpec[], migratedVms: Set<string>, problems: Problems): FaultSpec[] {
  const vmNames = new Set(vms.map((v) => v.name));
  const network = rawHasNetwork(raw);
  const out: FaultSpec[] = [];
  raw.faults.forEach((f: RawFault, i) => {
    const at = (field: string) => ['faults', i, field];
    let ok = true;
    const need = (cond: boolean, field: string, expected: string, problem?: string) => {
      if (cond) return;
      ok = false;
      problems.add(at(field), expected, problem === undefined ? {} : { problem });
    };
    if (raw.duration !== undefined) need(f.at < raw.duration, 'at', `a time before the end of the run (duration ${formatDuration(raw.duration)})`);
    if ('host' in f) need(hosts.has(f.host), 'host', `one of the hosts: ${list(hosts)}`);
    if ('vm' in f) need(vmNames.has(f.vm), 'vm', `one of the VMs: ${list(vmNames)}`);
    switch (f.kind) {
      case 'host-crash':
        out.push({ index: i, atNs: f.at, kind: f.kind, host: f.host });
        break;
      case 'link-down':
        out.push({ index: i, atNs: f.at, kind: f.kind, host: f.host, forNs: f.for });
        break;
      case 'link-degrade':
        need(f.bandwidth !== undefined || f.loss > 0, 'kind', 'a bandwidth or a loss above 0% (this degrades nothing)', 'link-degrade with neither');
        out.push({ index: i, atNs: f.at, kind: f.kind, host: f.host, bandwidthBps: f.bandwidth ?? null, loss: f.loss, forNs: f.for });
        break;
      case 'dhcp-down':
        need(raw.dhcp !== undefined, 'kind', 'a dhcp section (there is no DHCP server to stop)', 'dhcp-down in a run without dhcp');
        out.push({ index: i, atNs: f.at, kind: f.kind, forNs: f.for });
        break;
      case 'switch-restart':
        need(network, 'kind', 'a data network (switch, dhcp, probe or multicast): there is no switch to restart', 'switch-restart in a run without a network');
        out.push({ index: i, atNs: f.at, kind: f.kind, downForNs: f.downFor });
        break;
      case 'cancel':
        if (vmNames.has(f.vm)) need(migratedVms.has(f.vm), 'vm', 'a VM that is migrated', `${f.vm} has no migration to cancel`);
        out.push({ index: i, atNs: f.at, kind: f.kind, vm: f.vm });
        break;
      case 'spoofed-associate': {
        need(network, 'kind', 'a data network (switch, dhcp, probe or multicast): there is no switch to spoof', 'spoofed-associate in a run without a network');
        const own = vms.find((v) => v.host === f.host);
        const vsiType = f.vsiType ?? own?.vsiType ?? null;
        need(vsiType !== null, 'vsiType', `a vsiType (no VM starts on ${f.host} to take its type from)`);
        out.push({ index: i, atNs: f.at, kind: f.kind, host: f.host, vm: f.vm, vsiType: vsiType ?? { id: 0, version: 0 } });
        break;
      }
    }
    if (!ok) out.pop();
  });
  return out.sort((a, b) => a.atNs - b.atNs || a.index - b.index);
}
