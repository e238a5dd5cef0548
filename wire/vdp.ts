// VDP (802.1Qbg-2012 clause 41, as lldpad encodes it), the payload of an ECP request with
// subtype 1, and migsim's assistance request (an organizationally defined TLV). Layouts:
// docs/protocols.md 2.1–2.4; the assistance request: docs/wire-formats.md.

import { TLV_HEADER_LEN, TLV_MAX_LEN, TlvView } from './tlv.js';
import { EmitError, ok, reject, type WireResult } from './result.js';
import { ipAt, macAt, put16, put24, put32, putIp, putMac, toHex, u16, u24, u32, u8 } from './fields.js';
import { isIpv4, isMac, type Ipv4, type Mac } from '../model/address.js';

export type VdpMode = 'preassoc' | 'preassoc-rr' | 'assoc' | 'deassoc';

export const VDP_TLV = { END: 0, PREASSOC: 1, PREASSOC_RR: 2, ASSOC: 3, DEASSOC: 4, MANAGER_ID: 5, ORG: 127 } as const;
/** VSI TLV type for each mode (protocols.md 2.1). */
export const VDP_MODE_TLV: Readonly<Record<VdpMode, number>> = {
  preassoc: VDP_TLV.PREASSOC, 'preassoc-rr': VDP_TLV.PREASSOC_RR, assoc: VDP_TLV.ASSOC, deassoc: VDP_TLV.DEASSOC,
};
const MODE_OF_TYPE: Readonly<Record<number, VdpMode>> = Object.fromEntries(
  Object.entries(VDP_MODE_TLV).map(([mode, type]) => [type, mode as VdpMode]),
);

export const VSI_ID_FORMAT = { IPV4: 1, IPV6: 2, MAC: 3, LOCAL: 4, UUID: 5 } as const;
export const FILTER_FORMAT = { VID: 1, MAC_VID: 2, GROUP_VID: 3, GROUP_MAC_VID: 4 } as const;
/** Response error codes (low nibble of the status byte with 0x40 set), docs/protocols.md 2.3. */
export const VDP_ERROR = {
  SUCCESS: 0,
  INVALID_FORMAT: 1,
  INSUFFICIENT_RESOURCES: 2,
  UNABLE_TO_CONTACT_MANAGER: 3,
  OTHER_FAILURE: 4,
  INVALID_VID_GROUP_MAC: 5,
} as const;

export const MANAGER_ID_LEN = 16;
export const VSI_ID_LEN = 16;

/** Ours: the switch's "assistance request" (EP2562973A1), an org-defined TLV an unaware station skips. */
export const MIGSIM_OUI = 0x026d73; // 02-6d-73: locally administered, not IEEE-assigned
export const ASSIST_SUBTYPE = 1;
export const ASSIST_LEN = 32;

const OUI_LEN = 3;

// ----------------------------------------------------------------------------------------
// Status byte (protocols.md 2.3)

const STATUS = {
  RESERVED: 0x80,
  RESPONSE: 0x40,
  /** S-bit in a request, Keep in a response */
  BIT5: 0x20,
  /** M-bit in a request, Hard error in a response */
  BIT4: 0x10,
  ERROR: 0x0f,
} as const;

export interface VsiStatus {
  response: boolean; // 0x40
  // in a request (response=false):
  migratedFrom: boolean; // 0x20 S-bit ("hints=from")
  migratedTo: boolean; // 0x10 M-bit ("hints=to")
  // in a response (response=true):
  keep: boolean; // 0x20
  hardError: boolean; // 0x10
  /** low nibble: 0 success, 1 invalid format, 2 insufficient resources, 3 unable to contact VSI manager, 4 other failure, 5 invalid VID/GroupID/MAC (reserved in a request, normally 0) */
  error: number;
}

/** The same bits mean different things by direction; the reserved 0x80 is ignored. */
export function decodeStatus(byte: number): VsiStatus {
  const response = (byte & STATUS.RESPONSE) !== 0;
  const b5 = (byte & STATUS.BIT5) !== 0;
  const b4 = (byte & STATUS.BIT4) !== 0;
  return {
    response,
    migratedFrom: !response && b5,
    migratedTo: !response && b4,
    keep: response && b5,
    hardError: response && b4,
    error: byte & STATUS.ERROR,
  };
}

/** Throws EmitError when a flag of the other direction is set (e.g. migratedTo on a response). */
export function statusByte(s: VsiStatus): number {
  if (!Number.isInteger(s.error) || s.error < 0 || s.error > STATUS.ERROR) throw new EmitError('vdp', `status error ${s.error} does not fit 4 bits`);
  if (s.response) {
    if (s.migratedFrom || s.migratedTo) throw new EmitError('vdp', 'migratedFrom/migratedTo (S/M bits) are request flags, set on a response');
    return STATUS.RESPONSE | (s.keep ? STATUS.BIT5 : 0) | (s.hardError ? STATUS.BIT4 : 0) | s.error;
  }
  if (s.keep || s.hardError) throw new EmitError('vdp', 'keep/hardError are response flags, set on a request');
  return (s.migratedFrom ? STATUS.BIT5 : 0) | (s.migratedTo ? STATUS.BIT4 : 0) | s.error;
}

/** A station's request status: M-bit for "migrated to here", S-bit for "migrating from here". */
export function requestStatus(hints: { migratedTo?: boolean; migratedFrom?: boolean } = {}): VsiStatus {
  return { response: false, migratedFrom: !!hints.migratedFrom, migratedTo: !!hints.migratedTo, keep: false, hardError: false, error: 0 };
}

/** A bridge's response status: 0x40 | error [| keep | hard]. */
export function responseStatus(error: number, flags: { keep?: boolean; hardError?: boolean } = {}): VsiStatus {
  return { response: true, migratedFrom: false, migratedTo: false, keep: !!flags.keep, hardError: !!flags.hardError, error };
}

// ----------------------------------------------------------------------------------------
// Representations

/** `mac` is set for formats 2 and 4, `groupId` for formats 3 and 4, else null. */
export interface VdpFilter {
  ps: boolean;
  pcp: number;
  vid: number;
  mac: Mac | null;
  groupId: number | null;
}

export interface VsiTlv {
  mode: VdpMode;
  status: VsiStatus;
  typeId: number;
  typeVersion: number;
  idFormat: number;
  /** 16 bytes as on the wire */
  id: Uint8Array;
  filterFormat: number;
  filters: VdpFilter[];
}

export interface AssistRequest {
  idFormat: number;
  /** 16 bytes */
  id: Uint8Array;
  mac: Mac;
  /** from the old binding, 0.0.0.0 if unknown */
  ip: Ipv4;
  dhcp: boolean;
  igmp: boolean;
}

export interface VdpRepr {
  /** 16 bytes */
  managerId: Uint8Array;
  vsis: VsiTlv[];
  assists: AssistRequest[];
  /** org TLVs other than our assist; `data` is what follows the OUI */
  orgTlvs: { oui: number; data: Uint8Array }[];
  unknown: { type: number; value: Uint8Array }[];
}

// ----------------------------------------------------------------------------------------
// Views


const F_VSI = {
  STATUS: 0,
  TYPE_ID: 1,
  TYPE_VERSION: 4,
  ID_FORMAT: 5,
  ID: 6,
  FILTER_FORMAT: 22,
  COUNT: 23,
  ENTRIES: 25,
} as const;

/** Where each field sits inside one filter entry, per format (protocols.md 2.4); -1 = absent. */
interface FilterLayout {
  size: number;
  group: number;
  mac: number;
  word: number;
}
const FILTER_LAYOUT: Readonly<Record<number, FilterLayout>> = {
  [FILTER_FORMAT.VID]: { size: 2, group: -1, mac: -1, word: 0 },
  [FILTER_FORMAT.MAC_VID]: { size: 8, group: -1, mac: 0, word: 6 },
  [FILTER_FORMAT.GROUP_VID]: { size: 6, group: 0, mac: -1, word: 4 },
  [FILTER_FORMAT.GROUP_MAC_VID]: { size: 12, group: 0, mac: 4, word: 10 },
};

/** PS(1) PCP(3) VID(12); include/qbg_vdp22.h masks, not Wireshark's (protocols.md 2.4). */
const WORD = { PS: 0x8000, PCP_SHIFT: 12, PCP: 0x7, VID: 0x0fff } as const;

function layoutOf(format: number): FilterLayout | undefined {
  return Object.prototype.hasOwnProperty.call(FILTER_LAYOUT, format) ? FILTER_LAYOUT[format] : undefined;
}

function validIdFormat(f: number): boolean {
  return Number.isInteger(f) && f >= VSI_ID_FORMAT.IPV4 && f <= VSI_ID_FORMAT.UUID;
}

/** The value of a VSI TLV (types 1..4). */
export class VsiTlvView {
  constructor(readonly bytes: Uint8Array) {}

  check(): string | null {
    const len = this.bytes.length;
    if (len < F_VSI.ENTRIES) return `VSI TLV length ${len} is shorter than 25`;
    if (!validIdFormat(this.idFormat)) return `VSI ID format ${this.idFormat} is not 1..5`;
    const layout = layoutOf(this.filterFormat);
    if (!layout) return `filter info format ${this.filterFormat} is not 1..4`;
    const want = F_VSI.ENTRIES + this.count * layout.size;
    if (len !== want) return `VSI TLV length ${len} does not match ${this.count} entries of ${layout.size} bytes (expected ${want})`;
    return null;
  }

  get status(): number {
    return u8(this.bytes, F_VSI.STATUS);
  }
  get typeId(): number {
    return u24(this.bytes, F_VSI.TYPE_ID);
  }
  get typeVersion(): number {
    return u8(this.bytes, F_VSI.TYPE_VERSION);
  }
  get idFormat(): number {
    return u8(this.bytes, F_VSI.ID_FORMAT);
  }
  get id(): Uint8Array {
    return this.bytes.subarray(F_VSI.ID, F_VSI.ID + VSI_ID_LEN);
  }
  get filterFormat(): number {
    return u8(this.bytes, F_VSI.FILTER_FORMAT);
  }
  get count(): number {
    return u16(this.bytes, F_VSI.COUNT);
  }

  /** Entry i; fields past the end read as 0, so only trust it after check(). */
  filter(i: number): VdpFilter {
    const l = layoutOf(this.filterFormat) ?? { size: 2, group: -1, mac: -1, word: 0 };
    const at = F_VSI.ENTRIES + i * l.size;
    const word = u16(this.bytes, at + l.word);
    return {
      ps: (word & WORD.PS) !== 0,
      pcp: (word >>> WORD.PCP_SHIFT) & WORD.PCP,
      vid: word & WORD.VID,
      mac: l.mac >= 0 ? macAt(this.bytes, at + l.mac) : null,
      groupId: l.group >= 0 ? u32(this.bytes, at + l.group) : null,
    };
  }
}

const F_ASSIST = {
  OUI: 0,
  SUBTYPE: 3,
  ID_FORMAT: 4,
  ID: 5,
  MAC: 21,
  IP: 27,
  FLAGS: 31,
} as const;

const ASSIST_FLAG = { DHCP: 0x01, IGMP: 0x02 } as const;

/** The value of an org TLV (OUI onwards) that carries our assistance request. */
export class AssistTlvView {
  constructor(readonly bytes: Uint8Array) {}

  /** OUI and subtype say "assist"; needs 4 bytes, else false. */
  get isAssist(): boolean {
    return this.bytes.length > F_ASSIST.SUBTYPE && this.oui === MIGSIM_OUI && this.subtype === ASSIST_SUBTYPE;
  }

  check(): string | null {
    if (this.bytes.length !== ASSIST_LEN) return `assist TLV length ${this.bytes.length} is not 32`;
    if (!validIdFormat(this.idFormat)) return `assist VSI ID format ${this.idFormat} is not 1..5`;
    return null;
  }

  get oui(): number {
    return u24(this.bytes, F_ASSIST.OUI);
  }
  get subtype(): number {
    return u8(this.bytes, F_ASSIST.SUBTYPE);
  }
  get idFormat(): number {
    return u8(this.bytes, F_ASSIST.ID_FORMAT);
  }
  get id(): Uint8Array {
    return this.bytes.subarray(F_ASSIST.ID, F_ASSIST.ID + VSI_ID_LEN);
  }
  get mac(): Mac {
    return macAt(this.bytes, F_ASSIST.MAC);
  }
  get ip(): Ipv4 {
    return ipAt(this.bytes, F_ASSIST.IP);
  }
  get flags(): number {
    return u8(this.bytes, F_ASSIST.FLAGS);
  }
}

// ----------------------------------------------------------------------------------------
// Parse

function parseVsi(type: number, value: Uint8Array): WireResult<VsiTlv> {
  const v = new VsiTlvView(value);
  const bad = v.check();
  if (bad) return reject('vdp', bad);
  const filters: VdpFilter[] = [];
  for (let i = 0; i < v.count; i++) filters.push(v.filter(i));
  return ok({
    mode: MODE_OF_TYPE[type] ?? 'assoc', // type is 1..4 here
    status: decodeStatus(v.status),
    typeId: v.typeId,
    typeVersion: v.typeVersion,
    idFormat: v.idFormat,
    id: v.id,
    filterFormat: v.filterFormat,
    filters,
  });
}

export function parseVdp(b: Uint8Array): WireResult<VdpRepr> {
  let managerId: Uint8Array | null = null;
  const vsis: VsiTlv[] = [];
  const assists: AssistRequest[] = [];
  const orgTlvs: { oui: number; data: Uint8Array }[] = [];
  const unknown: { type: number; value: Uint8Array }[] = [];
  let off = 0;
  while (off < b.length) {
    // Type 0 is End or padding; the type is in the first byte alone, so a lone trailing
    // zero byte is padding too.
    if (u8(b, off) >>> 1 === VDP_TLV.END) break;
    const t = new TlvView(b.subarray(off));
    const bad = t.check();
    if (bad) return reject('vdp', `at offset ${off}: ${bad}`);
    const type = t.type;
    const value = t.value;
    if (managerId === null && type !== VDP_TLV.MANAGER_ID) return reject('vdp', `first TLV is type ${type}, not the VSI Manager ID (5)`);
    switch (type) {
      case VDP_TLV.MANAGER_ID:
        if (managerId !== null) return reject('vdp', `duplicate VSI Manager ID TLV at offset ${off}`);
        if (value.length !== MANAGER_ID_LEN) return reject('vdp', `VSI Manager ID TLV length ${value.length} is not 16`);
        managerId = value;
        break;
      case VDP_TLV.PREASSOC:
      case VDP_TLV.PREASSOC_RR:
      case VDP_TLV.ASSOC:
      case VDP_TLV.DEASSOC: {
        const vsi = parseVsi(type, value);
        if (!vsi.ok) return reject('vdp', `at offset ${off}: ${vsi.reason}`);
        vsis.push(vsi.value);
        break;
      }
      case VDP_TLV.ORG: {
        if (value.length < OUI_LEN) return reject('vdp', `at offset ${off}: organizationally defined TLV length ${value.length} is shorter than 3`);
        const a = new AssistTlvView(value);
        if (a.isAssist) {
          const aBad = a.check();
          if (aBad) return reject('vdp', `at offset ${off}: ${aBad}`);
          const flags = a.flags;
          assists.push({ idFormat: a.idFormat, id: a.id, mac: a.mac, ip: a.ip, dhcp: (flags & ASSIST_FLAG.DHCP) !== 0, igmp: (flags & ASSIST_FLAG.IGMP) !== 0 });
        } else {
          orgTlvs.push({ oui: u24(value, 0), data: value.subarray(OUI_LEN) });
        }
        break;
      }
      default:
        unknown.push({ type, value });
    }
    off += t.totalLen;
  }
  if (managerId === null) return reject('vdp', off === 0 && b.length === 0 ? 'empty VDP payload' : 'no VSI Manager ID TLV before the End TLV/padding');
  return ok({ managerId, vsis, assists, orgTlvs, unknown });
}

// ----------------------------------------------------------------------------------------
// Emit

function uint(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

function macOk(mac: unknown): mac is Mac {
  return typeof mac === 'string' && isMac(mac.toLowerCase());
}

function vsiValueLen(t: VsiTlv): number {
  const l = layoutOf(t.filterFormat);
  if (!l) throw new EmitError('vdp', `filter info format ${t.filterFormat} is not 1..4`);
  const len = F_VSI.ENTRIES + t.filters.length * l.size;
  if (len > TLV_MAX_LEN) throw new EmitError('vdp', `${t.filters.length} filter entries do not fit one TLV (length ${len} > 511)`);
  return len;
}

function checkVsi(t: VsiTlv): void {
  if (!Object.prototype.hasOwnProperty.call(VDP_MODE_TLV, t.mode)) throw new EmitError('vdp', `mode ${String(t.mode)} is not a VDP mode`);
  statusByte(t.status); // throws on mixed-direction flags
  if (!uint(t.typeId, 0xffffff)) throw new EmitError('vdp', `VSI type ID ${t.typeId} does not fit 24 bits`);
  if (!uint(t.typeVersion, 0xff)) throw new EmitError('vdp', `VSI type version ${t.typeVersion} does not fit 8 bits`);
  if (!validIdFormat(t.idFormat)) throw new EmitError('vdp', `VSI ID format ${t.idFormat} is not 1..5`);
  if (t.id.length !== VSI_ID_LEN) throw new EmitError('vdp', `VSI ID of ${t.id.length} bytes is not 16`);
  const l = layoutOf(t.filterFormat);
  if (!l) throw new EmitError('vdp', `filter info format ${t.filterFormat} is not 1..4`);
  for (const f of t.filters) {
    if (!uint(f.vid, WORD.VID)) throw new EmitError('vdp', `VID ${f.vid} is not 0..4095`);
    if (!uint(f.pcp, WORD.PCP)) throw new EmitError('vdp', `PCP ${f.pcp} is not 0..7`);
    // a field the format has must be present, one it lacks must be null, so parse gives back the same repr
    if ((l.mac >= 0) !== (f.mac !== null)) throw new EmitError('vdp', `filter format ${t.filterFormat} ${l.mac >= 0 ? 'needs' : 'must not carry'} a MAC`);
    if (f.mac !== null && !macOk(f.mac)) throw new EmitError('vdp', `filter MAC ${String(f.mac)} is not a MAC`);
    if ((l.group >= 0) !== (f.groupId !== null)) throw new EmitError('vdp', `filter format ${t.filterFormat} ${l.group >= 0 ? 'needs' : 'must not carry'} a group ID`);
    if (f.groupId !== null && !uint(f.groupId, 0xffffffff)) throw new EmitError('vdp', `group ID ${f.groupId} does not fit 32 bits`);
  }
  vsiValueLen(t);
}

function checkAssist(a: AssistRequest): void {
  if (!validIdFormat(a.idFormat)) throw new EmitError('vdp', `assist VSI ID format ${a.idFormat} is not 1..5`);
  if (a.id.length !== VSI_ID_LEN) throw new EmitError('vdp', `assist VSI ID of ${a.id.length} bytes is not 16`);
  if (!macOk(a.mac)) throw new EmitError('vdp', `assist MAC ${String(a.mac)} is not a MAC`);
  if (typeof a.ip !== 'string' || !isIpv4(a.ip)) throw new EmitError('vdp', `assist IP ${String(a.ip)} is not an IPv4 address`);
}

function checkOrg(o: { oui: number; data: Uint8Array }): void {
  if (!uint(o.oui, 0xffffff)) throw new EmitError('vdp', `OUI ${o.oui} does not fit 24 bits`);
  if (OUI_LEN + o.data.length > TLV_MAX_LEN) throw new EmitError('vdp', `org TLV data of ${o.data.length} bytes exceeds 508`);
  // it would come back as an assist (or be rejected), not as an org TLV
  if (o.oui === MIGSIM_OUI && o.data[0] === ASSIST_SUBTYPE) throw new EmitError('vdp', 'an assist request belongs in `assists`, not in `orgTlvs`');
}

function checkUnknown(u: { type: number; value: Uint8Array }): void {
  const known = u.type <= VDP_TLV.MANAGER_ID || u.type === VDP_TLV.ORG;
  if (!uint(u.type, 127) || known) throw new EmitError('vdp', `TLV type ${u.type} cannot be emitted as an unknown TLV`);
  if (u.value.length > TLV_MAX_LEN) throw new EmitError('vdp', `TLV type ${u.type} value of ${u.value.length} bytes exceeds 511`);
}

function putHeader(out: Uint8Array, off: number, type: number, len: number): void {
  put16(out, off, (type << 9) | len);
}

function putVsi(out: Uint8Array, off: number, t: VsiTlv, len: number): void {
  putHeader(out, off, VDP_MODE_TLV[t.mode], len);
  const v = off + TLV_HEADER_LEN;
  out[v + F_VSI.STATUS] = statusByte(t.status);
  put24(out, v + F_VSI.TYPE_ID, t.typeId);
  out[v + F_VSI.TYPE_VERSION] = t.typeVersion;
  out[v + F_VSI.ID_FORMAT] = t.idFormat;
  out.set(t.id, v + F_VSI.ID);
  out[v + F_VSI.FILTER_FORMAT] = t.filterFormat;
  put16(out, v + F_VSI.COUNT, t.filters.length);
  const l = layoutOf(t.filterFormat)!;
  t.filters.forEach((f, i) => {
    const at = v + F_VSI.ENTRIES + i * l.size;
    if (l.group >= 0) put32(out, at + l.group, f.groupId ?? 0);
    if (l.mac >= 0 && f.mac !== null) putMac(out, at + l.mac, f.mac);
    put16(out, at + l.word, (f.ps ? WORD.PS : 0) | (f.pcp << WORD.PCP_SHIFT) | f.vid);
  });
}

/** Manager-ID, VSIs, assists, other org TLVs, unknown TLVs; no End TLV (ECP frames are padded by Ethernet). */
export function emitVdp(r: VdpRepr): Uint8Array {
  if (r.managerId.length !== MANAGER_ID_LEN) throw new EmitError('vdp', `VSI Manager ID of ${r.managerId.length} bytes is not 16`);
  r.vsis.forEach(checkVsi);
  r.assists.forEach(checkAssist);
  r.orgTlvs.forEach(checkOrg);
  r.unknown.forEach(checkUnknown);

  const vsiLens = r.vsis.map(vsiValueLen);
  let len = TLV_HEADER_LEN + MANAGER_ID_LEN;
  for (const l of vsiLens) len += TLV_HEADER_LEN + l;
  len += r.assists.length * (TLV_HEADER_LEN + ASSIST_LEN);
  for (const o of r.orgTlvs) len += TLV_HEADER_LEN + OUI_LEN + o.data.length;
  for (const u of r.unknown) len += TLV_HEADER_LEN + u.value.length;
  const out = new Uint8Array(len);

  let off = 0;
  putHeader(out, off, VDP_TLV.MANAGER_ID, MANAGER_ID_LEN);
  out.set(r.managerId, off + TLV_HEADER_LEN);
  off += TLV_HEADER_LEN + MANAGER_ID_LEN;
  r.vsis.forEach((t, i) => {
    const l = vsiLens[i] ?? 0;
    putVsi(out, off, t, l);
    off += TLV_HEADER_LEN + l;
  });
  for (const a of r.assists) {
    putHeader(out, off, VDP_TLV.ORG, ASSIST_LEN);
    const v = off + TLV_HEADER_LEN;
    put24(out, v + F_ASSIST.OUI, MIGSIM_OUI);
    out[v + F_ASSIST.SUBTYPE] = ASSIST_SUBTYPE;
    out[v + F_ASSIST.ID_FORMAT] = a.idFormat;
    out.set(a.id, v + F_ASSIST.ID);
    putMac(out, v + F_ASSIST.MAC, a.mac);
    putIp(out, v + F_ASSIST.IP, a.ip);
    out[v + F_ASSIST.FLAGS] = (a.dhcp ? ASSIST_FLAG.DHCP : 0) | (a.igmp ? ASSIST_FLAG.IGMP : 0);
    off += TLV_HEADER_LEN + ASSIST_LEN;
  }
  for (const o of r.orgTlvs) {
    putHeader(out, off, VDP_TLV.ORG, OUI_LEN + o.data.length);
    put24(out, off + TLV_HEADER_LEN, o.oui);
    out.set(o.data, off + TLV_HEADER_LEN + OUI_LEN);
    off += TLV_HEADER_LEN + OUI_LEN + o.data.length;
  }
  for (const u of r.unknown) {
    putHeader(out, off, u.type, u.value.length);
    out.set(u.value, off + TLV_HEADER_LEN);
    off += TLV_HEADER_LEN + u.value.length;
  }
  return out;
}

// ----------------------------------------------------------------------------------------
// Helpers

/** A MAC-format VSI ID: 10 zero bytes + the MAC, right-aligned (protocols.md 2.2). */
export function vsiIdFromMac(mac: Mac): Uint8Array {
  const id = new Uint8Array(VSI_ID_LEN);
  putMac(id, 10, mac);
  return id;
}

function zeros(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** UUID as 8-4-4-4-12, MAC as aa:bb:.., IPv4 from a v4-mapped ID, anything else (or ill-formed) as hex. */
export function formatVsiId(fmt: number, id: Uint8Array): string {
  if (id.length !== VSI_ID_LEN) return toHex(id);
  if (fmt === VSI_ID_FORMAT.UUID) {
    const h = toHex(id);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  if (fmt === VSI_ID_FORMAT.MAC && zeros(id, 0, 10)) return macAt(id, 10);
  if (fmt === VSI_ID_FORMAT.IPV4 && zeros(id, 0, 10) && id[10] === 0xff && id[11] === 0xff) return ipAt(id, 12);
  return toHex(id);
}

/** lldpad's `mgrid2=<text>`: ASCII, zero-padded to 16 bytes. Throws RangeError for > 16 chars or non-ASCII. */
export function managerIdFromText(text: string): Uint8Array {
  if (text.length > MANAGER_ID_LEN) throw new RangeError(`manager ID "${text}" is longer than 16 characters`);
  const id = new Uint8Array(MANAGER_ID_LEN);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new RangeError(`manager ID "${text}" is not printable ASCII`);
    id[i] = c;
  }
  return id;
}

/** Inverse of managerIdFromText for logs: the text if it is printable ASCII + zero padding, else hex. */
export function formatManagerId(id: Uint8Array): string {
  let end = id.length;
  while (end > 0 && id[end - 1] === 0) end--;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = id[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return toHex(id);
    s += String.fromCharCode(c);
  }
  return end === 0 ? toHex(id) : s;
}
