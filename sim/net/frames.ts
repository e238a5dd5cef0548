// What the sim's network actors share: decoding an inbound frame down to the layer an
// end station reads (ARP, UDP, IGMP), and a few address helpers. Everything goes through
// the switch's wire codecs; nothing here throws on bad bytes.

import { ARP_OP, parseArp, type ArpRepr } from '../../wire/arp.js';
import { ETHERTYPE, parseEthernet, type EthernetRepr } from '../../wire/ethernet.js';
import { macAt } from '../../wire/fields.js';
import { type Ipv4, ipWord, type Mac } from '../../model/address.js';
import { parseIgmp, type IgmpRepr } from '../../wire/igmp.js';
import { IP_PROTO, parseIpv4, type Ipv4Repr } from '../../wire/ipv4.js';
import { parseUdp, type UdpRepr } from '../../wire/udp.js';

export type Inbound =
  | { kind: 'arp'; eth: EthernetRepr; arp: ArpRepr }
  | { kind: 'udp'; eth: EthernetRepr; ip: Ipv4Repr; udp: UdpRepr }
  | { kind: 'igmp'; eth: EthernetRepr; ip: Ipv4Repr; igmp: IgmpRepr };

/**
 * The frame as an untagged end station on an access port sees it: ARP requests/replies,
 * unfragmented IPv4 UDP (checksum verified) and IGMP. Null for anything else — malformed
 * at any layer, 802.1Q-tagged, a fragment, RARP, another EtherType or IP protocol.
 */
export function readInbound(frame: Uint8Array): Inbound | null {
  const e = parseEthernet(frame);
  if (!e.ok || e.value.vlan !== null) return null;
  const eth = e.value;
  if (eth.ethertype === ETHERTYPE.ARP) {
    const a = parseArp(eth.payload);
    if (!a.ok || (a.value.op !== ARP_OP.REQUEST && a.value.op !== ARP_OP.REPLY)) return null;
    return { kind: 'arp', eth, arp: a.value };
  }
  if (eth.ethertype !== ETHERTYPE.IPV4) return null;
  const i = parseIpv4(eth.payload);
  if (!i.ok || i.value.moreFragments || i.value.fragmentOffset !== 0) return null;
  const ip = i.value;
  if (ip.protocol === IP_PROTO.UDP) {
    const u = parseUdp(ip.payload, ip.src, ip.dst);
    return u.ok ? { kind: 'udp', eth, ip, udp: u.value } : null;
  }
  if (ip.protocol === IP_PROTO.IGMP) {
    const g = parseIgmp(ip.payload);
    return g.ok ? { kind: 'igmp', eth, ip, igmp: g.value } : null;
  }
  return null;
}

export const ZERO_IP: Ipv4 = '0.0.0.0';
export const LIMITED_BROADCAST: Ipv4 = '255.255.255.255';
export const ZERO_MAC: Mac = '00:00:00:00:00:00';

/** A parsed CIDR block; addresses as 32-bit words. */
export interface Subnet {
  network: number;
  prefix: number;
  mask: number;
  broadcast: number;
}

/** "10.77.0.0/24" → its words; throws RangeError for bad text (a configuration error, not a frame). */
export function parseCidr(text: string): Subnet {
  const slash = text.indexOf('/');
  const base = ipWord(slash < 0 ? text : text.slice(0, slash));
  const prefix = slash < 0 ? 32 : Number(text.slice(slash + 1));
  if (base < 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`not a CIDR block: ${text}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (base & mask) >>> 0;
  return { network, prefix, mask, broadcast: (network | ~mask) >>> 0 };
}

export function inSubnet(s: Subnet, word: number): boolean {
  return word >= 0 && ((word & s.mask) >>> 0) === s.network;
}

/** The 32-bit word of an address the codecs produced or the config gave; throws on bad config text. */
export function wordOf(ip: Ipv4): number {
  const w = ipWord(ip);
  if (w < 0) throw new RangeError(`not an IPv4 address: ${ip}`);
  return w;
}

/** RFC 2132 §9.14 client identifier as udhcpc and dhclient send it: type 1 (Ethernet) + the MAC. */
export function ethernetClientId(mac: Mac): Uint8Array {
  const out = new Uint8Array(7);
  out[0] = 1;
  const parts = mac.split(':');
  for (let i = 0; i < 6; i++) out[i + 1] = parseInt(parts[i] ?? '0', 16) & 0xff;
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Normalise MAC text from a config to the one form migsim uses (lower case), validating it. */
export function normalMac(mac: Mac): Mac {
  const lower = mac.toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(lower)) throw new RangeError(`not a MAC: ${mac}`);
  return macAt(Uint8Array.from(lower.split(':').map((h) => parseInt(h, 16))), 0);
}

/** A big-endian u32 from the start of a payload (the sequence numbers the sim's traffic carries). */
export function be32(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0;
}
