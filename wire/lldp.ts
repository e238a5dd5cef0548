// LLDPDU (IEEE 802.1AB) with the 802.1Qbg EVB TLV: the codec the switch and the stations use
// to negotiate EVB. TLV framing: docs/protocols.md 1.5; the EVB TLV's bytes: docs/protocols.md 1.4.

import { TLV_HEADER_LEN, TLV_MAX_LEN, TlvView } from './tlv.js';
import { EmitError, ok, reject, type WireResult } from './result.js';
import { put16, put24, u16, u24, u8 } from './fields.js';

export const LLDP_TLV = { END: 0, CHASSIS_ID: 1, PORT_ID: 2, TTL: 3, ORG: 127 } as const;
export const EVB_MODE = { BRIDGE: 1, STATION: 2 } as const;
export const EVB_OUI = 0x0080c2;
export const EVB_SUBTYPE = 0x0d;
export const EVB_INFO_LEN = 9;


export interface EvbTlv {
  bridge: { bgid: boolean; rrcap: boolean; rrctr: boolean };
  /** rrstat 0..3 (0 no, 1 yes, 3 unknown) */
  station: { sgid: boolean; rrreq: boolean; rrstat: number };
  /** R: ECP max retries, 0..7 */
  retries: number;
  /** ECP ack timer exponent, 0..31 (10 µs × 2^rte) */
  rte: number;
  /** bits 7..6: 1 bridge, 2 station; 0 and 3 are passed through as numbers */
  mode: number;
  rolRwd: boolean;
  /** VDP resource wait delay exponent, 0..31 */
  rwd: number;
  rolRka: boolean;
  /** VDP keep-alive exponent, 0..31 */
  rka: number;
}

export interface LldpIdTlv {
  subtype: number;
  value: Uint8Array;
}

export interface LldpRepr {
  chassisId: LldpIdTlv;
  portId: LldpIdTlv;
  /** seconds */
  ttl: number;
  evb: EvbTlv | null;
  /** every TLV other than 0..3 and the EVB TLV, in order; for type 127 the value starts with the OUI */
  other: { type: number; value: Uint8Array }[];
}


const F_EVB = {
  OUI: 0,
  SUBTYPE: 3,
  BRIDGE: 4,
  STATION: 5,
  R_RTE: 6,
  MODE_RWD: 7,
  RKA: 8,
} as const;

/** The info string of an org-specific TLV (OUI onwards). */
export class EvbTlvView {
  constructor(readonly bytes: Uint8Array) {}

  /** Is this org TLV the EVB TLV at all (OUI and subtype)? Needs 4 bytes, else false. */
  get isEvb(): boolean {
    return this.bytes.length >= 4 && this.oui === EVB_OUI && this.subtype === EVB_SUBTYPE;
  }

  check(): string | null {
    if (this.bytes.length !== EVB_INFO_LEN) return `EVB TLV length ${this.bytes.length} is not 9`;
    return null;
  }

  get oui(): number {
    return u24(this.bytes, F_EVB.OUI);
  }
  get subtype(): number {
    return u8(this.bytes, F_EVB.SUBTYPE);
  }
  get bridgeStatus(): number {
    return u8(this.bytes, F_EVB.BRIDGE);
  }
  get stationStatus(): number {
    return u8(this.bytes, F_EVB.STATION);
  }
  get retries(): number {
    return u8(this.bytes, F_EVB.R_RTE) >>> 5;
  }
  get rte(): number {
    return u8(this.bytes, F_EVB.R_RTE) & 0x1f;
  }
  get mode(): number {
    return u8(this.bytes, F_EVB.MODE_RWD) >>> 6;
  }
  get rolRwd(): boolean {
    return (u8(this.bytes, F_EVB.MODE_RWD) & 0x20) !== 0;
  }
  get rwd(): number {
    return u8(this.bytes, F_EVB.MODE_RWD) & 0x1f;
  }
  get rolRka(): boolean {
    return (u8(this.bytes, F_EVB.RKA) & 0x20) !== 0;
  }
  get rka(): number {
    return u8(this.bytes, F_EVB.RKA) & 0x1f;
  }

  toRepr(): EvbTlv {
    const b = this.bridgeStatus;
    const s = this.stationStatus;
    return {
      bridge: { bgid: (b & 0x04) !== 0, rrcap: (b & 0x02) !== 0, rrctr: (b & 0x01) !== 0 },
      station: { sgid: (s & 0x08) !== 0, rrreq: (s & 0x04) !== 0, rrstat: s & 0x03 },
      retries: this.retries,
      rte: this.rte,
      mode: this.mode,
      rolRwd: this.rolRwd,
      rwd: this.rwd,
      rolRka: this.rolRka,
      rka: this.rka,
    };
  }
}

const MANDATORY = [
  { type: LLDP_TLV.CHASSIS_ID, name: 'Chassis ID' },
  { type: LLDP_TLV.PORT_ID, name: 'Port ID' },
  { type: LLDP_TLV.TTL, name: 'TTL' },
] as const;

function idTlv(value: Uint8Array, name: string): WireResult<LldpIdTlv> {
  // 802.1AB: subtype(1) + an ID of 1..255 octets
  if (value.length < 2 || value.length > 256) return reject('lldp', `${name} TLV length ${value.length} is not 2..256`);
  return ok({ subtype: u8(value, 0), value: value.subarray(1) });
}

export function parseLldp(b: Uint8Array): WireResult<LldpRepr> {
  let chassisId: LldpIdTlv | null = null;
  let portId: LldpIdTlv | null = null;
  let ttl = -1;
  let evb: EvbTlv | null = null;
  const other: { type: number; value: Uint8Array }[] = [];
  let off = 0;
  for (let index = 0; ; index++) {
    const t = new TlvView(b.subarray(off));
    if (t.bytes.length === 0) return reject('lldp', index === 0 ? 'empty LLDPDU' : 'missing End of LLDPDU TLV');
    const bad = t.check();
    if (bad) return reject('lldp', `at offset ${off}: ${bad}`);
    const type = t.type;
    const value = t.value;
    const must = MANDATORY[index];
    if (must && type !== must.type) return reject('lldp', `TLV #${index + 1} is type ${type}, expected ${must.name} (${must.type})`);
    off += t.totalLen;
    switch (type) {
      case LLDP_TLV.END:
        if (value.length !== 0) return reject('lldp', `End of LLDPDU TLV has length ${value.length}, not 0`);
        // chassisId/portId/ttl are all set: the MANDATORY check ran for indexes 0..2
        if (!chassisId || !portId) return reject('lldp', 'missing mandatory TLVs');
        return ok({ chassisId, portId, ttl, evb, other }); // bytes after End are padding
      case LLDP_TLV.CHASSIS_ID:
      case LLDP_TLV.PORT_ID: {
        if (!must) return reject('lldp', `duplicate ${type === LLDP_TLV.CHASSIS_ID ? 'Chassis ID' : 'Port ID'} TLV`);
        const id = idTlv(value, must.name);
        if (!id.ok) return id;
        if (type === LLDP_TLV.CHASSIS_ID) chassisId = id.value;
        else portId = id.value;
        break;
      }
      case LLDP_TLV.TTL:
        if (!must) return reject('lldp', 'duplicate TTL TLV');
        if (value.length !== 2) return reject('lldp', `TTL TLV length ${value.length} is not 2`);
        ttl = u16(value, 0);
        break;
      case LLDP_TLV.ORG: {
        if (value.length < 4) return reject('lldp', `organizationally specific TLV length ${value.length} is shorter than 4`);
        const e = new EvbTlvView(value);
        if (e.isEvb) {
          const evbBad = e.check();
          if (evbBad) return reject('lldp', evbBad);
          if (evb) return reject('lldp', 'duplicate EVB TLV');
          evb = e.toRepr();
        } else {
          other.push({ type, value });
        }
        break;
      }
      default:
        other.push({ type, value });
    }
  }
}

function uint(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

function checkEvb(e: EvbTlv): void {
  const bad = (what: string, v: unknown): never => {
    throw new EmitError('lldp', `EVB ${what} ${String(v)} is out of range`);
  };
  if (!uint(e.station.rrstat, 3)) bad('rrstat', e.station.rrstat);
  if (!uint(e.retries, 7)) bad('retries', e.retries);
  if (!uint(e.rte, 31)) bad('rte', e.rte);
  if (!uint(e.mode, 3)) bad('mode', e.mode);
  if (!uint(e.rwd, 31)) bad('rwd', e.rwd);
  if (!uint(e.rka, 31)) bad('rka', e.rka);
}

function checkId(id: LldpIdTlv, name: string): void {
  if (!uint(id.subtype, 255)) throw new EmitError('lldp', `${name} subtype ${id.subtype} is not a byte`);
  if (id.value.length < 1 || id.value.length > 255) throw new EmitError('lldp', `${name} of ${id.value.length} bytes is not 1..255`);
}

function checkOther(o: { type: number; value: Uint8Array }): void {
  if (!uint(o.type, 127) || o.type <= LLDP_TLV.TTL) throw new EmitError('lldp', `TLV type ${o.type} cannot be emitted as an other TLV`);
  if (o.value.length > TLV_MAX_LEN) throw new EmitError('lldp', `TLV type ${o.type} value of ${o.value.length} bytes exceeds 511`);
  if (o.type === LLDP_TLV.ORG) {
    if (o.value.length < 4) throw new EmitError('lldp', `organizationally specific TLV of ${o.value.length} bytes is shorter than 4`);
    // it would come back as `evb`, not as an other TLV
    if (new EvbTlvView(o.value).isEvb) throw new EmitError('lldp', 'the EVB TLV belongs in `evb`, not in `other`');
  }
}

function putHeader(out: Uint8Array, off: number, type: number, len: number): void {
  put16(out, off, (type << 9) | len);
}

/** Chassis ID, Port ID, TTL, EVB (if any), the other TLVs in order, End. */
export function emitLldp(r: LldpRepr): Uint8Array {
  checkId(r.chassisId, 'Chassis ID');
  checkId(r.portId, 'Port ID');
  if (!uint(r.ttl, 0xffff)) throw new EmitError('lldp', `TTL ${r.ttl} does not fit 16 bits`);
  if (r.evb) checkEvb(r.evb);
  for (const o of r.other) checkOther(o);

  let len = 2 * TLV_HEADER_LEN + 2 + r.chassisId.value.length + r.portId.value.length + TLV_HEADER_LEN + 2;
  if (r.evb) len += TLV_HEADER_LEN + EVB_INFO_LEN;
  for (const o of r.other) len += TLV_HEADER_LEN + o.value.length;
  len += TLV_HEADER_LEN; // End
  const out = new Uint8Array(len);

  let off = 0;
  for (const [type, id] of [[LLDP_TLV.CHASSIS_ID, r.chassisId], [LLDP_TLV.PORT_ID, r.portId]] as const) {
    putHeader(out, off, type, 1 + id.value.length);
    out[off + 2] = id.subtype;
    out.set(id.value, off + 3);
    off += 3 + id.value.length;
  }
  putHeader(out, off, LLDP_TLV.TTL, 2);
  put16(out, off + 2, r.ttl);
  off += 4;
  if (r.evb) {
    const e = r.evb;
    putHeader(out, off, LLDP_TLV.ORG, EVB_INFO_LEN);
    const v = off + TLV_HEADER_LEN;
    put24(out, v + F_EVB.OUI, EVB_OUI);
    out[v + F_EVB.SUBTYPE] = EVB_SUBTYPE;
    out[v + F_EVB.BRIDGE] = (e.bridge.bgid ? 0x04 : 0) | (e.bridge.rrcap ? 0x02 : 0) | (e.bridge.rrctr ? 0x01 : 0);
    out[v + F_EVB.STATION] = (e.station.sgid ? 0x08 : 0) | (e.station.rrreq ? 0x04 : 0) | e.station.rrstat;
    out[v + F_EVB.R_RTE] = (e.retries << 5) | e.rte;
    out[v + F_EVB.MODE_RWD] = (e.mode << 6) | (e.rolRwd ? 0x20 : 0) | e.rwd;
    out[v + F_EVB.RKA] = (e.rolRka ? 0x20 : 0) | e.rka;
    off += TLV_HEADER_LEN + EVB_INFO_LEN;
  }
  for (const o of r.other) {
    putHeader(out, off, o.type, o.value.length);
    out.set(o.value, off + TLV_HEADER_LEN);
    off += TLV_HEADER_LEN + o.value.length;
  }
  putHeader(out, off, LLDP_TLV.END, 0);
  return out;
}
