import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCapture, type Capture } from './capture-file.js';
import { fromHex, toHex } from './fields.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};

// Two frames: an 18-byte ECP ACK and a 20-byte one of an unknown EtherType.
const F1 = hex('0180c2000000 e6f1205ab0e6 8940 14010001');
const F2 = hex('ffffffffffff 020000000101 1234 0102030405 06');

// ---- byte builders: every field written out, in the file's byte order ----
const u16 = (v: number, le: boolean): number[] => (le ? [v & 0xff, (v >>> 8) & 0xff] : [(v >>> 8) & 0xff, v & 0xff]);
const u32 = (v: number, le: boolean): number[] => {
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return le ? b.reverse() : b;
};
const cat = (...parts: (number[] | Uint8Array)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const pad = (b: Uint8Array): Uint8Array => cat(b, new Array<number>((4 - (b.length % 4)) % 4).fill(0));

/** A classic pcap file: magic a1b2c3d4 (µs) or a1b23c4d (ns), written in the chosen byte order. */
function pcap(le: boolean, nano: boolean, records: { sec: number; frac: number; data: Uint8Array; orig?: number }[], linktype = 1): Uint8Array {
  const header = cat(
    u32(nano ? 0xa1b23c4d : 0xa1b2c3d4, le),
    u16(2, le), u16(4, le), // version 2.4
    u32(0, le), // thiszone
    u32(0, le), // sigfigs
    u32(65535, le), // snaplen
    u32(linktype, le),
  );
  return cat(header, ...records.map((r) => cat(u32(r.sec, le), u32(r.frac, le), u32(r.data.length, le), u32(r.orig ?? r.data.length, le), r.data)));
}

/** One pcapng block: type, total length, body padded to 4, total length. */
function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const b = pad(body);
  return cat(u32(type, le), u32(b.length + 12, le), b, u32(b.length + 12, le));
}
const shb = (le: boolean): Uint8Array =>
  block(0x0a0d0d0a, cat(u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), le);
const opt = (code: number, value: Uint8Array, le: boolean): Uint8Array => cat(u16(code, le), u16(value.length, le), pad(value));
const idb = (le: boolean, linktype = 1, snaplen = 0, options: Uint8Array = new Uint8Array(0)): Uint8Array =>
  block(1, cat(u16(linktype, le), u16(0, le), u32(snaplen, le), options, options.length ? opt(0, new Uint8Array(0), le) : []), le);
const epb = (le: boolean, iface: number, ts: bigint, data: Uint8Array): Uint8Array =>
  block(6, cat(u32(iface, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le), u32(data.length, le), u32(data.length, le), pad(data)), le);
const spb = (le: boolean, data: Uint8Array, orig = data.length): Uint8Array => block(3, cat(u32(orig, le), pad(data)), le);

function mustRead(b: Uint8Array): Capture {
  const r = readCapture(b);
  if (!r.ok) throw new Error(`${r.layer}: ${r.reason}`);
  return r.value;
}

function expectReject(b: Uint8Array, layer: string, reason: RegExp): void {
  const r = readCapture(b);
  expect(r.ok, reason.source).toBe(false);
  if (!r.ok) {
    expect(r.layer).toBe(layer);
    expect(r.reason).toMatch(reason);
  }
}

const summary = (c: Capture) => c.frames.map((f) => ({ index: f.index, timeNs: f.timeNs, hex: toHex(f.bytes) }));

describe('classic pcap', () => {
  const records = [{ sec: 1, frac: 500_000, data: F1 }, { sec: 2, frac: 1, data: F2 }];

  it('little-endian, microseconds (what tcpdump writes on x86)', () => {
    const b = pcap(true, false, records);
    expect(toHex(b.subarray(0, 4))).toBe('d4c3b2a1');
    const c = mustRead(b);
    expect(c.format).toBe('pcap');
    expect(c.warning).toBeNull();
    expect(summary(c)).toEqual([
      { index: 1, timeNs: 1_500_000_000, hex: toHex(F1) },
      { index: 2, timeNs: 2_000_001_000, hex: toHex(F2) },
    ]);
  });

  it('big-endian, microseconds', () => {
    const b = pcap(false, false, records);
    expect(toHex(b.subarray(0, 4))).toBe('a1b2c3d4');
    expect(summary(mustRead(b))).toEqual([
      { index: 1, timeNs: 1_500_000_000, hex: toHex(F1) },
      { index: 2, timeNs: 2_000_001_000, hex: toHex(F2) },
    ]);
  });

  it('nanosecond magic, both byte orders', () => {
    for (const le of [true, false]) {
      const b = pcap(le, true, [{ sec: 3, frac: 7, data: F1 }, { sec: 3, frac: 999_999_999, data: F2 }]);
      expect(toHex(b.subarray(0, 4))).toBe(le ? '4d3cb2a1' : 'a1b23c4d');
      expect(mustRead(b).frames.map((f) => f.timeNs)).toEqual([3_000_000_007, 3_999_999_999]);
    }
  });

  it('a present-day timestamp is the nearest double to the exact ns', () => {
    const c = mustRead(pcap(true, false, [{ sec: 1_700_000_000, frac: 123_456, data: F1 }]));
    expect(c.frames[0]!.timeNs).toBe(Number(1_700_000_000_123_456_000n));
  });

  it('a header-only capture has no frames', () => {
    expect(mustRead(pcap(true, false, []))).toEqual({ format: 'pcap', frames: [], warning: null });
  });

  it('refuses a link type other than Ethernet, naming it', () => {
    expectReject(pcap(true, false, records, 113), 'pcap', /link type 113 \(Linux cooked \(SLL\)\) is not Ethernet \(1\)/);
    expectReject(pcap(false, true, records, 101), 'pcap', /link type 101 \(raw IP\)/);
    // FCS information in the upper bits does not change the link type
    expect(mustRead(pcap(true, false, records, 0x10000001)).frames).toHaveLength(2);
  });

  it('refuses a truncated header and a version other than 2', () => {
    expectReject(pcap(true, false, records).subarray(0, 20), 'pcap', /file of 20 bytes is shorter than the 24-byte pcap header/);
    const v3 = pcap(true, false, records);
    v3[4] = 3;
    expectReject(v3, 'pcap', /pcap version 3\.4 is not 2\.x/);
  });

  it('a last record cut short: the frames before it, and a warning', () => {
    const full = pcap(true, false, records);
    const inData = mustRead(full.subarray(0, full.length - 3));
    expect(summary(inData)).toEqual([{ index: 1, timeNs: 1_500_000_000, hex: toHex(F1) }]);
    expect(inData.warning).toMatch(/record 2 at offset 58: the file ends inside its 20 bytes of frame \(17 left\)/);
    const inHeader = mustRead(full.subarray(0, 24 + 16 + F1.length + 10));
    expect(inHeader.frames).toHaveLength(1);
    expect(inHeader.warning).toMatch(/record 2 .*ends inside its 16-byte header \(10 bytes left\)/);
  });

  it('refuses an implausible record length as corruption', () => {
    const b = pcap(true, false, records);
    b.set(u32(0x7fffffff, true), 24 + 8);
    expectReject(b, 'pcap', /record 1 at offset 24: captured length 2147483647 exceeds 262144/);
  });
});

describe('pcapng', () => {
  /** SHB, IDB (Ethernet, default µs), EPB, an unknown block, EPB, SPB. */
  function sample(le: boolean): Uint8Array {
    return cat(
      shb(le),
      idb(le),
      epb(le, 0, 1_500_000n, F1),
      block(0x0bad, hex('0102030405'), le), // unknown block type: skipped
      epb(le, 0, 0x1_0000_0000n, F2), // uses the high word: 2^32 µs
      spb(le, F1),
    );
  }

  it('little-endian: two EPBs with µs timestamps (the if_tsresol default), one SPB, an unknown block skipped', () => {
    const c = mustRead(sample(true));
    expect(c.format).toBe('pcapng');
    expect(c.warning).toBeNull();
    expect(summary(c)).toEqual([
      { index: 1, timeNs: 1_500_000_000, hex: toHex(F1) },
      { index: 2, timeNs: 4_294_967_296_000, hex: toHex(F2) },
      { index: 3, timeNs: null, hex: toHex(F1) },
    ]);
  });

  it('big-endian section: the same frames', () => {
    const le = mustRead(sample(true));
    const be = mustRead(sample(false));
    expect(toHex(sample(false).subarray(8, 12))).toBe('1a2b3c4d');
    expect(summary(be)).toEqual(summary(le));
  });

  it('if_tsresol (decimal and binary) and if_tsoffset per interface', () => {
    const le = true;
    const b = cat(
      shb(le),
      idb(le, 1, 0, opt(9, Uint8Array.of(9), le)), // ns
      idb(le, 1, 0, cat(opt(9, Uint8Array.of(0x80 | 10), le), opt(14, cat(u32(100, le), u32(0, le)), le))), // 2^-10 s, +100 s
      idb(le, 1, 0, opt(9, Uint8Array.of(3), le)), // ms
      epb(le, 0, 1_234_567_891n, F1),
      epb(le, 1, 1536n, F1), // 1.5 s + 100 s
      epb(le, 2, 42n, F1),
    );
    expect(mustRead(b).frames.map((f) => f.timeNs)).toEqual([1_234_567_891, 101_500_000_000, 42_000_000]);
  });

  it('an SPB is cut to the interface snaplen', () => {
    const b = cat(shb(true), idb(true, 1, 14), spb(true, F1));
    expect(toHex(mustRead(b).frames[0]!.bytes)).toBe(toHex(F1.subarray(0, 14)));
  });

  it('a second section may change the byte order and starts a new interface list', () => {
    const b = cat(sample(true), shb(false), idb(false), epb(false, 0, 2_000_000n, F2));
    const c = mustRead(b);
    expect(c.frames.map((f) => f.index)).toEqual([1, 2, 3, 4]);
    expect(c.frames[3]!.timeNs).toBe(2_000_000_000);
    expectReject(cat(sample(true), shb(false), epb(false, 0, 0n, F2)), 'pcapng', /names interface 0, but the section describes 0/);
  });

  it('refuses an interface whose link type is not Ethernet', () => {
    expectReject(cat(shb(true), idb(true, 113), epb(true, 0, 0n, F1)), 'pcapng', /block 2 at offset 28: interface 0: link type 113 \(Linux cooked \(SLL\)\) is not Ethernet/);
  });

  it('refuses a bad byte-order magic, a bad version, a bad or mismatched block length, an EPB past its block', () => {
    const bom = sample(true);
    bom.set([1, 2, 3, 4], 8);
    expectReject(bom, 'pcapng', /byte-order magic 0x4030201/);
    const ver = sample(true);
    ver[12] = 2;
    expectReject(ver, 'pcapng', /pcapng version 2\.0 is not 1\.x/);
    const odd = sample(true);
    odd.set(u32(30, true), 28 + 4); // the IDB's length
    expectReject(odd, 'pcapng', /block 2 at offset 28: block total length 30 is not a multiple of 4/);
    const trailer = sample(true);
    trailer.set(u32(24, true), 28 + 20 - 4); // the IDB's trailing copy
    expectReject(trailer, 'pcapng', /trailing block length 24 does not match the leading 20/);
    const cap = cat(shb(true), idb(true), epb(true, 0, 0n, F1));
    cap.set(u32(200, true), 48 + 20); // EPB captured length
    expectReject(cap, 'pcapng', /captured length 200 runs past the block/);
    expectReject(cat(shb(true), spb(true, F1)), 'pcapng', /simple packet block before any interface description/);
  });

  it('truncation: a short section header is refused; a last block cut short keeps the frames before it, with a warning', () => {
    const full = sample(true);
    expectReject(full.subarray(0, 20), 'pcapng', /file of 20 bytes is shorter than the 28-byte section header block/);
    const cut = mustRead(full.subarray(0, full.length - 5));
    expect(cut.frames).toHaveLength(2);
    expect(cut.warning).toMatch(/the file ends inside this 36-byte block of type 3/);
    const cutHeader = mustRead(full.subarray(0, full.length - spb(true, F1).length + 6));
    expect(cutHeader.frames).toHaveLength(2);
    expect(cutHeader.warning).toMatch(/ends inside the block header \(6 bytes left\)/);
  });
});

describe('hex text', () => {
  const text = (s: string) => new TextEncoder().encode(s);

  it('one frame per non-empty line; spaces, colons and comments allowed; no timestamps', () => {
    const c = mustRead(text(`# two frames\n\n${toHex(F1)}\r\n  ${Array.from(F2, (x) => x.toString(16).padStart(2, '0')).join(':')}  # the second\n# end\n`));
    expect(c.format).toBe('hex');
    expect(c.frames.map((f) => ({ index: f.index, line: f.line, timeNs: f.timeNs, hex: toHex(f.bytes), error: f.error }))).toEqual([
      { index: 1, line: 3, timeNs: null, hex: toHex(F1), error: undefined },
      { index: 2, line: 4, timeNs: null, hex: toHex(F2), error: undefined },
    ]);
  });

  it('a line that is not hex is a frame with an error; the others still read', () => {
    const c = mustRead(text(`${toHex(F1)}\nnot hex at all\n${toHex(F2)}\nabc\n`));
    expect(c.frames.map((f) => f.error ?? null)).toEqual([null, 'line 2: not hex bytes: "not hex at all"', null, 'line 4: not hex bytes: "abc"']);
    expect(c.frames[1]!.bytes.length).toBe(0);
  });

  it('only comments or nothing at all: no frames', () => {
    expect(mustRead(text('# nothing\n\n'))).toEqual({ format: 'hex', frames: [], warning: null });
    expect(mustRead(new Uint8Array(0)).frames).toEqual([]);
  });

  it('refuses binary and text with no hex line (an unrecognized capture)', () => {
    expectReject(Uint8Array.of(0x00, 0x01, 0xff, 0xfe, 0x80), 'capture', /not a pcap or pcapng capture/);
    expectReject(text('name: quickstart\nhosts: [h1, h2]\n'), 'capture', /no line is hex bytes/);
    expectReject(text('0102\u0000\n'), 'capture', /nor text/);
  });
});

describe('robustness', () => {
  const check = (b: Uint8Array) => {
    const r = readCapture(b);
    if (r.ok) {
      for (const f of r.value.frames) {
        // pcap/pcapng frames are views inside the capture
        if (r.value.format !== 'hex') expect(f.bytes.byteOffset + f.bytes.length).toBeLessThanOrEqual(b.byteOffset + b.length);
        expect(f.timeNs === null || Number.isFinite(f.timeNs)).toBe(true);
      }
    } else {
      expect(r.reason.length).toBeGreaterThan(0);
    }
  };

  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 3000 });
  });

  it('random bytes behind each magic, mutated and truncated real captures, never throw', () => {
    const magics = [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x0a, 0x0d, 0x0d, 0x0a]];
    const seeds = [
      pcap(true, false, [{ sec: 1, frac: 2, data: F1 }, { sec: 3, frac: 4, data: F2 }]),
      pcap(false, true, [{ sec: 1, frac: 2, data: F1 }]),
      cat(shb(true), idb(true, 1, 0, opt(9, Uint8Array.of(0x89), true)), epb(true, 0, 5n, F1), spb(true, F2)),
      cat(shb(false), idb(false), epb(false, 0, 5n, F1)),
    ];
    fc.assert(fc.property(
      fc.oneof(
        fc.tuple(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 200 })).map(([m, rest]) => cat(m, rest)),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
          const b = s.slice();
          for (const [i, v] of edits) b[i % b.length] = v;
          return b;
        }),
        fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
      ),
      check,
    ), { numRuns: 3000 });
  });
});
