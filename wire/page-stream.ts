// migsim's migration page stream (docs/wire-formats.md "The migration page stream"): the
// host agents' page-transfer records over one TCP connection, source → destination forward
// and destination → source replies — their view, parse and emit, as every codec here
// (wire/README.md). The incremental decoder is page-stream-decoder.ts.

import { PAGE_HEADER_BYTES, ZERO_PAGE_BYTES, pageWireBytes } from '../model/page-cost.js';
import { put32, put64, u32, u64 } from './fields.js';

export const REC = {
  PAGES: 0x001,
  ZERO: 0x002,
  HELLO: 0x004,
  PAGE: 0x008,
  ROUND_END: 0x010,
  DEVICE_STATE: 0x020,
  CHECKSUMS: 0x040,
  DONE: 0x080,
  RESUMED: 0x100,
  VERDICT: 0x200,
  ERROR: 0x400,
} as const;

export const HEADER_BYTES = PAGE_HEADER_BYTES;
export const STREAM_MAGIC = 0x4d475331;
export const STREAM_VERSION = 1;
export const MAX_NAME_BYTES = 255;
export const MAX_ERROR_BYTES = 1024;
export const MIN_PAGE_SIZE = 64;
export const MAX_PAGE_SIZE = 2 * 1024 * 1024;
export const NO_PAGE = 0xffffffff;
/** most pages in one PAGES batch (its index list is reassembled when split; its pages never are) */
export const MAX_BATCH_PAGES = 1024;

/** Field offsets, from the start of the record (header included). */
const F = {
  HEADER_HI: 0,
  HEADER_LO: 4,
  PAYLOAD: 8,
  ZERO_FILL: 8,
  HELLO: { MAGIC: 8, VERSION: 12, NAME_LEN: 14, PAGE_SIZE: 16, PAGE_COUNT: 20, DEVICE_STATE: 24, NAME: 32 },
  ROUND_END: { ROUND: 8, PAGES: 12, BYTES: 16, LEN: 16 },
  RESUMED: { T: 8, LEN: 8 },
  VERDICT: { VERIFIED: 8, RESERVED: 9, MISMATCHES: 12, FIRST: 16, CHECKED: 20, LEN: 16 },
} as const;
const HELLO_FIXED = 24;

export interface Hello {
  version: number;
  pageSize: number;
  pageCount: number;
  deviceStateBytes: number;
  vm: string;
}

export type StreamRecord =
  | ({ type: 'hello' } & Hello)
  /** `data` is a view into the decoder's input: valid during the callback only */
  | { type: 'page'; page: number; data: Uint8Array }
  | { type: 'zero'; page: number }
  /** a PAGES batch's index list; its pages' bytes follow as `pageData` */
  | { type: 'pages'; pages: Uint32Array }
  /**
   * bytes of the current PAGES batch, as they arrive: they belong at byte `offset` of page
   * `page` and may run on into the pages after it (the decoder joins a batch's consecutive
   * page indexes into one span). `data` is a view, valid during the callback only.
   */
  | { type: 'pageData'; page: number; offset: number; data: Uint8Array }
  | { type: 'roundEnd'; round: number; pagesSent: number; bytesSent: number }
  /** `data` is a view, as for pages */
  | { type: 'deviceState'; data: Uint8Array }
  | { type: 'checksums'; crcs: Uint32Array }
  | { type: 'done' }
  | { type: 'resumed'; tNs: number }
  | { type: 'verdict'; verified: boolean; mismatches: number; firstPage: number | null; pagesChecked: number }
  | { type: 'error'; reason: string };

export type Direction = 'forward' | 'reply';

export interface StreamLimits {
  /** largest VM a HELLO may announce (the receiver allocates it) */
  maxMemoryBytes: number;
  maxDeviceStateBytes: number;
}

export const DEFAULT_LIMITS: StreamLimits = { maxMemoryBytes: 64 * 1024 ** 3, maxDeviceStateBytes: 256 * 1024 ** 2 };

/** One parse step on bytes that start at a record boundary. */
export type ParseStep =
  | { kind: 'record'; record: StreamRecord; length: number }
  /** not enough bytes: the record (or its header) is `bytes` long */
  | { kind: 'need'; bytes: number }
  | { kind: 'reject'; reason: string };

const TWO_32 = 4294967296;

/** A window on one record's bytes; every getter reads through the bounds-checked field helpers. */
export class RecordView {
  constructor(readonly bytes: Uint8Array) {}
  get type(): number {
    return u32(this.bytes, F.HEADER_LO) & 0xfff;
  }
  /** high 52 bits of the header: the page index or the payload length */
  get operand(): number {
    return u32(this.bytes, F.HEADER_HI) * 2 ** 20 + (u32(this.bytes, F.HEADER_LO) >>> 12);
  }
  u32(off: number): number {
    return u32(this.bytes, off);
  }
  u64(off: number): number {
    return u64(this.bytes, off);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function decodeText(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

const typeName = (t: number): string => {
  for (const [k, v] of Object.entries(REC)) if (v === t) return k;
  return `0x${t.toString(16).padStart(3, '0')}`;
};

export interface ParseContext {
  direction: Direction;
  /** the stream's HELLO, once seen (forward only) */
  hello: Hello | null;
  limits: StreamLimits;
}

/** Parse one record at the start of `b`. Never throws. */
export function parseRecord(b: Uint8Array, ctx: ParseContext): ParseStep {
  if (b.length < HEADER_BYTES) return { kind: 'need', bytes: HEADER_BYTES };
  const v = new RecordView(b);
  const type = v.type;
  const operand = v.operand;
  const need = (total: number): ParseStep | null => (b.length < total ? { kind: 'need', bytes: total } : null);
  const rej = (reason: string): ParseStep => ({ kind: 'reject', reason });

  if (ctx.direction === 'reply') {
    switch (type) {
      case REC.RESUMED: {
        if (operand !== F.RESUMED.LEN) return rej(`RESUMED payload of ${operand} bytes, expected ${F.RESUMED.LEN}`);
        const n = need(HEADER_BYTES + operand);
        if (n) return n;
        return { kind: 'record', record: { type: 'resumed', tNs: v.u64(F.RESUMED.T) }, length: HEADER_BYTES + operand };
      }
      case REC.VERDICT: {
        if (operand !== F.VERDICT.LEN) return rej(`VERDICT payload of ${operand} bytes, expected ${F.VERDICT.LEN}`);
        const n = need(HEADER_BYTES + operand);
        if (n) return n;
        const verified = b[F.VERDICT.VERIFIED]!;
        if (verified > 1) return rej(`VERDICT verified byte ${verified} is not 0 or 1`);
        if (b[F.VERDICT.RESERVED] !== 0 || b[F.VERDICT.RESERVED + 1] !== 0 || b[F.VERDICT.RESERVED + 2] !== 0) {
          return rej('VERDICT reserved bytes are not zero');
        }
        const mismatches = v.u32(F.VERDICT.MISMATCHES);
        const first = v.u32(F.VERDICT.FIRST);
        const checked = v.u32(F.VERDICT.CHECKED);
        if ((verified === 1) !== (mismatches === 0)) return rej(`VERDICT says verified=${verified} with ${mismatches} mismatching pages`);
        if ((mismatches === 0) !== (first === NO_PAGE)) return rej(`VERDICT first mismatching page ${first} does not fit ${mismatches} mismatches`);
        if (mismatches > checked) return rej(`VERDICT has ${mismatches} mismatches out of ${checked} pages checked`);
        return {
          kind: 'record',
          record: { type: 'verdict', verified: verified === 1, mismatches, firstPage: first === NO_PAGE ? null : first, pagesChecked: checked },
          length: HEADER_BYTES + operand,
        };
      }
      case REC.ERROR: {
        if (operand > MAX_ERROR_BYTES) return rej(`ERROR reason of ${operand} bytes is longer than ${MAX_ERROR_BYTES}`);
        const n = need(HEADER_BYTES + operand);
        if (n) return n;
        const reason = decodeText(b.subarray(HEADER_BYTES, HEADER_BYTES + operand));
        if (reason === null) return rej('ERROR reason is not UTF-8');
        return { kind: 'record', record: { type: 'error', reason }, length: HEADER_BYTES + operand };
      }
      default:
        return rej(`record type ${typeName(type)} is not a reply`);
    }
  }

  const hello = ctx.hello;
  if (type === REC.HELLO) {
    if (hello) return rej('a second HELLO');
    if (operand < HELLO_FIXED + 1 || operand > HELLO_FIXED + MAX_NAME_BYTES) return rej(`HELLO payload of ${operand} bytes is not ${HELLO_FIXED + 1}..${HELLO_FIXED + MAX_NAME_BYTES}`);
    const n = need(HEADER_BYTES + operand);
    if (n) return n;
    const H = F.HELLO;
    const magic = v.u32(H.MAGIC);
    if (magic !== STREAM_MAGIC) return rej(`HELLO magic 0x${magic.toString(16)} is not 0x${STREAM_MAGIC.toString(16)} (not a migsim stream)`);
    const version = (b[H.VERSION]! << 8) | b[H.VERSION + 1]!;
    if (version !== STREAM_VERSION) return rej(`stream version ${version} is not ${STREAM_VERSION}`);
    const nameLen = (b[H.NAME_LEN]! << 8) | b[H.NAME_LEN + 1]!;
    if (nameLen !== operand - HELLO_FIXED) return rej(`HELLO name length ${nameLen} does not match its payload (${operand - HELLO_FIXED})`);
    const pageSize = v.u32(H.PAGE_SIZE);
    if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
      return rej(`page size ${pageSize} is not a power of two in ${MIN_PAGE_SIZE}..${MAX_PAGE_SIZE}`);
    }
    const pageCount = v.u32(H.PAGE_COUNT);
    if (pageCount === 0) return rej('HELLO announces a VM of 0 pages');
    if (pageCount * pageSize > ctx.limits.maxMemoryBytes) {
      return rej(`HELLO announces ${pageCount * pageSize} bytes of RAM, more than this host accepts (${ctx.limits.maxMemoryBytes})`);
    }
    const deviceStateBytes = v.u64(H.DEVICE_STATE);
    if (deviceStateBytes > ctx.limits.maxDeviceStateBytes) {
      return rej(`HELLO announces ${deviceStateBytes} bytes of device state, more than ${ctx.limits.maxDeviceStateBytes}`);
    }
    const vm = decodeText(b.subarray(H.NAME, H.NAME + nameLen));
    if (vm === null) return rej('HELLO VM name is not UTF-8');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(vm)) return rej('HELLO VM name has control characters');
    return { kind: 'record', record: { type: 'hello', version, pageSize, pageCount, deviceStateBytes, vm }, length: HEADER_BYTES + operand };
  }
  if (!hello) return rej(`${typeName(type)} before HELLO`);

  switch (type) {
    case REC.PAGES: {
      if (operand < 1 || operand > MAX_BATCH_PAGES) return rej(`PAGES batch of ${operand} pages (1..${MAX_BATCH_PAGES})`);
      const len = HEADER_BYTES + 8 * operand;
      const n = need(len);
      if (n) return n;
      const pages = new Uint32Array(operand);
      for (let i = 0; i < operand; i++) {
        const at = HEADER_BYTES + 8 * i;
        const page = v.u64(at);
        if (page >= hello.pageCount) return rej(`PAGES entry ${i}: page ${page} is beyond the VM's ${hello.pageCount} pages`);
        pages[i] = page;
      }
      return { kind: 'record', record: { type: 'pages', pages }, length: len };
    }
    case REC.PAGE: {
      if (operand >= hello.pageCount) return rej(`PAGE ${operand} is beyond the VM's ${hello.pageCount} pages`);
      const total = pageWireBytes(hello.pageSize);
      const n = need(total);
      if (n) return n;
      return { kind: 'record', record: { type: 'page', page: operand, data: b.subarray(HEADER_BYTES, total) }, length: total };
    }
    case REC.ZERO: {
      if (operand >= hello.pageCount) return rej(`ZERO ${operand} is beyond the VM's ${hello.pageCount} pages`);
      const n = need(ZERO_PAGE_BYTES);
      if (n) return n;
      if (b[F.ZERO_FILL] !== 0) return rej(`ZERO ${operand} has fill byte ${b[F.ZERO_FILL]}, not 0`);
      return { kind: 'record', record: { type: 'zero', page: operand }, length: ZERO_PAGE_BYTES };
    }
    case REC.ROUND_END: {
      const R = F.ROUND_END;
      if (operand !== R.LEN) return rej(`ROUND_END payload of ${operand} bytes, expected ${R.LEN}`);
      const n = need(HEADER_BYTES + operand);
      if (n) return n;
      const pagesSent = v.u32(R.PAGES);
      if (pagesSent > hello.pageCount) return rej(`ROUND_END says ${pagesSent} pages, more than the VM's ${hello.pageCount}`);
      const bytesSent = v.u64(R.BYTES);
      if (bytesSent > Number.MAX_SAFE_INTEGER) return rej(`ROUND_END byte count ${bytesSent} is out of range`);
      return { kind: 'record', record: { type: 'roundEnd', round: v.u32(R.ROUND), pagesSent, bytesSent }, length: HEADER_BYTES + operand };
    }
    case REC.DEVICE_STATE: {
      if (operand !== hello.deviceStateBytes) return rej(`DEVICE_STATE of ${operand} bytes, HELLO announced ${hello.deviceStateBytes}`);
      const n = need(HEADER_BYTES + operand);
      if (n) return n;
      return { kind: 'record', record: { type: 'deviceState', data: b.subarray(HEADER_BYTES, HEADER_BYTES + operand) }, length: HEADER_BYTES + operand };
    }
    case REC.CHECKSUMS: {
      if (operand !== 4 * hello.pageCount) return rej(`CHECKSUMS of ${operand} bytes, expected 4 × ${hello.pageCount} pages`);
      const n = need(HEADER_BYTES + operand);
      if (n) return n;
      const crcs = new Uint32Array(hello.pageCount);
      for (let p = 0; p < crcs.length; p++) crcs[p] = u32(b, HEADER_BYTES + 4 * p);
      return { kind: 'record', record: { type: 'checksums', crcs }, length: HEADER_BYTES + operand };
    }
    case REC.DONE:
      if (operand !== 0) return rej(`DONE with a payload of ${operand} bytes`);
      return { kind: 'record', record: { type: 'done' }, length: HEADER_BYTES };
    default:
      return rej(`record type ${typeName(type)} is not a forward record`);
  }
}

// ---------------------------------------------------------------------------------------
// Emit

export class StreamEmitError extends Error {
  constructor(reason: string) {
    super(`migration stream: cannot emit: ${reason}`);
    this.name = 'StreamEmitError';
  }
}

function putHeader(b: Uint8Array, off: number, operand: number, type: number): void {
  // operand · 2^12 + type as be64, without going through 64-bit integers
  const hi = Math.floor(operand / 2 ** 20);
  const lo = ((operand % 2 ** 20) * 4096 + type) >>> 0;
  put32(b, off, hi);
  put32(b, off + 4, lo);
}

function control(type: number, payloadLen: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payloadLen);
  putHeader(out, 0, payloadLen, type);
  return out;
}

/** Write a PAGE record's header at `off`; the page's bytes go right after it. */
export function putPageHeader(b: Uint8Array, off: number, page: number): void {
  putHeader(b, off, page, REC.PAGE);
}

/** Write a PAGE record (header + the page's bytes) at `off`; returns the bytes written. */
export function putPageRecord(b: Uint8Array, off: number, page: number, data: Uint8Array): number {
  putHeader(b, off, page, REC.PAGE);
  b.set(data, off + HEADER_BYTES);
  return HEADER_BYTES + data.length;
}

/** Bytes of a PAGES batch's header and index list for `count` pages. */
export function pagesHeaderBytes(count: number): number {
  return HEADER_BYTES + 8 * count;
}

/**
 * Write a PAGES header and index list for `pages[from .. from + count)` at `off`; the pages'
 * bytes are to follow in that order. Returns the bytes written.
 */
export function putPagesHeader(b: Uint8Array, off: number, pages: ArrayLike<number>, from: number, count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH_PAGES) throw new StreamEmitError(`PAGES batch of ${count} pages (1..${MAX_BATCH_PAGES})`);
  putHeader(b, off, count, REC.PAGES);
  for (let i = 0; i < count; i++) put64(b, off + HEADER_BYTES + 8 * i, pages[from + i]!);
  return pagesHeaderBytes(count);
}

/** A whole PAGES batch (tests, tools; the sender writes the pages straight from guest RAM). */
export function emitPages(pages: readonly number[], data: readonly Uint8Array[]): Uint8Array {
  if (pages.length !== data.length) throw new StreamEmitError(`${pages.length} page indexes for ${data.length} pages`);
  const bytes = data.reduce((n, d) => n + d.length, 0);
  const out = new Uint8Array(pagesHeaderBytes(pages.length) + bytes);
  let off = putPagesHeader(out, 0, pages, 0, pages.length);
  for (const d of data) {
    out.set(d, off);
    off += d.length;
  }
  return out;
}

/** Write a ZERO record at `off`; returns the bytes written (ZERO_PAGE_BYTES). */
export function putZeroRecord(b: Uint8Array, off: number, page: number): number {
  putHeader(b, off, page, REC.ZERO);
  b[off + HEADER_BYTES] = 0;
  return ZERO_PAGE_BYTES;
}

export function emitHello(h: Omit<Hello, 'version'> & { version?: number }): Uint8Array {
  const name = utf8Encoder.encode(h.vm);
  if (name.length < 1 || name.length > MAX_NAME_BYTES) throw new StreamEmitError(`VM name of ${name.length} bytes (1..${MAX_NAME_BYTES})`);
  if (!Number.isInteger(h.pageCount) || h.pageCount < 1 || h.pageCount >= TWO_32) throw new StreamEmitError(`page count ${h.pageCount}`);
  if (!Number.isInteger(h.pageSize) || h.pageSize < 1 || h.pageSize >= TWO_32) throw new StreamEmitError(`page size ${h.pageSize}`);
  if (!Number.isSafeInteger(h.deviceStateBytes) || h.deviceStateBytes < 0) throw new StreamEmitError(`device state of ${h.deviceStateBytes} bytes`);
  const out = control(REC.HELLO, HELLO_FIXED + name.length);
  const H = F.HELLO;
  put32(out, H.MAGIC, STREAM_MAGIC);
  const version = h.version ?? STREAM_VERSION;
  out[H.VERSION] = version >>> 8;
  out[H.VERSION + 1] = version & 0xff;
  out[H.NAME_LEN] = name.length >>> 8;
  out[H.NAME_LEN + 1] = name.length & 0xff;
  put32(out, H.PAGE_SIZE, h.pageSize);
  put32(out, H.PAGE_COUNT, h.pageCount);
  put64(out, H.DEVICE_STATE, h.deviceStateBytes);
  out.set(name, H.NAME);
  return out;
}

export function emitRoundEnd(round: number, pagesSent: number, bytesSent: number): Uint8Array {
  const out = control(REC.ROUND_END, F.ROUND_END.LEN);
  put32(out, F.ROUND_END.ROUND, round >>> 0);
  put32(out, F.ROUND_END.PAGES, pagesSent >>> 0);
  put64(out, F.ROUND_END.BYTES, bytesSent);
  return out;
}

export function emitDeviceState(data: Uint8Array): Uint8Array {
  const out = control(REC.DEVICE_STATE, data.length);
  out.set(data, HEADER_BYTES);
  return out;
}

export function emitChecksums(crcs: Uint32Array): Uint8Array {
  const out = control(REC.CHECKSUMS, 4 * crcs.length);
  for (let p = 0; p < crcs.length; p++) put32(out, HEADER_BYTES + 4 * p, crcs[p]!);
  return out;
}

export function emitDone(): Uint8Array {
  return control(REC.DONE, 0);
}

export function emitResumed(tNs: number): Uint8Array {
  const out = control(REC.RESUMED, F.RESUMED.LEN);
  put64(out, F.RESUMED.T, Math.max(0, Math.round(tNs)));
  return out;
}

export function emitVerdict(v: { mismatches: number; firstPage: number | null; pagesChecked: number }): Uint8Array {
  const out = control(REC.VERDICT, F.VERDICT.LEN);
  out[F.VERDICT.VERIFIED] = v.mismatches === 0 ? 1 : 0;
  put32(out, F.VERDICT.MISMATCHES, v.mismatches);
  put32(out, F.VERDICT.FIRST, v.firstPage ?? NO_PAGE);
  put32(out, F.VERDICT.CHECKED, v.pagesChecked);
  return out;
}

export function emitError(reason: string): Uint8Array {
  let text = utf8Encoder.encode(reason);
  if (text.length > MAX_ERROR_BYTES) {
    // cut on a character boundary
    let end = MAX_ERROR_BYTES;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const out = control(REC.ERROR, text.length);
  out.set(text, HEADER_BYTES);
  return out;
}

/** Any record as bytes (tests, tools; the sender writes pages in place with putPagesHeader). */
export function emitRecord(r: StreamRecord): Uint8Array {
  switch (r.type) {
    case 'hello':
      return emitHello(r);
    case 'page': {
      const out = new Uint8Array(HEADER_BYTES + r.data.length);
      putPageRecord(out, 0, r.page, r.data);
      return out;
    }
    case 'zero': {
      const out = new Uint8Array(ZERO_PAGE_BYTES);
      putZeroRecord(out, 0, r.page);
      return out;
    }
    case 'pages': {
      const out = new Uint8Array(pagesHeaderBytes(r.pages.length));
      putPagesHeader(out, 0, r.pages, 0, r.pages.length);
      return out;
    }
    case 'pageData':
      // the batch's bytes as they came: decoded records emit back to the stream they came from
      return r.data.slice();
    case 'roundEnd':
      return emitRoundEnd(r.round, r.pagesSent, r.bytesSent);
    case 'deviceState':
      return emitDeviceState(r.data);
    case 'checksums':
      return emitChecksums(r.crcs);
    case 'done':
      return emitDone();
    case 'resumed':
      return emitResumed(r.tNs);
    case 'verdict':
      return emitVerdict(r);
    case 'error':
      return emitError(r.reason);
  }
}
