// Field helpers shared by the codecs: bounds-checked big-endian reads for views, MAC and
// IPv4 addresses in and out of bytes (their text forms are model/address.ts's), and the
// Internet checksum.

import { ipToU32, isMac, type Ipv4, type Mac } from '../model/address.js';

/** A read-only window on bytes; every getter is guarded by the view's own length check. */
export function u8(b: Uint8Array, off: number): number {
  return b[off] ?? 0;
}

export function u16(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) << 8) | (b[off + 1] ?? 0);
}

export function u24(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) << 16) | ((b[off + 1] ?? 0) << 8) | (b[off + 2] ?? 0);
}

export function u32(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0;
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

export function put24(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 16) & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = v & 0xff;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

const TWO_32 = 4294967296;

/** A big-endian u64 as a number: exact below 2^53, which every 64-bit field migsim reads stays under. */
export function u64(b: Uint8Array, off: number): number {
  return u32(b, off) * TWO_32 + u32(b, off + 4);
}

/** Writes `v` (an integer below 2^53) as a big-endian u64. */
export function put64(b: Uint8Array, off: number, v: number): void {
  put32(b, off, Math.floor(v / TWO_32));
  put32(b, off + 4, v % TWO_32);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));


export function macAt(b: Uint8Array, off: number): Mac {
  return `${HEX[u8(b, off)]}:${HEX[u8(b, off + 1)]}:${HEX[u8(b, off + 2)]}:${HEX[u8(b, off + 3)]}:${HEX[u8(b, off + 4)]}:${HEX[u8(b, off + 5)]}`;
}


export function putMac(b: Uint8Array, off: number, mac: Mac): void {
  const lower = mac.toLowerCase();
  if (!isMac(lower)) throw new RangeError(`not a MAC: ${mac}`);
  for (let i = 0; i < 6; i++) b[off + i] = parseInt(lower.slice(i * 3, i * 3 + 2), 16);
}



export function ipAt(b: Uint8Array, off: number): Ipv4 {
  return `${u8(b, off)}.${u8(b, off + 1)}.${u8(b, off + 2)}.${u8(b, off + 3)}`;
}


export function putIp(b: Uint8Array, off: number, ip: Ipv4): void {
  put32(b, off, ipToU32(ip));
}

/** RFC 1071 one's-complement sum of 16-bit words, folded, not inverted. */
export function onesSum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (i < end) sum += (b[i] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum of b[start, end): the value to put in the field. */
export function internetChecksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesSum(b, start, end, initial) & 0xffff;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x];
  return s;
}

/** Parse hex text (spaces, colons and a 0x prefix allowed); null if it is not hex bytes. */
export function fromHex(text: string): Uint8Array | null {
  const clean = text.trim().replace(/^0x/i, '').replace(/[\s:.-]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
