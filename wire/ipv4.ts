// IPv4 header (RFC 791) with options, written to the same pattern as ethernet.ts:
//  - Ipv4View: named offsets over the bytes; `check()` validates lengths, version, header
//    checksum and option framing; getters never read out of bounds.
//  - Ipv4Repr: the validated value; `parseIpv4` never throws, `emitIpv4` computes the
//    header checksum and throws EmitError only for an unencodable repr.
// The parse path builds no strings other than the two address texts.

import { type Ipv4, ipWord } from '../model/address.js';
import { EmitError, ok, reject, type WireResult } from './result.js';
import { ipAt, onesSum, internetChecksum, put16, put32, u16, u8 } from './fields.js';

export const IP_PROTO = { IGMP: 2, TCP: 6, UDP: 17 } as const;

const F = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  TOTAL_LEN: 2,
  ID: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

export const IPV4_MIN_HEADER = 20;
export const IPV4_MAX_HEADER = 60;
export const IPV4_MAX_OPTIONS = IPV4_MAX_HEADER - IPV4_MIN_HEADER;

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_MASK = 0x1fff;

const OPT_END = 0;
const OPT_NOP = 1;
const OPT_ROUTER_ALERT = 0x94;

/** RFC 2113 Router Alert, value 0 ("router shall examine packet"), as IGMP carries it. */
export const ROUTER_ALERT: Uint8Array = Uint8Array.of(0x94, 0x04, 0x00, 0x00);

export interface Ipv4Repr {
  dscp: number;
  ecn: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** in 8-byte units */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: Ipv4;
  dst: Ipv4;
  /** the option bytes as on the wire (a view; a multiple of 4 when parsed, End padding included) */
  options: Uint8Array;
  /** exactly totalLength − header length (Ethernet padding excluded); a view into the parsed buffer */
  payload: Uint8Array;
}

/**
 * Where option framing breaks in `opts[start, end)`, or null if it is well formed:
 * 0 End stops the walk (what follows is padding), 1 NOP is one byte, every other option is
 * type, length (≥ 2, counting both), data, and must end inside the area.
 */
function optionsProblem(opts: Uint8Array, start: number, end: number): string | null {
  let i = start;
  while (i < end) {
    const type = opts[i] ?? 0;
    if (type === OPT_END) return null;
    if (type === OPT_NOP) {
      i += 1;
      continue;
    }
    if (i + 1 >= end) return 'IPv4 option has no length byte';
    const len = opts[i + 1] ?? 0;
    if (len < 2) return 'IPv4 option length below 2';
    if (i + len > end) return 'IPv4 option runs past the header';
    i += len;
  }
  return null;
}

export class Ipv4View {
  constructor(readonly bytes: Uint8Array) {}

  /** Everything parseIpv4 requires, in order; null when the bytes are a valid IPv4 packet. */
  check(): string | null {
    const b = this.bytes;
    if (b.length < IPV4_MIN_HEADER) return 'IPv4 packet shorter than the 20-byte header';
    if (this.version !== 4) return 'IPv4 version field is not 4';
    const hl = this.headerLen;
    if (hl < IPV4_MIN_HEADER) return 'IPv4 IHL below 5';
    if (hl > b.length) return 'IPv4 header longer than the buffer';
    const total = this.totalLength;
    if (total < hl) return 'IPv4 total length shorter than the header';
    if (total > b.length) return 'IPv4 total length longer than the buffer';
    if (onesSum(b, 0, hl) !== 0xffff) return 'IPv4 header checksum mismatch';
    if ((u16(b, F.FLAGS_FRAG) & FLAG_RESERVED) !== 0) return 'IPv4 reserved flag bit set';
    return optionsProblem(b, F.OPTIONS, hl);
  }

  get version(): number {
    return u8(this.bytes, F.VER_IHL) >>> 4;
  }
  get headerLen(): number {
    return (u8(this.bytes, F.VER_IHL) & 0x0f) * 4;
  }
  get dscp(): number {
    return u8(this.bytes, F.DSCP_ECN) >>> 2;
  }
  get ecn(): number {
    return u8(this.bytes, F.DSCP_ECN) & 0x03;
  }
  get totalLength(): number {
    return u16(this.bytes, F.TOTAL_LEN);
  }
  get id(): number {
    return u16(this.bytes, F.ID);
  }
  get dontFragment(): boolean {
    return (u16(this.bytes, F.FLAGS_FRAG) & FLAG_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (u16(this.bytes, F.FLAGS_FRAG) & FLAG_MF) !== 0;
  }
  get fragmentOffset(): number {
    return u16(this.bytes, F.FLAGS_FRAG) & FRAG_MASK;
  }
  get ttl(): number {
    return u8(this.bytes, F.TTL);
  }
  get protocol(): number {
    return u8(this.bytes, F.PROTOCOL);
  }
  get checksum(): number {
    return u16(this.bytes, F.CHECKSUM);
  }
  get src(): Ipv4 {
    return ipAt(this.bytes, F.SRC);
  }
  get dst(): Ipv4 {
    return ipAt(this.bytes, F.DST);
  }
  /** Clamped to the buffer, so it is safe before check(). */
  get options(): Uint8Array {
    const end = Math.min(Math.max(this.headerLen, F.OPTIONS), this.bytes.length);
    return this.bytes.subarray(Math.min(F.OPTIONS, end), end);
  }
  get payload(): Uint8Array {
    const end = Math.min(this.totalLength, this.bytes.length);
    return this.bytes.subarray(Math.min(this.headerLen, end), end);
  }
}

export function parseIpv4(b: Uint8Array): WireResult<Ipv4Repr> {
  const v = new Ipv4View(b);
  const bad = v.check();
  if (bad !== null) return reject('ipv4', bad);
  return ok({
    dscp: v.dscp,
    ecn: v.ecn,
    id: v.id,
    dontFragment: v.dontFragment,
    moreFragments: v.moreFragments,
    fragmentOffset: v.fragmentOffset,
    ttl: v.ttl,
    protocol: v.protocol,
    src: v.src,
    dst: v.dst,
    options: v.options,
    payload: v.payload,
  });
}


/** The address as a 32-bit value, or EmitError naming the layer and field. */
export function ipWordOrThrow(layer: string, field: string, ip: Ipv4): number {
  const w = typeof ip === 'string' ? ipWord(ip) : -1;
  if (w < 0) throw new EmitError(layer, `${field} ${String(ip)} is not an IPv4 address`);
  return w;
}

export function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/**
 * True when the options carry Router Alert with value 0 (94 04 00 00), as RFC 2236/3376
 * require on IGMP and Linux (`ip_options_compile`) recognises. Malformed framing ends the
 * walk (false unless the alert came earlier); never throws.
 */
export function hasRouterAlert(options: Uint8Array): boolean {
  let i = 0;
  while (i < options.length) {
    const type = options[i] ?? 0;
    if (type === OPT_END) return false;
    if (type === OPT_NOP) {
      i += 1;
      continue;
    }
    const len = options[i + 1] ?? 0;
    if (len < 2 || i + len > options.length) return false;
    if (type === OPT_ROUTER_ALERT && len === 4 && options[i + 2] === 0 && options[i + 3] === 0) return true;
    i += len;
  }
  return false;
}

/** Header length emit will produce: 20 + options padded to a multiple of 4. */
export function ipv4HeaderLen(r: Ipv4Repr): number {
  return IPV4_MIN_HEADER + ((r.options.length + 3) & ~3);
}

/**
 * Emit the packet. Options are copied as given and, if their length is not a multiple of 4,
 * followed by zero bytes — an End of Option List and RFC 791's zero header padding — so a
 * list that does not already end with End gets one. Options must be well formed and fit in
 * 40 bytes after padding.
 */
export function emitIpv4(r: Ipv4Repr): Uint8Array {
  const L = 'ipv4';
  if (!isUint(r.dscp, 63)) throw new EmitError(L, `DSCP ${r.dscp} is not 0..63`);
  if (!isUint(r.ecn, 3)) throw new EmitError(L, `ECN ${r.ecn} is not 0..3`);
  if (!isUint(r.id, 0xffff)) throw new EmitError(L, `identification ${r.id} is not 16-bit`);
  if (!isUint(r.fragmentOffset, FRAG_MASK)) throw new EmitError(L, `fragment offset ${r.fragmentOffset} is not 0..8191`);
  if (!isUint(r.ttl, 255)) throw new EmitError(L, `TTL ${r.ttl} is not 0..255`);
  if (!isUint(r.protocol, 255)) throw new EmitError(L, `protocol ${r.protocol} is not 0..255`);
  const src = ipWordOrThrow(L, 'source', r.src);
  const dst = ipWordOrThrow(L, 'destination', r.dst);
  const hl = ipv4HeaderLen(r);
  if (hl > IPV4_MAX_HEADER) throw new EmitError(L, `${r.options.length} option bytes do not fit in 40`);
  const problem = optionsProblem(r.options, 0, r.options.length);
  if (problem !== null) throw new EmitError(L, problem);
  const total = hl + r.payload.length;
  if (total > 0xffff) throw new EmitError(L, `total length ${total} exceeds 65535`);

  const out = new Uint8Array(total);
  out[F.VER_IHL] = 0x40 | (hl >>> 2);
  out[F.DSCP_ECN] = (r.dscp << 2) | r.ecn;
  put16(out, F.TOTAL_LEN, total);
  put16(out, F.ID, r.id);
  put16(out, F.FLAGS_FRAG, (r.dontFragment ? FLAG_DF : 0) | (r.moreFragments ? FLAG_MF : 0) | r.fragmentOffset);
  out[F.TTL] = r.ttl;
  out[F.PROTOCOL] = r.protocol;
  put32(out, F.SRC, src);
  put32(out, F.DST, dst);
  out.set(r.options, F.OPTIONS);
  put16(out, F.CHECKSUM, internetChecksum(out, 0, hl));
  out.set(r.payload, hl);
  return out;
}
