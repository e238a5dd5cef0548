// The ISC dhcpd configuration of a scenario's `dhcp:` block, with the addresses the sim's
// server model uses. Settings and why: docs/testbed-processes.md "dhcpd.conf".

import { addressing, type Addressing } from '../../model/scenario/addressing.js';
import { ipToU32, u32ToIp } from '../../model/address.js';

export interface DhcpdConfigInput {
  /** the scenario's dhcp.subnet, CIDR (`10.77.0.0/24`) */
  subnet: string;
  /** the scenario's dhcp.leaseTime, seconds (rounded to a whole second, at least 1) */
  leaseSeconds: number;
  /** how many multicast sources the scenario has (their addresses are kept out of the pool) */
  sources: number;
}

export interface ParsedSubnet {
  network: string;
  prefix: number;
  netmask: string;
  broadcast: string;
}

/** `a.b.c.d/len` with the host bits zero; throws a RangeError naming what is wrong. */
export function parseSubnet(cidr: string): ParsedSubnet {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new RangeError(`subnet ${JSON.stringify(cidr)}: expected a.b.c.d/len`);
  const base = ipToU32(m[1]!);
  const prefix = Number(m[2]);
  if (!Number.isFinite(base) || base < 0 || m[1]!.split('.').some((o) => Number(o) > 255)) throw new RangeError(`subnet ${cidr}: ${m[1]} is not an IPv4 address`);
  if (prefix < 8 || prefix > 29) throw new RangeError(`subnet ${cidr}: prefix /${prefix} must be /8 to /29 (room for the server, probe, switch and a pool)`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & ~mask) >>> 0 !== 0) throw new RangeError(`subnet ${cidr}: host bits are set (the network is ${u32ToIp((base & mask) >>> 0)}/${prefix})`);
  return { network: m[1]!, prefix, netmask: u32ToIp(mask), broadcast: u32ToIp((base | ~mask) >>> 0) };
}

/** The scenario's addresses, checked: the pool must hold at least one address. */
export function dhcpAddressing(input: Pick<DhcpdConfigInput, 'subnet' | 'sources'>): Addressing {
  parseSubnet(input.subnet);
  if (!Number.isInteger(input.sources) || input.sources < 0) throw new RangeError(`sources ${input.sources}: expected a count ≥ 0`);
  const a = addressing(input.subnet, input.sources);
  if (ipToU32(a.poolFirst) > ipToU32(a.poolLast)) {
    throw new RangeError(`subnet ${input.subnet} has no room for a pool after the server, the probe and ${input.sources} multicast source(s)`);
  }
  return a;
}

/** The dhcpd.conf text. Deterministic: the same input gives the same bytes. */
export function dhcpdConfig(input: DhcpdConfigInput): string {
  const s = parseSubnet(input.subnet);
  const a = dhcpAddressing(input);
  if (!Number.isFinite(input.leaseSeconds) || input.leaseSeconds <= 0) throw new RangeError(`lease time ${input.leaseSeconds} s: expected > 0`);
  const lease = Math.max(1, Math.round(input.leaseSeconds));
  return [
    '# ISC dhcpd 4.4 configuration written by migsim (hosts/dhcp/dhcpd-config.ts); do not edit.',
    `# subnet ${input.subnet}: server ${a.serverIp}, probe ${a.probeIp}, ${input.sources} multicast source(s) from ${a.sourceIp(0)},`,
    `# pool ${a.poolFirst}-${a.poolLast}, switch (leasequery giaddr) ${a.switchIp}`,
    'authoritative;',
    'allow leasequery;',
    'ping-check false;',
    'one-lease-per-client true;',
    'ddns-update-style none;',
    `default-lease-time ${lease};`,
    `max-lease-time ${lease};`,
    `min-lease-time ${lease};`,
    '',
    `subnet ${s.network} netmask ${s.netmask} {`,
    `  range ${a.poolFirst} ${a.poolLast};`,
    `  option subnet-mask ${s.netmask};`,
    `  option broadcast-address ${s.broadcast};`,
    '}',
    '',
  ].join('\n');
}
