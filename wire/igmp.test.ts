import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, internetChecksum, put16 } from './fields.js';
import { EmitError } from './result.js';
import { decodeCode, emitIgmp, encodeCode, IGMP_RECORD, parseIgmp, type IgmpGroupRecord, type IgmpRepr } from './igmp.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};

/** Recompute the checksum over the whole message (for hand-built inconsistent messages). */
function fixChecksum(b: Uint8Array): Uint8Array {
  if (b.length < 4) return b;
  put16(b, 2, 0);
  put16(b, 2, internetChecksum(b, 0, b.length));
  return b;
}

// Checksums worked by hand (sum of 16-bit words, end-around carry, complement):
//   v2 query   1164                       → ee9b
//   v1 query   1100                       → eeff
//   v2 report  1600+ef01+0101 = 10602→0603 → f9fc
//   v1 report  1200+ef01+0101 = 10202→0203 → fdfc
//   leave      1700+ef01+0101 = 10702→0703 → f8fc
//   v3 GQ      1164+0000+0000+027d = 13e1  → ec1e
//   v3 GSSQ    110a+ef01+0101+0a7d+0002+0a00+0001+0a00+0002 → e070
//   v3 report  2200+0001+0400+ef01+0101 = 11602→1604 → e9fb
const V2_QUERY = hex('11 64 ee 9b 00 00 00 00');
const V1_QUERY = hex('11 00 ee ff 00 00 00 00');
const V2_REPORT = hex('16 00 f9 fc ef 01 01 01');
const V1_REPORT = hex('12 00 fd fc ef 01 01 01');
const LEAVE = hex('17 00 f8 fc ef 01 01 01');
const V3_GQ = hex('11 64 ec 1e 00000000 02 7d 0000');
const V3_GSSQ = hex('11 0a e0 70 ef010101 0a 7d 0002 0a000001 0a000002');
const V3_REPORT = hex('22 00 e9 fb 0000 0001 04 00 0000 ef010101');
const VECTORS = [V2_QUERY, V1_QUERY, V2_REPORT, V1_REPORT, LEAVE, V3_GQ, V3_GSSQ, V3_REPORT];

function parsed(b: Uint8Array): IgmpRepr {
  const r = parseIgmp(b);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

describe('igmp vectors', () => {
  it('v2 general query, max resp 10 s', () => {
    expect(internetChecksum(V2_QUERY, 0, 8)).toBe(0);
    expect(parsed(V2_QUERY)).toEqual({ kind: 'query', version: 2, group: '0.0.0.0', maxRespDs: 100, suppress: false, qrv: 0, qqicSeconds: 0, sources: [] });
  });

  it('v1 query (code 0): the fixed 10 s', () => {
    expect(parsed(V1_QUERY)).toMatchObject({ kind: 'query', version: 1, group: '0.0.0.0', maxRespDs: 100 });
  });

  it('v1/v2 reports and leave for 239.1.1.1', () => {
    expect(parsed(V2_REPORT)).toEqual({ kind: 'report', version: 2, group: '239.1.1.1' });
    expect(parsed(V1_REPORT)).toEqual({ kind: 'report', version: 1, group: '239.1.1.1' });
    expect(parsed(LEAVE)).toEqual({ kind: 'leave', group: '239.1.1.1' });
  });

  it('v3 general query with QRV 2 and QQIC 125', () => {
    expect(parsed(V3_GQ)).toEqual({ kind: 'query', version: 3, group: '0.0.0.0', maxRespDs: 100, suppress: false, qrv: 2, qqicSeconds: 125, sources: [] });
  });

  it('v3 group-and-source query with S set', () => {
    expect(parsed(V3_GSSQ)).toEqual({
      kind: 'query',
      version: 3,
      group: '239.1.1.1',
      maxRespDs: 10,
      suppress: true,
      qrv: 2,
      qqicSeconds: 125,
      sources: ['10.0.0.1', '10.0.0.2'],
    });
  });

  it('v3 report: one TO_EX record for 239.1.1.1, no sources (a Linux join)', () => {
    const r = parsed(V3_REPORT);
    expect(r.kind).toBe('v3report');
    if (r.kind !== 'v3report') return;
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [] });
    expect(r.records[0]!.auxData.length).toBe(0);
  });

  it('v3 report with several records, sources, aux data and an unknown record type', () => {
    const b = fixChecksum(
      hex('22 00 0000 0000 0003' + '05 00 0001 ef000001 0a000001' + '06 01 0002 ef000002 0a000002 0a000003 deadbeef' + '07 00 0000 ef000003'),
    );
    const r = parsed(b);
    expect(r).toEqual({
      kind: 'v3report',
      records: [
        { type: IGMP_RECORD.ALLOW, group: '239.0.0.1', sources: ['10.0.0.1'], auxData: new Uint8Array(0) },
        { type: IGMP_RECORD.BLOCK, group: '239.0.0.2', sources: ['10.0.0.2', '10.0.0.3'], auxData: hex('deadbeef') },
        { type: 7, group: '239.0.0.3', sources: [], auxData: new Uint8Array(0) },
      ],
    });
    expect(emitIgmp(r)).toEqual(b);
  });

  it('parse → emit reproduces every vector byte for byte', () => {
    for (const v of VECTORS) expect(emitIgmp(parsed(v))).toEqual(v);
  });

  it('v3 query: octets after the sources count in the checksum and are otherwise ignored', () => {
    const b = fixChecksum(hex('11 64 0000 00000000 02 7d 0000 0102 0304'));
    expect(parsed(b)).toEqual(parsed(V3_GQ));
  });
});

describe('Max Resp Code / QQIC floating point', () => {
  it('decodes literal and exponential codes', () => {
    expect(decodeCode(0)).toBe(0);
    expect(decodeCode(100)).toBe(100);
    expect(decodeCode(127)).toBe(127);
    expect(decodeCode(0x80)).toBe(128); // (0|16) << 3
    expect(decodeCode(0x8f)).toBe(248); // (15|16) << 3
    expect(decodeCode(0x90)).toBe(256); // (0|16) << 4
    expect(decodeCode(0xa5)).toBe(672); // (5|16) << 5
    expect(decodeCode(0xf0)).toBe(16384); // (0|16) << 10
    expect(decodeCode(0xff)).toBe(31744); // (15|16) << 10
  });

  it('encodes exactly representable values to their code, for all 256 codes', () => {
    for (let c = 0; c < 256; c++) expect(encodeCode(decodeCode(c)), `code ${c}`).toBe(c);
    expect(encodeCode(128)).toBe(0x80);
    expect(encodeCode(248)).toBe(0x8f);
    expect(encodeCode(31744)).toBe(0xff);
  });

  it('rounds down: the largest representable value not above the request', () => {
    expect(encodeCode(129)).toBe(0x80);
    expect(encodeCode(255)).toBe(0x8f);
    expect(encodeCode(257)).toBe(0x90);
    expect(encodeCode(127.9)).toBe(127);
    expect(encodeCode(40000)).toBe(0xff);
    expect(() => encodeCode(-1)).toThrow(RangeError);
    expect(() => encodeCode(Number.NaN)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31744 }), (v) => {
        const c = encodeCode(v);
        expect(decodeCode(c)).toBeLessThanOrEqual(v);
        if (c < 0xff) expect(decodeCode(c + 1)).toBeGreaterThan(v);
      }),
    );
  });

  it('codes are monotonic', () => {
    for (let c = 1; c < 256; c++) expect(decodeCode(c)).toBeGreaterThan(decodeCode(c - 1));
  });
});

describe('igmp rejections', () => {
  it('rejects every truncation of every vector with a reason', () => {
    for (const v of VECTORS) {
      for (let n = 0; n < v.length; n++) {
        const r = parseIgmp(v.subarray(0, n));
        expect(r, `${v.length}-byte vector cut to ${n}`).toMatchObject({ ok: false, layer: 'igmp' });
      }
    }
  });

  it('rejects truncations even with a recomputed checksum (except a v3 query cut to 8 = v2)', () => {
    for (const v of [V3_GSSQ, V3_REPORT]) {
      for (let n = 0; n < v.length; n++) {
        const r = parseIgmp(fixChecksum(v.slice(0, n)));
        if (v === V3_GSSQ && n === 8) {
          expect(r).toMatchObject({ ok: true, value: { kind: 'query', version: 2, maxRespDs: 10 } });
        } else {
          expect(r, `cut to ${n}`).toMatchObject({ ok: false });
        }
      }
    }
  });

  it('rejects a bad checksum', () => {
    for (const v of VECTORS) {
      const b = v.slice();
      b[b.length - 1] = b[b.length - 1]! ^ 1;
      expect(parseIgmp(b)).toMatchObject({ ok: false, reason: 'IGMP checksum mismatch' });
    }
  });

  it('rejects 9–11 byte queries', () => {
    for (const n of [9, 10, 11]) {
      const b = new Uint8Array(n);
      b.set(V2_QUERY);
      expect(parseIgmp(fixChecksum(b))).toMatchObject({ ok: false, reason: expect.stringMatching(/neither 8/) });
    }
  });

  it('rejects v3 query sources and report records past the end', () => {
    expect(parseIgmp(fixChecksum(hex('11 64 0000 00000000 02 7d 0002 0a000001')))).toMatchObject({ ok: false, reason: expect.stringMatching(/sources past/) });
    expect(parseIgmp(fixChecksum(hex('22 00 0000 0000 0002 04 00 0000 ef010101')))).toMatchObject({ ok: false, reason: expect.stringMatching(/record 1 of 2/) });
    expect(parseIgmp(fixChecksum(hex('22 00 0000 0000 0001 04 00 0001 ef010101')))).toMatchObject({ ok: false, reason: expect.stringMatching(/1 sources/) });
    expect(parseIgmp(fixChecksum(hex('22 00 0000 0000 0001 04 01 0000 ef010101')))).toMatchObject({ ok: false, reason: expect.stringMatching(/4 aux/) });
  });

  it('rejects unknown types', () => {
    expect(parseIgmp(fixChecksum(hex('13 00 0000 00000000')))).toMatchObject({ ok: false, reason: 'unsupported IGMP type 0x13' });
    expect(parseIgmp(new Uint8Array(8))).toMatchObject({ ok: false });
  });
});

describe('emitIgmp', () => {
  it('emits the vectors from reprs', () => {
    expect(emitIgmp({ kind: 'query', version: 2, group: '0.0.0.0', maxRespDs: 100, suppress: false, qrv: 0, qqicSeconds: 0, sources: [] })).toEqual(V2_QUERY);
    expect(emitIgmp({ kind: 'report', version: 2, group: '239.1.1.1' })).toEqual(V2_REPORT);
    expect(emitIgmp({ kind: 'leave', group: '239.1.1.1' })).toEqual(LEAVE);
    expect(emitIgmp({ kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] })).toEqual(V3_REPORT);
  });

  it('rounds a v3 Max Resp down to a representable value', () => {
    const b = emitIgmp({ kind: 'query', version: 3, group: '0.0.0.0', maxRespDs: 250, suppress: false, qrv: 2, qqicSeconds: 300, sources: [] });
    expect(b[1]).toBe(0x8f);
    expect(parsed(b)).toMatchObject({ maxRespDs: 248, qqicSeconds: 288 });
  });

  it('throws EmitError for unencodable reprs', () => {
    const q: Extract<IgmpRepr, { kind: 'query' }> = { kind: 'query', version: 2, group: '0.0.0.0', maxRespDs: 100, suppress: false, qrv: 0, qqicSeconds: 0, sources: [] };
    const bad: IgmpRepr[] = [
      { ...q, maxRespDs: 0 }, // would be a v1 query on the wire
      { ...q, maxRespDs: 256 },
      { ...q, sources: ['10.0.0.1'] },
      { ...q, qrv: 2 },
      { ...q, version: 1, maxRespDs: 50 },
      { ...q, version: 3, qrv: 8 },
      { ...q, version: 3, maxRespDs: -1 },
      { ...q, group: '239.1.1' },
      { kind: 'report', version: 3 as 2, group: '239.1.1.1' },
      { kind: 'v3report', records: [{ type: 4, group: '239.1.1.1', sources: [], auxData: new Uint8Array(3) }] },
      { kind: 'v3report', records: [{ type: 256, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] },
      { kind: 'v3report', records: [{ type: 4, group: '239.1.1.1', sources: ['x'], auxData: new Uint8Array(0) }] },
    ];
    for (const r of bad) expect(() => emitIgmp(r), JSON.stringify(r)).toThrow(EmitError);
  });
});

// ---------------------------------------------------------------------------------------
// properties

const code = fc.integer({ min: 0, max: 255 }).map(decodeCode);
const ips = (max: number) => fc.array(fc.ipV4(), { maxLength: max });
const recordArb: fc.Arbitrary<IgmpGroupRecord> = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  group: fc.ipV4(),
  sources: ips(4),
  auxData: fc.integer({ min: 0, max: 3 }).chain((w) => fc.uint8Array({ minLength: 4 * w, maxLength: 4 * w })),
});
const reprArb: fc.Arbitrary<IgmpRepr> = fc.oneof(
  fc.record({ kind: fc.constant('query' as const), version: fc.constant(1 as const), group: fc.ipV4(), maxRespDs: fc.constant(100), suppress: fc.constant(false), qrv: fc.constant(0), qqicSeconds: fc.constant(0), sources: fc.constant<string[]>([]) }),
  fc.record({ kind: fc.constant('query' as const), version: fc.constant(2 as const), group: fc.ipV4(), maxRespDs: fc.integer({ min: 1, max: 255 }), suppress: fc.constant(false), qrv: fc.constant(0), qqicSeconds: fc.constant(0), sources: fc.constant<string[]>([]) }),
  fc.record({ kind: fc.constant('query' as const), version: fc.constant(3 as const), group: fc.ipV4(), maxRespDs: code, suppress: fc.boolean(), qrv: fc.integer({ min: 0, max: 7 }), qqicSeconds: code, sources: ips(6) }),
  fc.record({ kind: fc.constant('report' as const), version: fc.constantFrom(1 as const, 2 as const), group: fc.ipV4() }),
  fc.record({ kind: fc.constant('leave' as const), group: fc.ipV4() }),
  fc.record({ kind: fc.constant('v3report' as const), records: fc.array(recordArb, { maxLength: 4 }) }),
);

describe('igmp properties', () => {
  it('emit → parse gives the repr back; parse → emit gives the bytes back', () => {
    fc.assert(
      fc.property(reprArb, (r) => {
        const bytes = emitIgmp(r);
        const back = parseIgmp(bytes);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(back.value).toEqual(r);
        expect(emitIgmp(back.value)).toEqual(bytes);
      }),
    );
  });

  it('never throws on random bytes, with or without a valid checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), fc.constantFrom(0x11, 0x12, 0x16, 0x17, 0x22, -1), (raw, fix, type) => {
        const b = raw.slice();
        if (type >= 0 && b.length > 0) b[0] = type;
        if (fix) fixChecksum(b);
        const r = parseIgmp(b);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('never throws on mutated or truncated vectors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VECTORS),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (v, edits, cut, fix) => {
          const b = v.slice(0, cut % (v.length + 1));
          for (const [at, val] of edits) if (b.length > 0) b[at % b.length] = val;
          if (fix) fixChecksum(b);
          expect(typeof parseIgmp(b).ok).toBe('boolean');
        },
      ),
    );
  });
});
