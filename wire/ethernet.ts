// Ethernet II frames with an optional 802.1Q tag. The pattern every codec here follows:
//  - EthernetView: a thin view over bytes with named field offsets. `check()` says whether
//    the bytes are long enough; getters never read past the end (fields.ts returns 0
//    beyond it, and check() runs before any getter is trusted).
//  - EthernetRepr: the validated, high-level value. `parseEthernet` goes bytes → repr
//    (a WireResult, never a throw); `emitEthernet` goes repr → bytes.

import { EmitError, ok, reject, type WireResult } from './result.js';
import { macAt, put16, putMac, u16 } from './fields.js';
import { type Mac } from '../model/address.js';

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  LLDP: 0x88cc,
  ECP: 0x8940,
  RARP: 0x8035,
} as const;

const F = {
  DST: 0,
  SRC: 6,
  TYPE: 12,
  /** with an 802.1Q tag: TCI at 14, inner type at 16 */
  TCI: 14,
  INNER_TYPE: 16,
} as const;

export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
/** Frames shorter than this (without FCS) are padded on emit, as a NIC does. */
export const ETH_MIN_FRAME = 60;

export interface VlanTag {
  pcp: number;
  dei: boolean;
  vid: number;
}

export interface EthernetRepr {
  dst: Mac;
  src: Mac;
  vlan: VlanTag | null;
  ethertype: number;
  /** the bytes after the header; a view into the parsed buffer (may include padding) */
  payload: Uint8Array;
}

export class EthernetView {
  constructor(readonly bytes: Uint8Array) {}

  check(): string | null {
    if (this.bytes.length < ETH_HEADER_LEN) return `frame of ${this.bytes.length} bytes is shorter than the 14-byte header`;
    if (this.tagged && this.bytes.length < ETH_HEADER_LEN + VLAN_TAG_LEN) return 'truncated 802.1Q tag';
    return null;
  }

  get dst(): Mac {
    return macAt(this.bytes, F.DST);
  }
  get src(): Mac {
    return macAt(this.bytes, F.SRC);
  }
  get outerType(): number {
    return u16(this.bytes, F.TYPE);
  }
  get tagged(): boolean {
    return this.outerType === ETHERTYPE.VLAN;
  }
  get tci(): number {
    return u16(this.bytes, F.TCI);
  }
  get ethertype(): number {
    return this.tagged ? u16(this.bytes, F.INNER_TYPE) : this.outerType;
  }
  get headerLen(): number {
    return this.tagged ? ETH_HEADER_LEN + VLAN_TAG_LEN : ETH_HEADER_LEN;
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLen);
  }
}

export function parseEthernet(bytes: Uint8Array): WireResult<EthernetRepr> {
  const v = new EthernetView(bytes);
  const bad = v.check();
  if (bad) return reject('ethernet', bad);
  const ethertype = v.ethertype;
  if (ethertype < 0x0600) return reject('ethernet', `length/type ${ethertype} is an 802.3 length, not an EtherType`);
  if (v.tagged && ethertype === ETHERTYPE.VLAN) return reject('ethernet', 'stacked 802.1Q tags are not supported');
  const tci = v.tci;
  return ok({
    dst: v.dst,
    src: v.src,
    vlan: v.tagged ? { pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff } : null,
    ethertype,
    payload: v.payload,
  });
}

export function ethernetLen(r: EthernetRepr): number {
  const len = (r.vlan ? ETH_HEADER_LEN + VLAN_TAG_LEN : ETH_HEADER_LEN) + r.payload.length;
  return Math.max(ETH_MIN_FRAME, len);
}

export function emitEthernet(r: EthernetRepr): Uint8Array {
  if (r.vlan && (r.vlan.vid < 0 || r.vlan.vid > 4095 || r.vlan.pcp < 0 || r.vlan.pcp > 7)) {
    throw new EmitError('ethernet', `bad VLAN tag ${JSON.stringify(r.vlan)}`);
  }
  const out = new Uint8Array(ethernetLen(r));
  putMac(out, F.DST, r.dst);
  putMac(out, F.SRC, r.src);
  let off: number = F.TYPE;
  if (r.vlan) {
    put16(out, F.TYPE, ETHERTYPE.VLAN);
    put16(out, F.TCI, (r.vlan.pcp << 13) | (r.vlan.dei ? 0x1000 : 0) | r.vlan.vid);
    off = F.INNER_TYPE;
  }
  put16(out, off, r.ethertype);
  out.set(r.payload, off + 2);
  return out;
}
