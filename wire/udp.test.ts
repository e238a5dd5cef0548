import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, put16 } from './fields.js';
import { EmitError } from './result.js';
import { emitUdp, parseUdp, type UdpRepr } from './udp.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};

// 10.77.0.2:67 → 10.77.0.1:67, payload "hi!"; checksum 614c worked out by hand:
// pseudo 0a4d+0002+0a4d+0001+0011+000b, header 0043+0043+000b, data 6869+2100.
const SRC = '10.77.0.2';
const DST = '10.77.0.1';
const HI = hex('0043 0043 000b 614c 68 69 21');

// 192.168.0.1:12345 → 192.168.0.2:12345 with data 1e14: the computed checksum is 0,
// which goes on the wire as ffff.
const ZERO_SRC = '192.168.0.1';
const ZERO_DST = '192.168.0.2';
const ZERO = hex('3039 3039 000a ffff 1e14');

describe('udp vectors', () => {
  it('decodes a hand-built datagram', () => {
    const r = parseUdp(HI, SRC, DST);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.srcPort).toBe(67);
    expect(r.value.dstPort).toBe(67);
    expect([...r.value.payload]).toEqual([0x68, 0x69, 0x21]);
    expect(emitUdp(r.value, SRC, DST)).toEqual(HI);
  });

  it('sends a computed 0 as ffff and accepts it', () => {
    const r = parseUdp(ZERO, ZERO_SRC, ZERO_DST);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(emitUdp(r.value, ZERO_SRC, ZERO_DST)).toEqual(ZERO);
  });

  it('accepts checksum 0 as "none"', () => {
    const b = HI.slice();
    put16(b, 6, 0);
    const r = parseUdp(b, '1.2.3.4', '5.6.7.8');
    expect(r.ok && [...r.value.payload]).toEqual([0x68, 0x69, 0x21]);
    // emit always computes one
    expect(r.ok && emitUdp(r.value, SRC, DST)).toEqual(HI);
  });

  it('ignores bytes beyond the length field', () => {
    const b = new Uint8Array(HI.length + 5);
    b.set(HI);
    const r = parseUdp(b, SRC, DST);
    expect(r.ok && r.value.payload.length).toBe(3);
  });
});

describe('udp rejections', () => {
  it('rejects every truncation with a reason', () => {
    for (const [v, s, d] of [
      [HI, SRC, DST],
      [ZERO, ZERO_SRC, ZERO_DST],
    ] as const) {
      for (let n = 0; n < v.length; n++) {
        const r = parseUdp(v.subarray(0, n), s, d);
        expect(r, `length ${n}`).toMatchObject({ ok: false, layer: 'udp' });
      }
    }
  });

  it('rejects bad length fields', () => {
    const short = HI.slice();
    put16(short, 4, 7);
    expect(parseUdp(short, SRC, DST)).toMatchObject({ ok: false, reason: 'UDP length field below 8' });
    const long = HI.slice();
    put16(long, 4, 12);
    expect(parseUdp(long, SRC, DST)).toMatchObject({ ok: false, reason: 'UDP length field longer than the buffer' });
    const shorter = HI.slice();
    put16(shorter, 4, 10); // consistent length, but the checksum covered 11 bytes
    expect(parseUdp(shorter, SRC, DST)).toMatchObject({ ok: false, reason: 'UDP checksum mismatch' });
  });

  it('rejects a bad checksum and a wrong pseudo-header', () => {
    const b = HI.slice();
    b[10] = b[10]! ^ 0x40;
    expect(parseUdp(b, SRC, DST)).toMatchObject({ ok: false, reason: 'UDP checksum mismatch' });
    expect(parseUdp(HI, DST, '10.77.0.3')).toMatchObject({ ok: false, reason: 'UDP checksum mismatch' });
  });

  it('rejects (does not throw on) address text that is not IPv4', () => {
    expect(parseUdp(HI, 'x', DST)).toMatchObject({ ok: false, layer: 'udp' });
    expect(parseUdp(HI, SRC, '10.77.0.300')).toMatchObject({ ok: false, layer: 'udp' });
  });

  it('detects every single-bit error outside the checksum field', () => {
    for (let bit = 0; bit < HI.length * 8; bit++) {
      if (bit >= 48 && bit < 64) continue; // flipping the checksum may produce 0 = "none"
      const b = HI.slice();
      b[bit >>> 3] = b[bit >>> 3]! ^ (0x80 >>> (bit & 7));
      expect(parseUdp(b, SRC, DST).ok, `bit ${bit}`).toBe(false);
    }
  });
});

describe('emitUdp', () => {
  it('throws EmitError for unencodable reprs', () => {
    const ok: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(0) };
    expect(() => emitUdp({ ...ok, srcPort: 65536 }, SRC, DST)).toThrow(EmitError);
    expect(() => emitUdp({ ...ok, dstPort: -1 }, SRC, DST)).toThrow(EmitError);
    expect(() => emitUdp(ok, 'nope', DST)).toThrow(EmitError);
    expect(() => emitUdp({ ...ok, payload: new Uint8Array(65528) }, SRC, DST)).toThrow(EmitError);
    expect(emitUdp({ ...ok, payload: new Uint8Array(65527) }, SRC, DST).length).toBe(65535);
  });
});

const reprArb: fc.Arbitrary<UdpRepr> = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 200 }),
});

describe('udp properties', () => {
  it('emit → parse gives the repr back; parse → emit gives the bytes back', () => {
    fc.assert(
      fc.property(reprArb, fc.ipV4(), fc.ipV4(), (r, s, d) => {
        const bytes = emitUdp(r, s, d);
        expect(bytes[6]! | bytes[7]!).not.toBe(0);
        const back = parseUdp(bytes, s, d);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(back.value).toEqual(r);
        expect(emitUdp(back.value, s, d)).toEqual(bytes);
      }),
    );
  });

  it('never throws on random bytes and random address text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.oneof(fc.ipV4(), fc.string()), fc.oneof(fc.ipV4(), fc.string()), (b, s, d) => {
        expect(typeof parseUdp(b, s, d).ok).toBe('boolean');
      }),
    );
  });

  it('never throws on mutated or truncated vectors', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (edits, cut) => {
        const b = HI.slice(0, cut % (HI.length + 1));
        for (const [at, val] of edits) if (b.length > 0) b[at % b.length] = val;
        const r = parseUdp(b, SRC, DST);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('a forwarding switch may skip the checksum: verifyChecksum false accepts what the default rejects', () => {
    const src = '10.0.0.1';
    const dst = '10.0.0.2';
    const b = emitUdp({ srcPort: 1, dstPort: 2, payload: new Uint8Array([1, 2, 3]) }, src, dst);
    b[6]! ^= 0xff;
    expect(parseUdp(b, src, dst)).toMatchObject({ ok: false, reason: 'UDP checksum mismatch' });
    expect(parseUdp(b, src, dst, { verifyChecksum: false })).toMatchObject({ ok: true, value: { srcPort: 1, dstPort: 2 } });
  });
});
