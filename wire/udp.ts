// UDP (RFC 768) over IPv4, checksummed with the IPv4 pseudo-header
// (source, destination, zero, protocol 17, UDP length). Same pattern as ethernet.ts.
// A received checksum of 0 means the sender computed none and is accepted; emit always
// computes one and sends a computed 0 as 0xFFFF (RFC 768).

import { EmitError, ok, reject, type WireResult } from './result.js';
import { internetChecksum, onesSum, put16, u16 } from './fields.js';
import { type Ipv4, ipWord } from '../model/address.js';
import { IP_PROTO, ipWordOrThrow, isUint } from './ipv4.js';

const F = {
  SRC_PORT: 0,
  DST_PORT: 2,
  LENGTH: 4,
  CHECKSUM: 6,
  PAYLOAD: 8,
} as const;

export const UDP_HEADER_LEN = 8;

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** length field − 8 bytes; a view into the parsed buffer */
  payload: Uint8Array;
}

/** The pseudo-header's contribution to the one's-complement sum (unfolded; onesSum folds). */
function pseudoSum(src: number, dst: number, udpLength: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IP_PROTO.UDP + udpLength;
}

export class UdpView {
  constructor(readonly bytes: Uint8Array) {}

  /** Length checks only: the checksum needs the addresses, see parseUdp. */
  check(): string | null {
    if (this.bytes.length < UDP_HEADER_LEN) return 'UDP datagram shorter than the 8-byte header';
    const len = this.length;
    if (len < UDP_HEADER_LEN) return 'UDP length field below 8';
    if (len > this.bytes.length) return 'UDP length field longer than the buffer';
    return null;
  }

  get srcPort(): number {
    return u16(this.bytes, F.SRC_PORT);
  }
  get dstPort(): number {
    return u16(this.bytes, F.DST_PORT);
  }
  get length(): number {
    return u16(this.bytes, F.LENGTH);
  }
  get checksum(): number {
    return u16(this.bytes, F.CHECKSUM);
  }
  get payload(): Uint8Array {
    const end = Math.min(Math.max(this.length, F.PAYLOAD), this.bytes.length);
    return this.bytes.subarray(Math.min(F.PAYLOAD, end), end);
  }
}

/** `b` is the IPv4 payload; bytes beyond the UDP length field are ignored. */
/**
 * `verifyChecksum: false` is for a switch on the forwarding path: it is not the datagram's
 * endpoint, and a frame captured on a veth with TX checksum offload carries an unfinished
 * checksum that the receiving end's stack would accept (CHECKSUM_PARTIAL).
 */
export function parseUdp(b: Uint8Array, src: Ipv4, dst: Ipv4, opts: { verifyChecksum?: boolean } = {}): WireResult<UdpRepr> {
  const v = new UdpView(b);
  const bad = v.check();
  if (bad !== null) return reject('udp', bad);
  if (v.checksum !== 0 && opts.verifyChecksum !== false) {
    const s = typeof src === 'string' ? ipWord(src) : -1;
    const d = typeof dst === 'string' ? ipWord(dst) : -1;
    if (s < 0 || d < 0) return reject('udp', 'pseudo-header address is not IPv4 text');
    const len = v.length;
    if (onesSum(b, 0, len, pseudoSum(s, d, len)) !== 0xffff) return reject('udp', 'UDP checksum mismatch');
  }
  return ok({ srcPort: v.srcPort, dstPort: v.dstPort, payload: v.payload });
}

export function emitUdp(r: UdpRepr, src: Ipv4, dst: Ipv4): Uint8Array {
  const L = 'udp';
  if (!isUint(r.srcPort, 0xffff)) throw new EmitError(L, `source port ${r.srcPort} is not 16-bit`);
  if (!isUint(r.dstPort, 0xffff)) throw new EmitError(L, `destination port ${r.dstPort} is not 16-bit`);
  const s = ipWordOrThrow(L, 'pseudo-header source', src);
  const d = ipWordOrThrow(L, 'pseudo-header destination', dst);
  const len = UDP_HEADER_LEN + r.payload.length;
  if (len > 0xffff) throw new EmitError(L, `length ${len} exceeds 65535`);
  const out = new Uint8Array(len);
  put16(out, F.SRC_PORT, r.srcPort);
  put16(out, F.DST_PORT, r.dstPort);
  put16(out, F.LENGTH, len);
  out.set(r.payload, F.PAYLOAD);
  const sum = internetChecksum(out, 0, len, pseudoSum(s, d, len));
  put16(out, F.CHECKSUM, sum === 0 ? 0xffff : sum);
  return out;
}
