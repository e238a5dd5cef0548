// Capture files for `migsim decode`: classic pcap, pcapng and hex text, read into frames.
// Same style as the codecs: named offsets, every read bounds-checked, never throws.
// Byte layouts: docs/protocols.md 7; hex text, truncation, timestamps: docs/wire-formats.md
// "Capture files".

import { ok, reject, type WireResult } from './result.js';
import { fromHex } from './fields.js';

export type CaptureFormat = 'pcap' | 'pcapng' | 'hex';

export interface CaptureFrame {
  /** 1-based position in the capture, as Wireshark and tcpdump number frames */
  index: number;
  /** ns since the epoch; null where the format has none (pcapng SPB, hex text) */
  timeNs: number | null;
  /** a view into the capture's bytes; empty when `error` is set */
  bytes: Uint8Array;
  /** hex text only: the 1-based line the frame came from */
  line?: number;
  /** hex text only: why the line is not a frame */
  error?: string;
}

export interface Capture {
  format: CaptureFormat;
  frames: CaptureFrame[];
  /** set when the capture ends inside a record: `frames` are the ones before it */
  warning: string | null;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  101: 'raw IP',
  105: 'IEEE 802.11',
  113: 'Linux cooked (SLL)',
  127: 'radiotap 802.11',
  228: 'raw IPv4',
  229: 'raw IPv6',
  276: 'Linux cooked v2 (SLL2)',
};

function linktypeProblem(linktype: number, where: string): string | null {
  if (linktype === LINKTYPE_ETHERNET) return null;
  const name = LINKTYPE_NAMES[linktype];
  return `${where} link type ${linktype}${name ? ` (${name})` : ''} is not Ethernet (1); only Ethernet captures can be decoded`;
}

/** Byte-order-aware reads; 0 past the end (callers check lengths first). */
function rd16(b: Uint8Array, off: number, le: boolean): number {
  const x = b[off] ?? 0;
  const y = b[off + 1] ?? 0;
  return le ? x | (y << 8) : (x << 8) | y;
}

function rd32(b: Uint8Array, off: number, le: boolean): number {
  const x0 = b[off] ?? 0;
  const x1 = b[off + 1] ?? 0;
  const x2 = b[off + 2] ?? 0;
  const x3 = b[off + 3] ?? 0;
  return (le ? (x3 << 24) | (x2 << 16) | (x1 << 8) | x0 : (x0 << 24) | (x1 << 16) | (x2 << 8) | x3) >>> 0;
}

function rd64(b: Uint8Array, off: number, le: boolean): bigint {
  const first = BigInt(rd32(b, off, le));
  const second = BigInt(rd32(b, off + 4, le));
  return le ? (second << 32n) | first : (first << 32n) | second;
}

export function readCapture(bytes: Uint8Array): WireResult<Capture> {
  if (bytes.length >= 4) {
    const magic = rd32(bytes, 0, false);
    if (PCAP_MAGICS.has(magic)) return readPcap(bytes);
    if (magic === PCAPNG_SHB) return readPcapng(bytes);
  }
  return readHexText(bytes);
}

// ----------------------------------------------------------------------------------------
// Classic pcap

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
/** big-endian reading of the magic → [little-endian file, nanosecond timestamps] */
const PCAP_MAGICS = new Map<number, [boolean, boolean]>([
  [PCAP_MAGIC_US, [false, false]],
  [PCAP_MAGIC_NS, [false, true]],
  [0xd4c3b2a1, [true, false]],
  [0x4d3cb2a1, [true, true]],
]);

const PCAP_HDR = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  VERSION_MINOR: 6,
  SNAPLEN: 16,
  LINKTYPE: 20,
  LEN: 24,
} as const;

const PCAP_REC = {
  TS_SEC: 0,
  TS_FRAC: 4,
  INCL_LEN: 8,
  ORIG_LEN: 12,
  LEN: 16,
} as const;

/** Larger records are taken as corruption unless the snaplen allows them (Wireshark's limit). */
const PCAP_MAX_RECORD = 262_144;

function readPcap(b: Uint8Array): WireResult<Capture> {
  const L = 'pcap';
  if (b.length < PCAP_HDR.LEN) return reject(L, `file of ${b.length} bytes is shorter than the 24-byte pcap header`);
  const [le, nano] = PCAP_MAGICS.get(rd32(b, PCAP_HDR.MAGIC, false)) ?? [false, false];
  const major = rd16(b, PCAP_HDR.VERSION_MAJOR, le);
  const minor = rd16(b, PCAP_HDR.VERSION_MINOR, le);
  if (major !== 2) return reject(L, `pcap version ${major}.${minor} is not 2.x`);
  const snaplen = rd32(b, PCAP_HDR.SNAPLEN, le);
  const bad = linktypeProblem(rd32(b, PCAP_HDR.LINKTYPE, le) & 0xffff, 'pcap');
  if (bad) return reject(L, bad);
  const maxRecord = Math.max(snaplen, PCAP_MAX_RECORD);
  const fracNs = nano ? 1n : 1000n;

  const frames: CaptureFrame[] = [];
  let off: number = PCAP_HDR.LEN;
  while (off < b.length) {
    const n = frames.length + 1;
    if (b.length - off < PCAP_REC.LEN) {
      return ok({ format: 'pcap', frames, warning: `record ${n} at offset ${off}: the file ends inside its 16-byte header (${b.length - off} bytes left)` });
    }
    const incl = rd32(b, off + PCAP_REC.INCL_LEN, le);
    if (incl > maxRecord) return reject(L, `record ${n} at offset ${off}: captured length ${incl} exceeds ${maxRecord}; the file is corrupt`);
    const data = off + PCAP_REC.LEN;
    if (incl > b.length - data) {
      return ok({ format: 'pcap', frames, warning: `record ${n} at offset ${off}: the file ends inside its ${incl} bytes of frame (${b.length - data} left)` });
    }
    const sec = BigInt(rd32(b, off + PCAP_REC.TS_SEC, le));
    const frac = BigInt(rd32(b, off + PCAP_REC.TS_FRAC, le));
    frames.push({ index: n, timeNs: Number(sec * 1_000_000_000n + frac * fracNs), bytes: b.subarray(data, data + incl) });
    off = data + incl;
  }
  return ok({ format: 'pcap', frames, warning: null });
}

// ----------------------------------------------------------------------------------------
// pcapng

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const BLOCK = { SHB: PCAPNG_SHB, IDB: 1, SPB: 3, EPB: 6 } as const;

/** Offsets from the start of a block. */
const B = {
  TYPE: 0,
  TOTAL_LEN: 4,
  BODY: 8,
  /** the trailing copy of the total length: 4 bytes before the end */
  TRAILER_LEN: 4,
  MIN_LEN: 12,
} as const;

const SHB = { BOM: 8, MAJOR: 12, MINOR: 14, SECTION_LEN: 16, OPTIONS: 24, MIN_LEN: 28 } as const;
const IDB = { LINKTYPE: 8, SNAPLEN: 12, OPTIONS: 16, MIN_LEN: 20 } as const;
const EPB = { IFACE: 8, TS_HIGH: 12, TS_LOW: 16, CAP_LEN: 20, ORIG_LEN: 24, DATA: 28, MIN_LEN: 32 } as const;
const SPB = { ORIG_LEN: 8, DATA: 12, MIN_LEN: 16 } as const;
const OPT = { END: 0, IF_TSRESOL: 9, IF_TSOFFSET: 14, HEADER_LEN: 4 } as const;

interface Iface {
  snaplen: number;
  /** timestamp unit: 10^-exp (base 10) or 2^-exp (base 2) seconds */
  base2: boolean;
  exp: number;
  /** seconds added to every timestamp (if_tsoffset) */
  offsetSec: bigint;
}

const pad4 = (n: number): number => (n + 3) & ~3;

function toNs(ts: bigint, i: Iface): number {
  let ns: bigint;
  if (i.base2) ns = (ts * 1_000_000_000n) >> BigInt(i.exp);
  else if (i.exp <= 9) ns = ts * 10n ** BigInt(9 - i.exp);
  else ns = ts / 10n ** BigInt(i.exp - 9);
  return Number(ns + i.offsetSec * 1_000_000_000n);
}

/** The IDB's options, or the reason they are malformed. */
function readIdbOptions(b: Uint8Array, start: number, end: number, le: boolean, i: Iface): string | null {
  let off = start;
  while (off < end) {
    if (end - off < OPT.HEADER_LEN) return `option at offset ${off} has a truncated header`;
    const code = rd16(b, off, le);
    const len = rd16(b, off + 2, le);
    if (code === OPT.END) return null;
    const value = off + OPT.HEADER_LEN;
    if (len > end - value) return `option ${code} at offset ${off} runs past the block`;
    if (code === OPT.IF_TSRESOL) {
      if (len !== 1) return `if_tsresol of length ${len}, not 1`;
      const v = b[value] ?? 6;
      i.base2 = (v & 0x80) !== 0;
      i.exp = v & 0x7f;
    } else if (code === OPT.IF_TSOFFSET) {
      if (len !== 8) return `if_tsoffset of length ${len}, not 8`;
      i.offsetSec = BigInt.asIntN(64, rd64(b, value, le));
    }
    off = value + pad4(len);
  }
  return null;
}

function readPcapng(b: Uint8Array): WireResult<Capture> {
  const L = 'pcapng';
  const frames: CaptureFrame[] = [];
  const done = (warning: string | null): WireResult<Capture> => ok({ format: 'pcapng', frames, warning });
  let le = true;
  let ifaces: Iface[] = [];
  let off = 0;
  for (let blockNo = 1; off < b.length; blockNo++) {
    const left = b.length - off;
    const where = `block ${blockNo} at offset ${off}`;
    const isShb = left >= 4 && rd32(b, off + B.TYPE, false) === PCAPNG_SHB;
    if (isShb) {
      // the byte order is the SHB's own: read it before the length
      if (left < SHB.MIN_LEN) {
        if (off === 0) return reject(L, `file of ${b.length} bytes is shorter than the 28-byte section header block`);
        return done(`${where}: the file ends inside a section header block`);
      }
      const bomLe = rd32(b, off + SHB.BOM, true);
      if (bomLe === PCAPNG_BOM) le = true;
      else if (rd32(b, off + SHB.BOM, false) === PCAPNG_BOM) le = false;
      else return reject(L, `${where}: section header byte-order magic 0x${bomLe.toString(16)} is neither 1a2b3c4d nor 4d3c2b1a`);
      const major = rd16(b, off + SHB.MAJOR, le);
      if (major !== 1) return reject(L, `${where}: pcapng version ${major}.${rd16(b, off + SHB.MINOR, le)} is not 1.x`);
      ifaces = [];
    }
    if (left < B.BODY) return done(`${where}: the file ends inside the block header (${left} bytes left)`);
    const type = rd32(b, off + B.TYPE, le);
    const total = rd32(b, off + B.TOTAL_LEN, le);
    if (total < B.MIN_LEN || total % 4 !== 0) return reject(L, `${where}: block total length ${total} is not a multiple of 4 of at least 12`);
    if (total > left) {
      if (off === 0) return reject(L, `the section header block (${total} bytes) runs past the end of the ${b.length}-byte file`);
      return done(`${where}: the file ends inside this ${total}-byte block of type ${type} (${left} bytes left)`);
    }
    const trailer = rd32(b, off + total - B.TRAILER_LEN, le);
    if (trailer !== total) return reject(L, `${where}: trailing block length ${trailer} does not match the leading ${total}`);
    const end = off + total - B.TRAILER_LEN;

    switch (type) {
      case BLOCK.SHB:
        if (total < SHB.MIN_LEN) return reject(L, `${where}: section header block of ${total} bytes is shorter than 28`);
        break;
      case BLOCK.IDB: {
        if (total < IDB.MIN_LEN) return reject(L, `${where}: interface description block of ${total} bytes is shorter than 20`);
        const bad = linktypeProblem(rd16(b, off + IDB.LINKTYPE, le), `interface ${ifaces.length}:`);
        if (bad) return reject(L, `${where}: ${bad}`);
        const iface: Iface = { snaplen: rd32(b, off + IDB.SNAPLEN, le), base2: false, exp: 6, offsetSec: 0n };
        const optBad = readIdbOptions(b, off + IDB.OPTIONS, end, le, iface);
        if (optBad) return reject(L, `${where}: interface description: ${optBad}`);
        ifaces.push(iface);
        break;
      }
      case BLOCK.EPB: {
        if (total < EPB.MIN_LEN) return reject(L, `${where}: enhanced packet block of ${total} bytes is shorter than 32`);
        const ifId = rd32(b, off + EPB.IFACE, le);
        const iface = ifaces[ifId];
        if (!iface) return reject(L, `${where}: enhanced packet block names interface ${ifId}, but the section describes ${ifaces.length}`);
        const cap = rd32(b, off + EPB.CAP_LEN, le);
        const data = off + EPB.DATA;
        if (cap > end - data) return reject(L, `${where}: captured length ${cap} runs past the block`);
        const ts = (BigInt(rd32(b, off + EPB.TS_HIGH, le)) << 32n) | BigInt(rd32(b, off + EPB.TS_LOW, le));
        frames.push({ index: frames.length + 1, timeNs: toNs(ts, iface), bytes: b.subarray(data, data + cap) });
        break;
      }
      case BLOCK.SPB: {
        if (total < SPB.MIN_LEN) return reject(L, `${where}: simple packet block of ${total} bytes is shorter than 16`);
        const iface = ifaces[0];
        if (!iface) return reject(L, `${where}: simple packet block before any interface description`);
        const data = off + SPB.DATA;
        let cap = Math.min(rd32(b, off + SPB.ORIG_LEN, le), end - data);
        if (iface.snaplen > 0) cap = Math.min(cap, iface.snaplen);
        frames.push({ index: frames.length + 1, timeNs: null, bytes: b.subarray(data, data + cap) });
        break;
      }
      default:
        break; // name resolution, statistics, custom, decryption secrets, …: not frames
    }
    off += total;
  }
  return done(null);
}

// ----------------------------------------------------------------------------------------
// Hex text

function readHexText(b: Uint8Array): WireResult<Capture> {
  const L = 'capture';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return reject(L, 'not a pcap or pcapng capture (no known magic number), nor text');
  }
  // text, not binary: control characters other than tab, CR, LF, FF, VT
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(text)) return reject(L, 'not a pcap or pcapng capture (no known magic number), nor text');
  const frames: CaptureFrame[] = [];
  let good = 0;
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') return;
    const bytes = fromHex(line);
    const index = frames.length + 1;
    if (bytes === null || bytes.length === 0) {
      const shown = line.length > 40 ? `${line.slice(0, 40)}…` : line;
      frames.push({ index, timeNs: null, bytes: new Uint8Array(0), line: i + 1, error: `line ${i + 1}: not hex bytes: ${JSON.stringify(shown)}` });
    } else {
      good++;
      frames.push({ index, timeNs: null, bytes, line: i + 1 });
    }
  });
  if (frames.length > 0 && good === 0) {
    return reject(L, 'not a pcap or pcapng capture (no known magic number), and no line is hex bytes');
  }
  return ok({ format: 'hex', frames, warning: null });
}
