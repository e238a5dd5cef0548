import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_HEADER_BYTES, ZERO_PAGE_BYTES, pageWireBytes } from '../model/page-cost.js';
import { DEFAULT_LIMITS, emitChecksums, emitDeviceState, emitDone, emitError, emitHello, emitPages, emitRecord, emitResumed, emitRoundEnd, emitVerdict, parseRecord, REC, RecordView, type Direction, type StreamRecord } from './page-stream.js';
import { StreamDecoder } from './page-stream-decoder.js';

const PS = 64; // a small page keeps every-truncation-point tests short
const PAGES = 16;
const HELLO = { vm: 'vm1', pageSize: PS, pageCount: PAGES, deviceStateBytes: 10 };

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

/**
 * Records as plain data (views copied), so they can be compared after the callback. A PAGES
 * batch's `pageData` spans (cut wherever the chunks were cut) are gathered into the batch's
 * record as whole pages; a batch whose pages did not all arrive is left out.
 */
function decodeAll(chunks: Uint8Array[], direction: Direction = 'forward'): { records: unknown[]; error: string | null; end: string | null } {
  const d = new StreamDecoder(direction);
  const records: unknown[] = [];
  let batch: { type: 'pages'; pages: number[]; data: number[] } | null = null;
  let due = 0;
  let error: string | null = null;
  for (const c of chunks) {
    error = d.push(c, (r) => {
      if (r.type === 'pages') {
        batch = { type: 'pages', pages: Array.from(r.pages), data: [] };
        due = r.pages.length * (d.header?.pageSize ?? 0);
      } else if (r.type === 'pageData') {
        const b = batch!;
        // the span is where the batch's bytes are due: the page of the batch at that point, joined pages consecutive
        const at = b.data.length;
        const k = Math.floor(at / PS);
        expect([r.page, r.offset]).toEqual([b.pages[k], at - k * PS]);
        b.data.push(...r.data);
        if (b.data.length === due) {
          records.push(b);
          batch = null;
        }
      } else records.push(plain(r));
    });
    if (error) break;
  }
  return { records, error, end: error ? null : d.end() };
}

function plain(r: StreamRecord): unknown {
  if (r.type === 'page' || r.type === 'deviceState') return { ...r, data: Array.from(r.data) };
  if (r.type === 'checksums') return { ...r, crcs: Array.from(r.crcs) };
  return { ...r };
}

const page = (seed: number): Uint8Array => Uint8Array.from({ length: PS }, (_, i) => (seed * 31 + i * 7) & 0xff);

/** A whole forward stream: hello, two live rounds, the paused pages, device state, checksums, done. */
function sampleStream(): { bytes: Uint8Array; records: Uint8Array[] } {
  const records = [
    emitHello(HELLO),
    emitRecord({ type: 'page', page: 0, data: page(0) }),
    emitRecord({ type: 'zero', page: 1 }),
    emitRecord({ type: 'page', page: 15, data: page(15) }),
    emitPages([4, 5, 6, 9], [page(4), page(5), page(6), page(9)]),
    emitRoundEnd(0, 7, 6 * pageWireBytes(PS) + ZERO_PAGE_BYTES),
    emitRecord({ type: 'page', page: 3, data: page(3) }),
    emitRoundEnd(1, 1, pageWireBytes(PS)),
    emitRecord({ type: 'page', page: 3, data: page(33) }),
    emitRecord({ type: 'zero', page: 0 }),
    emitDeviceState(Uint8Array.from({ length: 10 }, (_, i) => i)),
    emitChecksums(Uint32Array.from({ length: PAGES }, (_, i) => (i * 0x9e3779b1) >>> 0)),
    emitDone(),
  ];
  return { bytes: concat(records), records };
}

describe('stream codec: layout', () => {
  it('a PAGE is the 8-byte header (page << 12 | 0x008) and the page: pageWireBytes of model/page-cost.ts', () => {
    const r = emitRecord({ type: 'page', page: 0x12345, data: page(1) });
    expect(r.length).toBe(pageWireBytes(PS));
    expect(Array.from(r.subarray(0, PAGE_HEADER_BYTES))).toEqual([0, 0, 0, 0, 0x12, 0x34, 0x50, 0x08]);
    const v = new RecordView(r);
    expect([v.type, v.operand]).toEqual([REC.PAGE, 0x12345]);
  });

  it('a ZERO is header + one fill byte: ZERO_PAGE_BYTES', () => {
    const r = emitRecord({ type: 'zero', page: 7 });
    expect(r.length).toBe(ZERO_PAGE_BYTES);
    expect(Array.from(r)).toEqual([0, 0, 0, 0, 0, 0, 0x70, 0x02, 0]);
  });

  it('a PAGES batch is the header (count << 12 | 0x001), a be64 index per page, then the pages: 8 bytes a batch over pageWireBytes a page', () => {
    const r = emitPages([2, 0x123456789], [page(1), page(2)]);
    expect(r.length).toBe(8 + 2 * pageWireBytes(PS));
    expect(Array.from(r.subarray(0, 24))).toEqual([
      0, 0, 0, 0, 0, 0, 0x20, 0x01, // header: 2 pages, PAGES
      0, 0, 0, 0, 0, 0, 0, 2,
      0, 0, 0, 0x01, 0x23, 0x45, 0x67, 0x89,
    ]);
    expect(Array.from(r.subarray(24, 24 + PS))).toEqual(Array.from(page(1)));
    expect(Array.from(r.subarray(24 + PS))).toEqual(Array.from(page(2)));
  });

  it('page indexes above 2^32 survive the 52-bit operand', () => {
    const big = 2 ** 40 + 5;
    const v = new RecordView(emitRecord({ type: 'zero', page: big }));
    expect(v.operand).toBe(big);
  });

  it('HELLO, ROUND_END, DONE byte for byte', () => {
    expect(Array.from(emitDone())).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80]);
    expect(Array.from(emitRoundEnd(2, 3, 2 ** 33 + 1))).toEqual([0, 0, 0, 0, 0, 1, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1]);
    const h = emitHello({ vm: 'ab', pageSize: 4096, pageCount: 65536, deviceStateBytes: 262144 });
    expect(Array.from(h)).toEqual([
      0, 0, 0, 0, 0, 0x01, 0xa0, 0x04, // header: 26-byte payload, HELLO
      0x4d, 0x47, 0x53, 0x31, 0, 1, 0, 2, // magic, version 1, name length 2
      0, 0, 0x10, 0, 0, 1, 0, 0, // page size 4096, 65536 pages
      0, 0, 0, 0, 0, 4, 0, 0, // device state 262144
      0x61, 0x62,
    ]);
  });
});

const helloArb = fc.record({
  vm: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
  pageSize: fc.constantFrom(64, 512, 4096),
  pageCount: fc.integer({ min: 1, max: 1 << 20 }),
  deviceStateBytes: fc.integer({ min: 0, max: 4096 }),
});

describe('stream codec: round trip', () => {
  it('every forward record emits and parses back to itself', () => {
    fc.assert(
      fc.property(helloArb, fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 52 }), (h, round, bytes) => {
        const d = new StreamDecoder('forward', { maxMemoryBytes: 2 ** 40, maxDeviceStateBytes: 2 ** 20 });
        const got: unknown[] = [];
        const pageIdx = h.pageCount - 1;
        const data = Uint8Array.from({ length: h.pageSize }, (_, i) => i & 0xff);
        const input: StreamRecord[] = [
          { type: 'hello', version: 1, ...h },
          { type: 'page', page: pageIdx, data },
          { type: 'zero', page: 0 },
          { type: 'roundEnd', round, pagesSent: Math.min(h.pageCount, round), bytesSent: bytes },
          { type: 'deviceState', data: new Uint8Array(h.deviceStateBytes).fill(9) },
        ];
        for (const r of input) expect(d.push(emitRecord(r), (x) => void got.push(plain(x)))).toBeNull();
        expect(got).toEqual(input.map(plain));
      }),
      { numRuns: 60 },
    );
  });

  it('checksums and done round-trip', () => {
    const crcs = Uint32Array.from({ length: PAGES }, (_, i) => (0xffffffff - i * 12345) >>> 0);
    const { records, error, end } = decodeAll([emitHello(HELLO), emitChecksums(crcs), emitDone()]);
    expect(error).toBeNull();
    expect(end).toBeNull();
    expect(records.slice(1)).toEqual([{ type: 'checksums', crcs: Array.from(crcs) }, { type: 'done' }]);
  });

  it('every reply round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.integer({ min: 1, max: 2 ** 32 - 2 }),
        fc.integer({ min: 0, max: 2 ** 32 - 2 }),
        fc.string({ maxLength: 300 }),
        (t, checked, firstRaw, reason) => {
          const mismatches = Math.min(checked, 1 + (firstRaw % 1000));
          const input: StreamRecord[] = [
            { type: 'resumed', tNs: t },
            { type: 'verdict', verified: true, mismatches: 0, firstPage: null, pagesChecked: checked },
            { type: 'verdict', verified: false, mismatches, firstPage: firstRaw, pagesChecked: checked },
            { type: 'error', reason },
          ];
          const { records, error, end } = decodeAll(input.map(emitRecord), 'reply');
          expect(error).toBeNull();
          expect(end).toBeNull();
          expect(records).toEqual(input);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an over-long ERROR reason is cut to 1024 bytes on a character boundary', () => {
    const { records } = decodeAll([emitError('é'.repeat(1000))], 'reply');
    const r = records[0] as { reason: string };
    expect(r.reason).toBe('é'.repeat(512));
  });
});

describe('stream codec: incremental decoding', () => {
  const { bytes, records } = sampleStream();
  const whole = decodeAll([bytes]);

  it('the sample stream decodes whole', () => {
    expect(whole.error).toBeNull();
    expect(whole.end).toBeNull();
    expect(whole.records.length).toBe(records.length);
  });

  it('split into two chunks at every point: the same records', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(r.error).toBeNull();
      expect(r.records).toEqual(whole.records);
    }
  });

  it('any chunking: the same records', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const chunks: Uint8Array[] = [];
        let off = 0;
        for (let i = 0; off < bytes.length; i++) {
          const n = sizes[i % sizes.length]!;
          chunks.push(bytes.subarray(off, off + n));
          off += n;
        }
        const r = decodeAll(chunks);
        expect(r.error).toBeNull();
        expect(r.records).toEqual(whole.records);
      }),
      { numRuns: 200 },
    );
  });

  it('truncated at every point: the complete records come out, and the end says whether a record was cut', () => {
    const boundaries = new Set<number>([0]);
    let off = 0;
    for (const r of records) boundaries.add((off += r.length));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = decodeAll([bytes.subarray(0, cut)]);
      expect(r.error).toBeNull();
      const complete = [...boundaries].filter((b) => b <= cut).length - 1;
      expect(r.records).toEqual(whole.records.slice(0, complete));
      if (boundaries.has(cut)) expect(r.end).toBeNull();
      else expect(r.end).toMatch(/ended inside a (record|PAGES batch)/);
    }
  });
});

describe('stream codec: bad input', () => {
  const reject = (parts: Uint8Array[], direction: Direction = 'forward'): string => {
    const r = decodeAll(parts, direction);
    expect(r.error).not.toBeNull();
    return r.error!;
  };
  const hello = emitHello(HELLO);

  it('says why', () => {
    expect(reject([emitRecord({ type: 'zero', page: 0 })])).toMatch(/ZERO before HELLO/);
    expect(reject([hello, hello])).toMatch(/second HELLO/);
    expect(reject([hello, emitRecord({ type: 'page', page: PAGES, data: page(0) })])).toMatch(/PAGE 16 is beyond the VM's 16 pages/);
    const badZero = emitRecord({ type: 'zero', page: 1 });
    badZero[8] = 1;
    expect(reject([hello, badZero])).toMatch(/fill byte 1/);
    expect(reject([hello, emitDeviceState(new Uint8Array(11))])).toMatch(/DEVICE_STATE of 11 bytes, HELLO announced 10/);
    expect(reject([hello, emitChecksums(new Uint32Array(PAGES - 1))])).toMatch(/CHECKSUMS of 60 bytes/);
    expect(reject([hello, emitDone(), emitDone()])).toMatch(/after DONE/);
    expect(reject([hello, emitResumed(1)])).toMatch(/not a forward record/);
    expect(reject([emitDone()], 'reply')).toMatch(/not a reply/);
    const badMagic = emitHello(HELLO);
    badMagic[8] = 0;
    expect(reject([badMagic])).toMatch(/magic/);
    expect(reject([emitHello({ ...HELLO, version: 2 })])).toMatch(/version 2/);
    expect(reject([emitHello({ ...HELLO, pageSize: 3000 })])).toMatch(/page size 3000/);
    expect(reject([emitHello({ ...HELLO, pageSize: 4096, pageCount: 2 ** 32 - 1 })])).toMatch(/more than this host accepts/);
    const unknown = emitDone();
    unknown[6] = 0x08;
    unknown[7] = 0x01;
    expect(reject([hello, unknown])).toMatch(/record type 0x801/);
    const lying = emitVerdict({ mismatches: 0, firstPage: null, pagesChecked: 4 });
    lying[8] = 0;
    expect(reject([lying], 'reply')).toMatch(/verified=0 with 0 mismatching/);
  });

  it('PAGES batches: empty, too large, an index beyond the VM, cut inside its pages, rejected by the handler', () => {
    const batch = emitPages([1, 2], [page(1), page(2)]);
    const count = (n: number): Uint8Array => {
      // operand n << 12 | type 0x001
      const b = batch.slice(0, 8);
      b[5] = (n >> 4) & 0xff;
      b[6] = (n & 0xf) << 4;
      b[7] = 0x01;
      return b;
    };
    expect(reject([hello, count(0)])).toMatch(/PAGES batch of 0 pages \(1\.\.1024\)/);
    expect(reject([hello, count(1025)])).toMatch(/PAGES batch of 1025 pages/);
    expect(reject([hello, emitPages([3, PAGES], [page(0), page(0)])])).toMatch(/PAGES entry 1: page 16 is beyond the VM's 16 pages/);
    const high = batch.slice();
    high[11] = 1; // index 2^32 + 1
    expect(reject([hello, high])).toMatch(/PAGES entry 0: page 4294967297 is beyond/);
    expect(decodeAll([hello, batch.subarray(0, batch.length - 1)]).end).toMatch(/ended inside a PAGES batch \(127 of its 128 page bytes\)/);
    const d = new StreamDecoder('forward');
    expect(d.push(concat([hello, batch]), (r) => (r.type === 'pageData' ? 'no room' : undefined))).toBe('no room');
  });

  it('pages received in place: directSpan says where the next bytes go (consecutive pages joined), pushDirect accounts for them', () => {
    const d = new StreamDecoder('forward');
    expect(d.directSpan()).toBeNull();
    const batch = emitPages([3, 4, 5, 9], [page(3), page(4), page(5), page(9)]);
    const header = 8 + 4 * 8;
    const seen: string[] = [];
    expect(d.push(concat([hello, batch.subarray(0, header)]), (r) => void seen.push(r.type))).toBeNull();
    expect(seen).toEqual(['hello', 'pages']);
    expect(d.directSpan()).toEqual({ page: 3, offset: 0, bytes: 3 * PS });
    expect(d.directSpan(100)).toEqual({ page: 3, offset: 0, bytes: 100 });
    expect(d.pushDirect(100)).toBeNull();
    expect(d.directSpan()).toEqual({ page: 4, offset: 36, bytes: 2 * PS - 36 });
    expect(d.pushDirect(2 * PS - 36)).toBeNull();
    expect(d.directSpan()).toEqual({ page: 9, offset: 0, bytes: PS });
    expect(d.midRecord).toBe(true);
    // the rest may come either way: part in a chunk, part in place
    expect(d.push(batch.subarray(header + 3 * PS, header + 3 * PS + 10), () => undefined)).toBeNull();
    expect(d.directSpan()).toEqual({ page: 9, offset: 10, bytes: PS - 10 });
    expect(d.pushDirect(PS - 9)).toMatch(/55 bytes received in place, but only 54 belong there/);
    const e = new StreamDecoder('forward');
    e.push(hello, () => undefined);
    expect(e.pushDirect(1)).toMatch(/no PAGES batch due/);
    const f = new StreamDecoder('forward');
    f.push(concat([hello, batch.subarray(0, header)]), () => undefined);
    expect(f.pushDirect(4 * PS)).toMatch(/256 bytes received in place, but only 192 belong there/);
    const g = new StreamDecoder('forward');
    g.push(concat([hello, batch.subarray(0, header)]), () => undefined);
    expect(g.pushDirect(3 * PS)).toBeNull();
    expect(g.pushDirect(PS)).toBeNull();
    expect(g.midRecord).toBe(false);
    expect(g.bytesIn).toBe(hello.length + batch.length);
  });

  it('a rejected decoder stays rejected', () => {
    const d = new StreamDecoder('forward');
    const first = d.push(emitDone(), () => undefined);
    expect(first).toMatch(/before HELLO/);
    expect(d.push(hello, () => undefined)).toBe(first);
    expect(d.end()).toBe(first);
  });

  it('a handler may reject a well-formed record', () => {
    const d = new StreamDecoder('forward');
    expect(d.push(concat([hello, emitDone()]), (r) => (r.type === 'done' ? 'DONE before CHECKSUMS' : undefined))).toBe('DONE before CHECKSUMS');
  });

  it('random bytes never throw, either direction', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), fc.integer({ min: 1, max: 64 }), (b, fwd, step) => {
        const d = new StreamDecoder(fwd ? 'forward' : 'reply', DEFAULT_LIMITS);
        for (let off = 0; off < b.length; off += step) d.push(b.subarray(off, off + step), () => undefined);
        d.end();
        parseRecord(b, { direction: fwd ? 'forward' : 'reply', hello: HELLO_REC, limits: DEFAULT_LIMITS });
      }),
      { numRuns: 500 },
    );
  });

  it('a valid stream with mutated bytes never throws', () => {
    const { bytes } = sampleStream();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 300 }),
        (muts, step) => {
          const b = bytes.slice();
          for (const [at, v] of muts) b[at] = v;
          const d = new StreamDecoder('forward');
          for (let off = 0; off < b.length; off += step) {
            d.push(b.subarray(off, off + step), (r) => {
              // views handed out stay inside their record, and pages inside the VM the HELLO
              // announced (a mutated HELLO may announce another geometry: that one binds)
              const h = d.header!;
              if (r.type === 'page') expect(r.data.length).toBe(h.pageSize);
              if (r.type === 'pageData') expect(r.page * h.pageSize + r.offset + r.data.length).toBeLessThanOrEqual(h.pageCount * h.pageSize);
            });
          }
          d.end();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('header words that claim huge lengths are rejected before any buffering', () => {
    const h = new Uint8Array(8).fill(0xff);
    h[7] = REC.CHECKSUMS & 0xff;
    h[6] = (h[6]! & 0xf0) | (REC.CHECKSUMS >> 8);
    expect(reject([hello, h])).toMatch(/CHECKSUMS of \d+ bytes/);
    const err = new Uint8Array(8).fill(0xff);
    err[6] = 0xf4;
    err[7] = 0x00;
    expect(reject([err], 'reply')).toMatch(/ERROR reason of \d+ bytes is longer than 1024/);
  });
});

const HELLO_REC = { version: 1, ...HELLO };
