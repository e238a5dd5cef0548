// ECP, the Edge Control Protocol (802.1Qbg-2012 clause 43): the 4-byte header after the
// Ethernet header (EtherType 0x8940), then an opaque upper-layer payload (VDP for subtype 1).
// Header layout: docs/protocols.md 1.2; framing and padding: docs/protocols.md 1.1.

import { EmitError, ok, reject, type WireResult } from './result.js';
import { put16, u16 } from './fields.js';

export const ECP_SUBTYPE = { VDP: 1, PECSP: 2 } as const;
export const ECP_VERSION = 1;
export const ECP_HEADER_LEN = 4;
/**
 * Largest payload lldpad sends in one ECPDU: 1500 − 4 (header) − 2 (room for an End TLV),
 * `ECP22_MAXPAYLOAD_LEN` (protocols.md 1.1). Advisory: neither parse nor emit enforce it,
 * the sender that builds payloads does.
 */
export const ECP_MAX_PAYLOAD = 1494;

const OP = { REQUEST: 0, ACK: 1 } as const;

const F = {
  /** version(4) | op(2) | subtype(10) */
  VER_OP_SUBTYPE: 0,
  SEQ: 2,
  PAYLOAD: 4,
} as const;

export interface EcpRepr {
  op: 'request' | 'ack';
  subtype: number;
  seq: number;
  /** the bytes after the header; a view into the parsed buffer (may include padding) */
  payload: Uint8Array;
}

export class EcpView {
  constructor(readonly bytes: Uint8Array) {}

  check(): string | null {
    if (this.bytes.length < ECP_HEADER_LEN) return `ECP header of ${this.bytes.length} bytes is shorter than 4`;
    return null;
  }

  get version(): number {
    return u16(this.bytes, F.VER_OP_SUBTYPE) >>> 12;
  }
  get op(): number {
    return (u16(this.bytes, F.VER_OP_SUBTYPE) >>> 10) & 0x3;
  }
  get subtype(): number {
    return u16(this.bytes, F.VER_OP_SUBTYPE) & 0x3ff;
  }
  get seq(): number {
    return u16(this.bytes, F.SEQ);
  }
  get payload(): Uint8Array {
    return this.bytes.subarray(F.PAYLOAD);
  }
}

export function parseEcp(b: Uint8Array): WireResult<EcpRepr> {
  const v = new EcpView(b);
  const bad = v.check();
  if (bad) return reject('ecp', bad);
  // lldpad's receiver drops other versions (ecp22_rx_receiveframe); so do we.
  if (v.version !== ECP_VERSION) return reject('ecp', `version ${v.version} is not 1`);
  const op = v.op;
  if (op !== OP.REQUEST && op !== OP.ACK) return reject('ecp', `operation type ${op} is unused (0 request, 1 ack)`);
  return ok({ op: op === OP.ACK ? 'ack' : 'request', subtype: v.subtype, seq: v.seq, payload: v.payload });
}

export function emitEcp(r: EcpRepr): Uint8Array {
  if (r.op !== 'request' && r.op !== 'ack') throw new EmitError('ecp', `operation ${String(r.op)} is not request/ack`);
  if (!Number.isInteger(r.subtype) || r.subtype < 0 || r.subtype > 0x3ff) throw new EmitError('ecp', `subtype ${r.subtype} does not fit 10 bits`);
  if (!Number.isInteger(r.seq) || r.seq < 0 || r.seq > 0xffff) throw new EmitError('ecp', `sequence number ${r.seq} does not fit 16 bits`);
  const out = new Uint8Array(ECP_HEADER_LEN + r.payload.length);
  const op = r.op === 'ack' ? OP.ACK : OP.REQUEST;
  put16(out, F.VER_OP_SUBTYPE, (ECP_VERSION << 12) | (op << 10) | r.subtype);
  put16(out, F.SEQ, r.seq);
  out.set(r.payload, F.PAYLOAD);
  return out;
}
