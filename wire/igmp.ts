// IGMP v1/v2/v3 (RFC 1112 App. I, RFC 2236 §2, RFC 3376 §4 / RFC 9776 §4), in the contract of
// wire/README.md; the checksum is verified on parse and computed on emit. Layouts, and how
// a query's version follows from its length: docs/protocols.md 5.1.

import { EmitError, ok, reject, type WireResult } from './result.js';
import { internetChecksum, ipAt, onesSum, put16, put32, u16, u8 } from './fields.js';
import { type Ipv4 } from '../model/address.js';
import { ipWordOrThrow, isUint } from './ipv4.js';

export const IGMP_TYPE = { QUERY: 0x11, V1_REPORT: 0x12, V2_REPORT: 0x16, V2_LEAVE: 0x17, V3_REPORT: 0x22 } as const;
export const IGMP_RECORD = { IS_IN: 1, IS_EX: 2, TO_IN: 3, TO_EX: 4, ALLOW: 5, BLOCK: 6 } as const;
/** RFC 1112 all-hosts (general queries go here) and RFC 3376 §4.2.14 all-IGMPv3-routers (v3 reports go here). */
export const IGMP_ALL_HOSTS: Ipv4 = '224.0.0.1';
export const IGMPV3_ALL_ROUTERS: Ipv4 = '224.0.0.22';

/** Common to every IGMP message (the v1/v2 header is exactly these 8 bytes). */
const F = {
  TYPE: 0,
  CODE: 1, // v2 Max Resp Time, v3 Max Resp Code; reserved in reports
  CHECKSUM: 2,
  GROUP: 4, // v1/v2 messages and v3 queries
  // v3 query
  S_QRV: 8,
  QQIC: 9,
  N_SOURCES: 10,
  SOURCES: 12,
  // v3 report
  N_RECORDS: 6,
  RECORDS: 8,
} as const;

/** Offsets inside one v3 group record. */
const R = {
  TYPE: 0,
  AUX_LEN: 1, // in 32-bit words
  N_SOURCES: 2,
  GROUP: 4,
  SOURCES: 8,
} as const;

export const IGMP_HEADER_LEN = 8;
export const IGMP_V3_QUERY_MIN = 12;
/** A v1 query carries no response time; hosts use 10 s (RFC 2236 §4, RFC 1112). */
export const IGMP_V1_MAX_RESP_DS = 100;

export interface IgmpGroupRecord {
  type: number;
  group: Ipv4;
  sources: Ipv4[];
  /** a multiple of 4 bytes (the wire counts it in words) */
  auxData: Uint8Array;
}

export type IgmpRepr =
  | {
      kind: 'query';
      version: 1 | 2 | 3;
      /** 0.0.0.0 = general query */
      group: Ipv4;
      /** decoded, tenths of a second; v1 always 100 (the fixed 10 s) */
      maxRespDs: number;
      suppress: boolean;
      qrv: number;
      qqicSeconds: number;
      sources: Ipv4[];
    } // v1/v2: suppress false, qrv 0, qqic 0, sources []
  | { kind: 'report'; version: 1 | 2; group: Ipv4 }
  | { kind: 'leave'; group: Ipv4 }
  | { kind: 'v3report'; records: IgmpGroupRecord[] };

/** RFC 3376 §4.1.1/§4.1.7: < 128 literal, else 1|exp(3)|mant(4) = (mant | 0x10) << (exp + 3). */
export function decodeCode(code: number): number {
  const c = code & 0xff;
  if (c < 0x80) return c;
  const exp = (c >>> 4) & 0x07;
  const mant = c & 0x0f;
  return (mant | 0x10) << (exp + 3);
}

/**
 * The code for `value` (tenths of a second for Max Resp Code, seconds for QQIC). When the
 * value is not exactly representable this picks the LARGEST representable value ≤ value
 * (rounds down; values above 31744 give 0xFF), so a timer derived from the code is never
 * longer than asked. Non-integers are floored; negative or non-finite values throw RangeError.
 */
export function encodeCode(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`cannot encode ${value} as an IGMPv3 code`);
  const v = Math.floor(value);
  if (v < 0x80) return v;
  if (v >= decodeCode(0xff)) return 0xff;
  const exp = 31 - Math.clz32(v) - 7; // 2^(exp+7) ≤ v < 2^(exp+8), 0 ≤ exp ≤ 7 here
  const mant = (v >>> (exp + 3)) & 0x0f;
  return 0x80 | (exp << 4) | mant;
}

export class IgmpView {
  constructor(readonly bytes: Uint8Array) {}

  /** Length and checksum; the per-type structure is checked by parseIgmp. */
  check(): string | null {
    if (this.bytes.length < IGMP_HEADER_LEN) return `IGMP message of ${this.bytes.length} bytes is shorter than 8`;
    if (onesSum(this.bytes, 0, this.bytes.length) !== 0xffff) return 'IGMP checksum mismatch';
    return null;
  }

  get type(): number {
    return u8(this.bytes, F.TYPE);
  }
  get code(): number {
    return u8(this.bytes, F.CODE);
  }
  get checksum(): number {
    return u16(this.bytes, F.CHECKSUM);
  }
  get group(): Ipv4 {
    return ipAt(this.bytes, F.GROUP);
  }
  get suppress(): boolean {
    return (u8(this.bytes, F.S_QRV) & 0x08) !== 0;
  }
  get qrv(): number {
    return u8(this.bytes, F.S_QRV) & 0x07;
  }
  get qqic(): number {
    return u8(this.bytes, F.QQIC);
  }
  get querySourceCount(): number {
    return u16(this.bytes, F.N_SOURCES);
  }
  get recordCount(): number {
    return u16(this.bytes, F.N_RECORDS);
  }
}

function ipList(b: Uint8Array, off: number, n: number): Ipv4[] {
  const out: Ipv4[] = new Array<Ipv4>(n);
  for (let k = 0; k < n; k++) out[k] = ipAt(b, off + 4 * k);
  return out;
}

function parseQuery(v: IgmpView): WireResult<IgmpRepr> {
  const b = v.bytes;
  if (b.length === IGMP_HEADER_LEN) {
    const v1 = v.code === 0;
    return ok({
      kind: 'query',
      version: v1 ? 1 : 2,
      group: v.group,
      maxRespDs: v1 ? IGMP_V1_MAX_RESP_DS : v.code,
      suppress: false,
      qrv: 0,
      qqicSeconds: 0,
      sources: [],
    });
  }
  if (b.length < IGMP_V3_QUERY_MIN) return reject('igmp', `IGMP query of ${b.length} bytes is neither 8 (v1/v2) nor ≥ 12 (v3)`);
  const n = v.querySourceCount;
  if (F.SOURCES + 4 * n > b.length) return reject('igmp', `IGMPv3 query lists ${n} sources past the end of the message`);
  return ok({
    kind: 'query',
    version: 3,
    group: v.group,
    maxRespDs: decodeCode(v.code),
    suppress: v.suppress,
    qrv: v.qrv,
    qqicSeconds: decodeCode(v.qqic),
    sources: ipList(b, F.SOURCES, n),
  });
}

function parseV3Report(v: IgmpView): WireResult<IgmpRepr> {
  const b = v.bytes;
  const n = v.recordCount;
  const records: IgmpGroupRecord[] = [];
  let off: number = F.RECORDS;
  for (let k = 0; k < n; k++) {
    if (off + R.SOURCES > b.length) return reject('igmp', `IGMPv3 report record ${k} of ${n} runs past the end`);
    const nsrc = u16(b, off + R.N_SOURCES);
    const aux = u8(b, off + R.AUX_LEN) * 4;
    const end = off + R.SOURCES + 4 * nsrc + aux;
    if (end > b.length) return reject('igmp', `IGMPv3 report record ${k} (${nsrc} sources, ${aux} aux bytes) runs past the end`);
    records.push({
      type: u8(b, off + R.TYPE),
      group: ipAt(b, off + R.GROUP),
      sources: ipList(b, off + R.SOURCES, nsrc),
      auxData: b.subarray(end - aux, end),
    });
    off = end;
  }
  return ok({ kind: 'v3report', records });
}

/** `b` is the IPv4 payload (the whole IGMP message). */
export function parseIgmp(b: Uint8Array): WireResult<IgmpRepr> {
  const v = new IgmpView(b);
  const bad = v.check();
  if (bad !== null) return reject('igmp', bad);
  switch (v.type) {
    case IGMP_TYPE.QUERY:
      return parseQuery(v);
    case IGMP_TYPE.V1_REPORT:
      return ok({ kind: 'report', version: 1, group: v.group });
    case IGMP_TYPE.V2_REPORT:
      return ok({ kind: 'report', version: 2, group: v.group });
    case IGMP_TYPE.V2_LEAVE:
      return ok({ kind: 'leave', group: v.group });
    case IGMP_TYPE.V3_REPORT:
      return parseV3Report(v);
    default:
      return reject('igmp', `unsupported IGMP type 0x${v.type.toString(16).padStart(2, '0')}`);
  }
}

function emitQuery(r: Extract<IgmpRepr, { kind: 'query' }>): Uint8Array {
  const L = 'igmp';
  const group = ipWordOrThrow(L, 'group', r.group);
  if (r.version === 1 || r.version === 2) {
    if (r.suppress || r.qrv !== 0 || r.qqicSeconds !== 0 || r.sources.length !== 0) {
      throw new EmitError(L, `a v${r.version} query has no S flag, QRV, QQIC or sources`);
    }
    let code: number;
    if (r.version === 1) {
      if (r.maxRespDs !== IGMP_V1_MAX_RESP_DS) throw new EmitError(L, `a v1 query has the fixed 10 s (100) response time, not ${r.maxRespDs}`);
      code = 0;
    } else {
      // 0 would turn the query into v1 on the wire
      if (!isUint(r.maxRespDs, 255) || r.maxRespDs === 0) throw new EmitError(L, `v2 Max Resp Time ${r.maxRespDs} is not 1..255`);
      code = r.maxRespDs;
    }
    const out = new Uint8Array(IGMP_HEADER_LEN);
    out[F.TYPE] = IGMP_TYPE.QUERY;
    out[F.CODE] = code;
    put32(out, F.GROUP, group);
    put16(out, F.CHECKSUM, internetChecksum(out, 0, out.length));
    return out;
  }
  if (r.version !== 3) throw new EmitError(L, `query version ${String(r.version)} is not 1, 2 or 3`);
  if (!Number.isFinite(r.maxRespDs) || r.maxRespDs < 0) throw new EmitError(L, `Max Resp ${r.maxRespDs} is not a non-negative number`);
  if (!Number.isFinite(r.qqicSeconds) || r.qqicSeconds < 0) throw new EmitError(L, `QQI ${r.qqicSeconds} is not a non-negative number`);
  if (!isUint(r.qrv, 7)) throw new EmitError(L, `QRV ${r.qrv} is not 0..7`);
  if (r.sources.length > 0xffff) throw new EmitError(L, `${r.sources.length} sources exceed 65535`);
  const out = new Uint8Array(F.SOURCES + 4 * r.sources.length);
  out[F.TYPE] = IGMP_TYPE.QUERY;
  out[F.CODE] = encodeCode(r.maxRespDs);
  put32(out, F.GROUP, group);
  out[F.S_QRV] = (r.suppress ? 0x08 : 0) | r.qrv;
  out[F.QQIC] = encodeCode(r.qqicSeconds);
  put16(out, F.N_SOURCES, r.sources.length);
  r.sources.forEach((s, k) => put32(out, F.SOURCES + 4 * k, ipWordOrThrow(L, 'source', s)));
  put16(out, F.CHECKSUM, internetChecksum(out, 0, out.length));
  return out;
}

function emitV3Report(records: IgmpGroupRecord[]): Uint8Array {
  const L = 'igmp';
  if (records.length > 0xffff) throw new EmitError(L, `${records.length} group records exceed 65535`);
  let len: number = F.RECORDS;
  for (const rec of records) {
    if (!isUint(rec.type, 255)) throw new EmitError(L, `record type ${rec.type} is not 0..255`);
    if (rec.sources.length > 0xffff) throw new EmitError(L, `${rec.sources.length} record sources exceed 65535`);
    if (rec.auxData.length % 4 !== 0 || rec.auxData.length > 255 * 4) {
      throw new EmitError(L, `aux data of ${rec.auxData.length} bytes is not a multiple of 4 up to 1020`);
    }
    len += R.SOURCES + 4 * rec.sources.length + rec.auxData.length;
  }
  const out = new Uint8Array(len);
  out[F.TYPE] = IGMP_TYPE.V3_REPORT;
  put16(out, F.N_RECORDS, records.length);
  let off: number = F.RECORDS;
  for (const rec of records) {
    out[off + R.TYPE] = rec.type;
    out[off + R.AUX_LEN] = rec.auxData.length / 4;
    put16(out, off + R.N_SOURCES, rec.sources.length);
    put32(out, off + R.GROUP, ipWordOrThrow(L, 'record group', rec.group));
    off += R.SOURCES;
    for (const s of rec.sources) {
      put32(out, off, ipWordOrThrow(L, 'record source', s));
      off += 4;
    }
    out.set(rec.auxData, off);
    off += rec.auxData.length;
  }
  put16(out, F.CHECKSUM, internetChecksum(out, 0, out.length));
  return out;
}

export function emitIgmp(r: IgmpRepr): Uint8Array {
  switch (r.kind) {
    case 'query':
      return emitQuery(r);
    case 'report':
    case 'leave': {
      let type: number;
      if (r.kind === 'leave') type = IGMP_TYPE.V2_LEAVE;
      else if (r.version === 1) type = IGMP_TYPE.V1_REPORT;
      else if (r.version === 2) type = IGMP_TYPE.V2_REPORT;
      else throw new EmitError('igmp', `report version ${String(r.version)} is not 1 or 2 (use kind 'v3report')`);
      const out = new Uint8Array(IGMP_HEADER_LEN);
      out[F.TYPE] = type;
      put32(out, F.GROUP, ipWordOrThrow('igmp', 'group', r.group));
      put16(out, F.CHECKSUM, internetChecksum(out, 0, out.length));
      return out;
    }
    case 'v3report':
      return emitV3Report(r.records);
    default:
      throw new EmitError('igmp', `unknown kind ${String((r as { kind: unknown }).kind)}`);
  }
}
