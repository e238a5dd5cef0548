// A scenario's testbed topology as pure data (docs/testbed-wiring.md): which containers,
// which switch port leads to which endpoint, the fixed interface names. Nothing here touches
// Docker or the kernel; network.ts makes what this plans.

import { createHash } from 'node:crypto';
import type { Scenario } from '../model/scenario/types.js';
import type { Role } from './compose.js';
import { ifName } from './link.js';
import { TestbedNode } from './node.js';

export const MGMT_NETWORK = 'mgmt';
export const HOST_UPLINK = 'uplink';
export const VM_IF = 'eth0';

/** The switch's port toward a host (`sw-<host>`), dhcp (`sw-dhcp`), source i (`sw-ms<i>`), probe (`sw-probe`). */
export const portName = (peer: string): string => ifName('sw-', peer);
/** The switch container's end of the veth to the peer (`sl-<peer>`): the port's link, which the switch watches. */
export const portLinkName = (peer: string): string => ifName('sl-', peer);
/** The peer of the switch's capture end inside the switch container (`sj-<peer>`), joined to the link by tc. */
export const portJointName = (peer: string): string => ifName('sj-', peer);
export const vnicName = (vm: string): string => ifName('vnic-', vm);

/** One data-plane attachment: a switch port and the endpoint it leads to. */
export interface PortInfo {
  /** the switch's capture interface (`sw-<peer>`) */
  port: string;
  /** the switch container's end of the veth to the peer (`sl-<peer>`) */
  link: string;
  /** the capture interface's veth peer in the switch container (`sj-<peer>`) */
  joint: string;
  role: Role;
  /** the container's scenario name (host name, source index) or null for a singleton */
  name: string | null;
  container: string;
  ifname: string;
}

export interface TopologyPlan {
  scenario: string;
  nodes: { role: Role; name: string | null }[];
  ports: PortInfo[];
  vms: { name: string; host: string; mac: string }[];
  fingerprint: string;
}

/** What a scenario becomes, before anything is created. */
export function planTopology(s: Scenario, image: string): TopologyPlan {
  const nodes: { role: Role; name: string | null }[] = [{ role: 'switch', name: null }];
  const ports: PortInfo[] = [];
  const add = (role: Role, name: string | null, peerTag: string, ifname: string) => {
    nodes.push({ role, name });
    ports.push({ port: portName(peerTag), link: portLinkName(peerTag), joint: portJointName(peerTag), role, name, container: TestbedNode.containerName(role, name), ifname });
  };
  for (const h of s.hosts) add('host', h.name, h.name, HOST_UPLINK);
  if (s.dhcp) add('dhcp', null, 'dhcp', 'eth0');
  s.multicastSources.forEach((_, i) => add('msource', String(i), `ms${i}`, 'eth0'));
  if (s.probe) add('probe', null, 'probe', 'eth0');
  for (const v of s.vms) nodes.push({ role: 'vm', name: v.name });
  const seen = new Map<string, string>();
  for (const p of ports) {
    const other = seen.get(p.port);
    if (other) throw new Error(`switch port name ${p.port} would serve both ${other} and ${p.container}; rename a host`);
    seen.set(p.port, p.container);
  }
  const vms = s.vms.map((v) => ({ name: v.name, host: v.host, mac: v.mac }));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ scenario: s.name, image, nodes, ports, vms }))
    .digest('hex')
    .slice(0, 16);
  return { scenario: s.name, nodes, ports, vms, fingerprint };
}
