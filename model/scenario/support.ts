// What a scenario asks of an engine that the schema alone cannot refuse. The loader reports
// every one of these with the rest of a file's problems (load.ts), so a loaded scenario has
// none; the engines still call checkSupported, as a guard for scenarios built by hand.

import { ipToU32 } from '../address.js';
import { addressing } from './addressing.js';
import type { PathSegment } from './errors.js';
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

/** One thing the engines cannot run: the field, and why. */
export interface Unsupported {
  path: PathSegment[];
  /** the display path as UnsupportedError has always named it */
  shown: string;
  message: string;
  /** what would be accepted, for the loader's "expected …" */
  expected: string;
}

/** Fields the loader could not read (schema errors): a check that would depend on one is skipped. */
export interface SupportSkips {
  duration?: boolean;
  dhcp?: boolean;
}

/** Everything in `s` the engines refuse, in a fixed order. */
export function unsupported(s: Scenario, skip: SupportSkips = {}): Unsupported[] {
  const out: Unsupported[] = [];
  const add = (path: PathSegment[], shown: string, message: string, expected: string) => out.push({ path, shown, message, expected });
  s.vms.forEach((vm, i) => {
    if (s.fidelity === 'fluid' && vm.workload.kind === 'trace') {
      add(['vms', i, 'workload'], `vms[${i}].workload`, 'a trace workload has no closed form, so it needs `fidelity: pages`', 'fidelity: pages for a trace workload');
    }
  });
  if (s.fidelity === 'fluid') {
    const m = s.migrations.find((x) => x.mode === 'postcopy' && x.postcopyAfterRounds > 0);
    if (m) {
      add(['migrations', m.index, 'postcopyAfterRounds'], `migrations[${m.index}].postcopyAfterRounds`, "the fluid model's post-copy starts with every page on the source, so post-copy after pre-copy rounds needs `fidelity: pages`", 'fidelity: pages for post-copy after pre-copy rounds');
    }
  }
  const cut = s.faults.find((f) => f.kind === 'link-down');
  if (cut && s.fidelity === 'fluid' && s.migrations.some((m) => m.mode === 'postcopy')) {
    add(['faults', cut.index], `faults[${cut.index}]`, "the fluid model does not stall post-copy's faults on a cut link, so a link-down with post-copy needs `fidelity: pages`", 'fidelity: pages for a link-down with post-copy');
  }
  if (!hasNetwork(s)) return out;
  if (s.durationNs === null && !skip.duration) {
    add(['duration'], 'duration', 'a scenario with a network (switch, dhcp, probe, multicast) needs a duration: its traffic never ends by itself', 'a duration');
  }
  if (!s.dhcp) {
    if (skip.dhcp) return out;
    if (s.probe) add(['probe'], 'probe', 'the probe needs `dhcp`: the VMs get their addresses from it', 'a dhcp section');
    if (s.switch?.dhcpRebind && s.switch.dhcpRebind !== 'none') add(['switch', 'dhcpRebind'], 'switch.dhcpRebind', 'DHCP rebind needs `dhcp`', 'a dhcp section, or dhcpRebind: none');
    const joiner = s.vms.findIndex((v) => v.multicast.length > 0);
    if (joiner >= 0) add(['vms', joiner, 'multicast'], 'vms', 'joining multicast groups needs `dhcp`: a guest reports groups once it has an address', 'a dhcp section');
    return out;
  }
  const vlans = new Set(s.vms.map((v) => v.vlan));
  if (vlans.size > 1) {
    const other = s.vms.findIndex((v) => v.vlan !== s.vms[0]?.vlan);
    add(['vms', Math.max(0, other), 'vlan'], 'vms', `one DHCP subnet serves one VLAN, but the VMs are on VLANs ${[...vlans].join(', ')}`, 'every VM on one VLAN');
  }
  const a = addressing(s.dhcp.subnet, s.multicastSources.length);
  const poolSize = ipToU32(a.poolLast) - ipToU32(a.poolFirst) + 1;
  if (!(poolSize >= s.vms.length)) {
    add(['dhcp', 'subnet'], 'dhcp.subnet', `${s.dhcp.subnet} leaves ${Math.max(0, poolSize)} addresses for ${s.vms.length} VMs (the sim keeps .1–.${3 + s.multicastSources.length} and the last two)`, 'a subnet with an address for every VM');
  }
  return out;
}

/** What this engine cannot run, refused by field — never ignored silently. Throws the first. */
export function checkSupported(s: Scenario): void {
  const first = unsupported(s)[0];
  if (first) throw new UnsupportedError(s.file, first.shown, first.message);
}
