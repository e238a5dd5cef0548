// The frames the switch is fuzzed with, by its tests and the fuzz-state benchmark: valid
// frames of each kind it inspects (unicast UDP, a DHCP REQUEST, an IGMPv3 report), and from a
// seeded stream either random bytes or one of those with a few bytes and maybe its source MAC
// changed.

import type { Random } from '../model/random.js';
import { igmpFrame, multicastMac, udpFrame } from '../wire/compose.js';
import { DHCP, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, emitDhcp, emptyDhcpOptions } from '../wire/dhcp.js';
import { IGMP_RECORD, IGMPV3_ALL_ROUTERS } from '../wire/igmp.js';

const VM = { mac: '02:00:00:00:01:01', ip: '10.77.0.100' };
const SERVER = { mac: '02:d0:00:00:00:01', ip: '10.77.0.1' };

/** Valid frames of every kind the switch inspects, to mutate. */
export function fuzzSeeds(): Uint8Array[] {
  const opts = emptyDhcpOptions();
  opts.messageType = DHCP.REQUEST;
  const dhcp = emitDhcp({
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 7, secs: 0, broadcast: false, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0',
    giaddr: '0.0.0.0', chaddr: VM.mac, sname: '', file: '', options: opts,
  });
  return [
    udpFrame({ srcMac: VM.mac, dstMac: SERVER.mac, srcIp: VM.ip, dstIp: SERVER.ip, srcPort: 40000, dstPort: 5001, payload: new Uint8Array(64) }),
    udpFrame({ srcMac: VM.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload: dhcp }),
    igmpFrame({ srcMac: VM.mac, dstMac: multicastMac(IGMPV3_ALL_ROUTERS), srcIp: VM.ip, dstIp: IGMPV3_ALL_ROUTERS, igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }),
  ];
}

/** 14–313 random bytes. */
export function randomFrame(rng: Random): Uint8Array {
  const f = new Uint8Array(14 + rng.below(300));
  for (let j = 0; j < f.length; j++) f[j] = rng.below(256);
  return f;
}

/** One of `seeds` with 1–4 bytes changed, and half the time a fresh source MAC. */
export function mutatedFrame(rng: Random, seeds: readonly Uint8Array[]): Uint8Array {
  const f = seeds[rng.below(seeds.length)]!.slice();
  for (let m = 1 + rng.below(4); m > 0; m--) f[rng.below(f.length)] = rng.below(256);
  if (rng.below(2)) for (let j = 6; j < 12; j++) f[j] = rng.below(256);
  return f;
}
