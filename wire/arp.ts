// ARP (RFC 826) and RARP (RFC 903) over Ethernet/IPv4: the 28-byte body after the Ethernet
// header (ethertype 0x0806 or 0x8035). Same pattern as ethernet.ts: ArpView (offsets, check)
// → ArpRepr (validated) via parseArp, and back via emitArp. Only the Ethernet/IPv4 flavour
// exists in migsim, so any other hardware/protocol type or address length is rejected.

import { EmitError, ok, reject, type WireResult } from './result.js';
import { ipAt, macAt, put16, putIp, putMac, u16, u8 } from './fields.js';
import { isIpv4, isMac, type Ipv4, type Mac } from '../model/address.js';

export const ARP_OP = { REQUEST: 1, REPLY: 2, RARP_REQUEST: 3, RARP_REPLY: 4 } as const;

export const ARP_LEN = 28;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;

const F = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OP: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
} as const;

export interface ArpRepr {
  op: number;
  senderMac: Mac;
  senderIp: Ipv4;
  targetMac: Mac;
  targetIp: Ipv4;
}

export class ArpView {
  constructor(readonly bytes: Uint8Array) {}

  check(): string | null {
    if (this.bytes.length < ARP_LEN) return `ARP body of ${this.bytes.length} bytes is shorter than 28`;
    if (this.htype !== HTYPE_ETHERNET) return `hardware type ${this.htype} is not Ethernet (1)`;
    if (this.ptype !== PTYPE_IPV4) return `protocol type 0x${this.ptype.toString(16).padStart(4, '0')} is not IPv4 (0x0800)`;
    if (this.hlen !== 6) return `hardware address length ${this.hlen} is not 6`;
    if (this.plen !== 4) return `protocol address length ${this.plen} is not 4`;
    return null;
  }

  get htype(): number {
    return u16(this.bytes, F.HTYPE);
  }
  get ptype(): number {
    return u16(this.bytes, F.PTYPE);
  }
  get hlen(): number {
    return u8(this.bytes, F.HLEN);
  }
  get plen(): number {
    return u8(this.bytes, F.PLEN);
  }
  get op(): number {
    return u16(this.bytes, F.OP);
  }
  get senderMac(): Mac {
    return macAt(this.bytes, F.SHA);
  }
  get senderIp(): Ipv4 {
    return ipAt(this.bytes, F.SPA);
  }
  get targetMac(): Mac {
    return macAt(this.bytes, F.THA);
  }
  get targetIp(): Ipv4 {
    return ipAt(this.bytes, F.TPA);
  }
}

function knownOp(op: number): boolean {
  return op >= ARP_OP.REQUEST && op <= ARP_OP.RARP_REPLY;
}

/** Bytes past 28 are Ethernet padding (a 42-byte ARP frame is padded to 60) and are ignored. */
export function parseArp(b: Uint8Array): WireResult<ArpRepr> {
  const v = new ArpView(b);
  const bad = v.check();
  if (bad) return reject('arp', bad);
  // InARP (8/9) and the rest are not spoken here; the switch would only have to drop them.
  if (!knownOp(v.op)) return reject('arp', `operation ${v.op} is not ARP/RARP request or reply (1..4)`);
  return ok({ op: v.op, senderMac: v.senderMac, senderIp: v.senderIp, targetMac: v.targetMac, targetIp: v.targetIp });
}

export function emitArp(r: ArpRepr): Uint8Array {
  if (!Number.isInteger(r.op) || !knownOp(r.op)) throw new EmitError('arp', `operation ${r.op} is not 1..4`);
  for (const [what, mac] of [['sender MAC', r.senderMac], ['target MAC', r.targetMac]] as const) {
    if (typeof mac !== 'string' || !isMac(mac.toLowerCase())) throw new EmitError('arp', `${what} ${String(mac)} is not a MAC`);
  }
  for (const [what, ip] of [['sender IP', r.senderIp], ['target IP', r.targetIp]] as const) {
    if (typeof ip !== 'string' || !isIpv4(ip)) throw new EmitError('arp', `${what} ${String(ip)} is not an IPv4 address`);
  }
  const out = new Uint8Array(ARP_LEN);
  put16(out, F.HTYPE, HTYPE_ETHERNET);
  put16(out, F.PTYPE, PTYPE_IPV4);
  out[F.HLEN] = 6;
  out[F.PLEN] = 4;
  put16(out, F.OP, r.op);
  putMac(out, F.SHA, r.senderMac);
  putIp(out, F.SPA, r.senderIp);
  putMac(out, F.THA, r.targetMac);
  putIp(out, F.TPA, r.targetIp);
  return out;
}
