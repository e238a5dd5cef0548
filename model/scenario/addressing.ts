// The IPv4 address plan of a scenario's DHCP subnet, the same in both engines: .1 the DHCP
// server, .2 the probe, .3… the multicast sources, the last host address the switch (its
// giaddr for leasequery); the VMs' pool in between.

import { ipToU32, u32ToIp } from '../address.js';
import type { Scenario, SwitchSpec } from './types.js';

export interface Addressing {
  switchIp: string;
  serverIp: string;
  probeIp: string;
  sourceIp: (i: number) => string;
  poolFirst: string;
  poolLast: string;
}

export function addressing(subnet: string, sources: number): Addressing {
  const [base, len] = subnet.split('/') as [string, string];
  const network = ipToU32(base);
  const size = 2 ** (32 - Number(len));
  const at = (i: number) => u32ToIp((network + i) >>> 0);
  return {
    serverIp: at(1),
    probeIp: at(2),
    sourceIp: (i) => at(3 + i),
    poolFirst: at(3 + sources + 1),
    poolLast: at(size - 3),
    switchIp: at(size - 2),
  };
}

/** The switch's own MAC (both engines): locally administered, 02:5e:00:00:00:01. */
export const SWITCH_MAC = '02:5e:00:00:00:01';

/** The switch a scenario runs with: its `switch:` block, or the prior art when it has none. */
export function effectiveSwitch(s: Scenario): SwitchSpec {
  return s.switch ?? { vdp: 'standard', dhcpRebind: 'none', igmpRebind: 'none', ipSourceGuard: true, igmpQueryIntervalNs: 125e9, bindingDatabase: 'none', dhcpRebindFallback: 'none' };
}
