// What a scenario asks of an engine that the schema alone cannot refuse: the checks both
// engines run before anything starts, each refusal naming the field.

import { ipToU32 } from '../address.js';
import { addressing } from './addressing.js';
import type { Scenario } from './types.js';

/** The scenario asks for something this engine cannot do (yet): bad input for this version, exit 2. */
export class UnsupportedError extends Error {
  constructor(readonly file: string, readonly path: string, message: string) {
    super(`${file}: ${path}: ${message}`);
    this.name = 'UnsupportedError';
  }
}

/** Whether the scenario has a data network to simulate besides the memory migration. */
export function hasNetwork(s: Scenario): boolean {
  return s.switch !== null || s.dhcp !== null || s.probe !== null || s.multicastSources.length > 0 || s.vms.some((v) => v.multicast.length > 0);
}

/** What this engine cannot run, refused by field — never ignored silently. */
export function checkSupported(s: Scenario): void {
  s.vms.forEach((vm, i) => {
    if (s.fidelity === 'fluid' && vm.workload.kind === 'trace') {
      throw new UnsupportedError(s.file, `vms[${i}].workload`, 'a trace workload has no closed form, so it needs `fidelity: pages`');
    }
  });
  if (!hasNetwork(s)) return;
  if (s.durationNs === null) {
    throw new UnsupportedError(s.file, 'duration', 'a scenario with a network (switch, dhcp, probe, multicast) needs a duration: its traffic never ends by itself');
  }
  if (!s.dhcp) {
    if (s.probe) throw new UnsupportedError(s.file, 'probe', 'the probe needs `dhcp`: the VMs get their addresses from it');
    if (s.switch?.dhcpRebind && s.switch.dhcpRebind !== 'none') throw new UnsupportedError(s.file, 'switch.dhcpRebind', 'DHCP rebind needs `dhcp`');
    if (s.vms.some((v) => v.multicast.length > 0)) throw new UnsupportedError(s.file, 'vms', 'joining multicast groups needs `dhcp`: a guest reports groups once it has an address');
    return;
  }
  const vlans = new Set(s.vms.map((v) => v.vlan));
  if (vlans.size > 1) throw new UnsupportedError(s.file, 'vms', `one DHCP subnet serves one VLAN, but the VMs are on VLANs ${[...vlans].join(', ')}`);
  const a = addressing(s.dhcp.subnet, s.multicastSources.length);
  const poolSize = ipToU32(a.poolLast) - ipToU32(a.poolFirst) + 1;
  if (!(poolSize >= s.vms.length)) {
    throw new UnsupportedError(s.file, 'dhcp.subnet', `${s.dhcp.subnet} leaves ${Math.max(0, poolSize)} addresses for ${s.vms.length} VMs (the sim keeps .1–.${3 + s.multicastSources.length} and the last two)`);
  }
}

