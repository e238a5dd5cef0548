// Whole frames from their layers: what the switch, the stations and the sim's servers
// and guests send. Each function is emit of one layer inside emit of the next.

import { emitArp, type ArpRepr } from './arp.js';
import { emitEthernet, ETHERTYPE } from './ethernet.js';
import type { Ipv4, Mac } from '../model/address.js';
import { emitIgmp, type IgmpRepr } from './igmp.js';
import { emitIpv4, IP_PROTO, ROUTER_ALERT } from './ipv4.js';
import { emitUdp } from './udp.js';

export interface UdpFrameSpec {
  srcMac: Mac;
  dstMac: Mac;
  srcIp: Ipv4;
  dstIp: Ipv4;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
}

export function udpFrame(s: UdpFrameSpec): Uint8Array {
  const udp = emitUdp({ srcPort: s.srcPort, dstPort: s.dstPort, payload: s.payload }, s.srcIp, s.dstIp);
  const ip = emitIpv4({
    dscp: 0, ecn: 0, id: s.id ?? 0, dontFragment: false, moreFragments: false, fragmentOffset: 0,
    ttl: s.ttl ?? 64, protocol: IP_PROTO.UDP, src: s.srcIp, dst: s.dstIp, options: new Uint8Array(0), payload: udp,
  });
  return emitEthernet({ dst: s.dstMac, src: s.srcMac, vlan: null, ethertype: ETHERTYPE.IPV4, payload: ip });
}

/** The Ethernet address of an IPv4 multicast group: 01:00:5e + its low 23 bits. */
export function multicastMac(group: Ipv4): Mac {
  const [, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `01:00:5e:${hex(b & 0x7f)}:${hex(c)}:${hex(d)}`;
}

/** IGMP goes with TTL 1, the Router Alert option and TOS 0xC0 (RFC 2236 §2, RFC 3376 §4). */
export function igmpFrame(s: { srcMac: Mac; dstMac: Mac; srcIp: Ipv4; dstIp: Ipv4; igmp: IgmpRepr }): Uint8Array {
  const ip = emitIpv4({
    dscp: 0x30, ecn: 0, id: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0,
    ttl: 1, protocol: IP_PROTO.IGMP, src: s.srcIp, dst: s.dstIp, options: ROUTER_ALERT, payload: emitIgmp(s.igmp),
  });
  return emitEthernet({ dst: s.dstMac, src: s.srcMac, vlan: null, ethertype: ETHERTYPE.IPV4, payload: ip });
}

export function arpFrame(dstMac: Mac, arp: ArpRepr, ethertype: number = ETHERTYPE.ARP): Uint8Array {
  return emitEthernet({ dst: dstMac, src: arp.senderMac, vlan: null, ethertype, payload: emitArp(arp) });
}
