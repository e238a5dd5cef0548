// The TLV header LLDP defines and VDP reuses (802.1AB 8.4, 802.1Qbg 41.2): a 16-bit word of
// a 7-bit type and a 9-bit length (octets after the header).

import { u16, u8 } from './fields.js';

export const TLV_HEADER_LEN = 2;
export const TLV_MAX_LEN = 0x1ff;

const F = {
  /** type(7) | length(9) */
  HEADER: 0,
  VALUE: 2,
} as const;

/** One TLV at the start of `bytes` (which runs to the end of the enclosing PDU). */
export class TlvView {
  constructor(readonly bytes: Uint8Array) {}

  check(): string | null {
    if (this.bytes.length < TLV_HEADER_LEN) return `truncated TLV header (${this.bytes.length} byte left)`;
    if (TLV_HEADER_LEN + this.length > this.bytes.length) {
      return `TLV type ${this.type} length ${this.length} runs past the end (${this.bytes.length - TLV_HEADER_LEN} bytes left)`;
    }
    return null;
  }

  get type(): number {
    return u8(this.bytes, F.HEADER) >>> 1;
  }
  get length(): number {
    return u16(this.bytes, F.HEADER) & TLV_MAX_LEN;
  }
  get value(): Uint8Array {
    return this.bytes.subarray(F.VALUE, F.VALUE + this.length);
  }
  get totalLen(): number {
    return TLV_HEADER_LEN + this.length;
  }
}
