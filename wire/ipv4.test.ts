import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, internetChecksum, put16 } from './fields.js';
import { ipToU32, ipWord, isIpv4Multicast } from '../model/address.js';
import { EmitError } from './result.js';
import { emitIpv4, hasRouterAlert, IP_PROTO, parseIpv4, ROUTER_ALERT, type Ipv4Repr } from './ipv4.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};

/** Recompute the header checksum in place (for hand-built inconsistent headers). */
function fixChecksum(b: Uint8Array): Uint8Array {
  const hl = (b[0]! & 0x0f) * 4;
  put16(b, 10, 0);
  put16(b, 10, internetChecksum(b, 0, Math.min(hl, b.length)));
  return b;
}

// The classic example header (192.168.0.1 → 192.168.0.199, UDP, DF, TTL 64, total 0x73),
// whose checksum b861 is worked by hand in many references.
const CLASSIC_HEADER = '4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7';
const CLASSIC = hex(CLASSIC_HEADER + '00'.repeat(0x73 - 20).replace(/^00/, 'ab'));

// An IGMPv3 report as Linux sends it: IHL 6, TOS 0xc0, total 40, DF, TTL 1, protocol 2,
// 10.77.0.100 → 224.0.0.22, Router Alert; payload = TO_EX record for 239.1.1.1.
const IGMP_PACKET = hex(
  '46 c0 0028 0000 4000 01 02 f948 0a4d0064 e0000016 94040000' + //
    '22 00 e9fb 0000 0001 04 00 0000 ef010101',
);

describe('ipv4 vectors', () => {
  it('decodes the classic header field by field', () => {
    const r = parseIpv4(CLASSIC);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value;
    expect(v).toMatchObject({
      dscp: 0,
      ecn: 0,
      id: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTO.UDP,
      src: '192.168.0.1',
      dst: '192.168.0.199',
    });
    expect(v.options.length).toBe(0);
    expect(v.payload.length).toBe(0x73 - 20);
    expect(v.payload[0]).toBe(0xab);
    expect(emitIpv4(v)).toEqual(CLASSIC);
  });

  it('decodes an IGMP packet with TOS 0xc0 and Router Alert', () => {
    const r = parseIpv4(IGMP_PACKET);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ dscp: 48, ecn: 0, dontFragment: true, ttl: 1, protocol: IP_PROTO.IGMP, src: '10.77.0.100', dst: '224.0.0.22' });
    expect([...r.value.options]).toEqual([...ROUTER_ALERT]);
    expect(hasRouterAlert(r.value.options)).toBe(true);
    expect([...r.value.payload]).toEqual([...IGMP_PACKET.subarray(24)]);
    expect(emitIpv4(r.value)).toEqual(IGMP_PACKET);
  });

  it('excludes Ethernet padding from the payload', () => {
    const padded = new Uint8Array(IGMP_PACKET.length + 6);
    padded.set(IGMP_PACKET);
    const r = parseIpv4(padded);
    expect(r.ok && r.value.payload.length).toBe(16);
  });

  it('decodes fragment fields, DSCP and ECN', () => {
    // DSCP 46 (EF) ECN 1, id 0xbeef, MF, offset 185 (1480 bytes), TTL 17, TCP
    const b = fixChecksum(hex('45 b9 0018 beef 20b9 11 06 0000 0a000001 0a000002 0102 0304'));
    const r = parseIpv4(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ dscp: 46, ecn: 1, id: 0xbeef, dontFragment: false, moreFragments: true, fragmentOffset: 185, ttl: 17, protocol: 6 });
    expect(emitIpv4(r.value)).toEqual(b);
  });
});

describe('ipv4 rejections', () => {
  it('rejects every truncation of the vectors with a reason', () => {
    for (const v of [CLASSIC, IGMP_PACKET]) {
      for (let n = 0; n < v.length; n++) {
        const r = parseIpv4(v.subarray(0, n));
        expect(r.ok, `length ${n}`).toBe(false);
        if (!r.ok) {
          expect(r.layer).toBe('ipv4');
          expect(r.reason.length).toBeGreaterThan(0);
        }
      }
    }
  });

  const cases: [string, string, RegExp][] = [
    ['version 6', '65 00 0014 0000 0000 40 11 0000 0a000001 0a000002', /version/],
    ['IHL 4', '44 00 0014 0000 0000 40 11 0000 0a000001 0a000002', /IHL/],
    ['IHL past the buffer', '46 00 0018 0000 0000 40 11 0000 0a000001 0a000002', /header longer/],
    ['total length below header', '45 00 0013 0000 0000 40 11 0000 0a000001 0a000002', /total length shorter/],
    ['total length past buffer', '45 00 0015 0000 0000 40 11 0000 0a000001 0a000002', /total length longer/],
    ['reserved flag', '45 00 0014 0000 8000 40 11 0000 0a000001 0a000002', /reserved flag/],
    ['option length 1', '46 00 0018 0000 0000 40 11 0000 0a000001 0a000002 07 01 00 00', /below 2/],
    ['option past header', '46 00 0018 0000 0000 40 11 0000 0a000001 0a000002 01 07 05 00', /runs past/],
    ['option without length byte', '46 00 0018 0000 0000 40 11 0000 0a000001 0a000002 01 01 01 44', /no length byte/],
  ];
  for (const [name, h, reason] of cases) {
    it(`rejects ${name}`, () => {
      const r = parseIpv4(fixChecksum(hex(h)));
      expect(r).toMatchObject({ ok: false, layer: 'ipv4' });
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }

  it('rejects a bad header checksum', () => {
    const b = IGMP_PACKET.slice();
    b[11] = b[11]! ^ 1;
    expect(parseIpv4(b)).toMatchObject({ ok: false, reason: 'IPv4 header checksum mismatch' });
  });

  it('accepts bytes after End as header padding', () => {
    const r = parseIpv4(fixChecksum(hex('47 00 001c 0000 0000 40 11 0000 0a000001 0a000002 01 00 ff 07 07 07 07 07')));
    expect(r.ok).toBe(true);
  });

  it('detects every single-bit error in the header', () => {
    for (let bit = 0; bit < 24 * 8; bit++) {
      const b = IGMP_PACKET.slice();
      b[bit >>> 3] = b[bit >>> 3]! ^ (0x80 >>> (bit & 7));
      expect(parseIpv4(b).ok, `bit ${bit}`).toBe(false);
    }
  });
});

describe('isIpv4Multicast', () => {
  it('is 224.0.0.0/4 text, nothing else', () => {
    for (const ip of ['224.0.0.0', '224.0.0.1', '239.1.1.1', '239.255.255.255']) expect(isIpv4Multicast(ip), ip).toBe(true);
    for (const ip of ['223.255.255.255', '240.0.0.0', '10.1.1.1', '255.255.255.255', '239.1.1', '239.1.1.256', '', 'x.1.1.1']) expect(isIpv4Multicast(ip), ip).toBe(false);
  });
});

describe('hasRouterAlert', () => {
  const ra = (h: string) => hasRouterAlert(hex(h));
  it('finds RA alone, after NOPs and after other options', () => {
    expect(ra('94040000')).toBe(true);
    expect(ra('01 01 94040000 00 00')).toBe(true);
    expect(ra('07 03 04 94040000 00')).toBe(true);
  });
  it('does not find it when absent, non-zero, after End or in broken framing', () => {
    expect(ra('')).toBe(false);
    expect(ra('01010101')).toBe(false);
    expect(ra('94040001')).toBe(false);
    expect(ra('940300')).toBe(false);
    expect(ra('00 94040000')).toBe(false);
    expect(ra('07 09 04 94040000')).toBe(false);
    expect(ra('07')).toBe(false);
  });
  it('never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), (b) => typeof hasRouterAlert(b) === 'boolean'));
  });
});

const base = (over: Partial<Ipv4Repr> = {}): Ipv4Repr => ({
  dscp: 0,
  ecn: 0,
  id: 1,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 1,
  protocol: IP_PROTO.IGMP,
  src: '10.0.0.1',
  dst: '224.0.0.1',
  options: new Uint8Array(0),
  payload: new Uint8Array(8),
  ...over,
});

describe('emitIpv4', () => {
  it('pads options with End/zero bytes to a multiple of 4', () => {
    const out = emitIpv4(base({ options: hex('07 03 04') }));
    expect(out[0]).toBe(0x46);
    expect([...out.subarray(20, 24)]).toEqual([7, 3, 4, 0]);
    const nop = emitIpv4(base({ options: hex('01') }));
    expect([...nop.subarray(20, 24)]).toEqual([1, 0, 0, 0]);
    const back = parseIpv4(out);
    expect(back.ok && [...back.value.options]).toEqual([7, 3, 4, 0]);
  });

  it('writes TOS, flags and a checksum that verifies', () => {
    const out = emitIpv4(base({ dscp: 48, options: ROUTER_ALERT, payload: hex('16 00 f9fc ef010101') }));
    expect(toHexSpaced(out.subarray(0, 10))).toBe('46 c0 00 20 00 01 40 00 01 02');
    expect(internetChecksum(out, 0, 24)).toBe(0);
  });

  it('throws EmitError for unencodable reprs', () => {
    const bad: Partial<Ipv4Repr>[] = [
      { dscp: 64 },
      { ecn: -1 },
      { id: 0x10000 },
      { fragmentOffset: 8192 },
      { ttl: 256 },
      { protocol: 1.5 },
      { src: '10.0.0.256' },
      { dst: 'host' },
      { options: new Uint8Array(41).fill(1) },
      { options: hex('07 01') },
      { options: hex('07 08 00') },
      { payload: new Uint8Array(65536 - 20) },
    ];
    for (const over of bad) expect(() => emitIpv4(base(over)), JSON.stringify(Object.keys(over))).toThrow(EmitError);
    expect(() => emitIpv4(base({ payload: new Uint8Array(65535 - 20) }))).not.toThrow();
  });
});

function toHexSpaced(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

// ---------------------------------------------------------------------------------------
// properties

const optionItem = fc.oneof(
  fc.constant(Uint8Array.of(1)),
  fc
    .tuple(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ maxLength: 6 }))
    .map(([t, d]) => Uint8Array.of(t, d.length + 2, ...d)),
);
const optionsArb = fc
  .array(optionItem, { maxLength: 8 })
  .map((items) => Uint8Array.from(items.flatMap((x) => [...x])))
  .filter((o) => o.length <= 40);

const reprArb: fc.Arbitrary<Ipv4Repr> = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: fc.ipV4(),
  dst: fc.ipV4(),
  options: optionsArb,
  payload: fc.uint8Array({ maxLength: 64 }),
});

const padded = (o: Uint8Array): Uint8Array => {
  const out = new Uint8Array((o.length + 3) & ~3);
  out.set(o);
  return out;
};

describe('ipv4 properties', () => {
  it('emit → parse gives the repr back (options End-padded)', () => {
    fc.assert(
      fc.property(reprArb, (r) => {
        const back = parseIpv4(emitIpv4(r));
        expect(back.ok).toBe(true);
        if (back.ok) expect(back.value).toEqual({ ...r, options: padded(r.options) });
      }),
    );
  });

  it('parse → emit reproduces every accepted packet byte for byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), fc.integer({ min: 5, max: 15 }), (raw, ihl) => {
        const b = raw.slice();
        b[0] = 0x40 | ihl;
        put16(b, 2, Math.min(b.length, Math.max(ihl * 4, raw[2]! + 20)));
        fixChecksum(b);
        const r = parseIpv4(b);
        if (r.ok) expect(emitIpv4(r.value)).toEqual(b.subarray(0, r.value.options.length + 20 + r.value.payload.length));
      }),
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => typeof parseIpv4(b).ok === 'boolean'));
  });

  it('never throws on mutated or truncated vectors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(CLASSIC, IGMP_PACKET),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        fc.boolean(),
        (v, edits, cut, fix) => {
          const b = v.slice(0, cut % (v.length + 1));
          for (const [at, val] of edits) if (b.length > 0) b[at % b.length] = val;
          if (fix && b.length >= 20) fixChecksum(b);
          const r = parseIpv4(b);
          if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
        },
      ),
    );
  });

  it('ipWord agrees with fields.ts ipToU32', () => {
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.string({ maxLength: 16 }),
      fc.array(fc.stringMatching(/^\d{0,4}$/), { minLength: 1, maxLength: 5 }).map((p) => p.join('.')),
    );
    fc.assert(
      fc.property(text, (s) => {
        let expected: number;
        try {
          expected = ipToU32(s);
        } catch {
          expected = -1;
        }
        expect(ipWord(s)).toBe(expected);
      }),
    );
  });
});
