import { TlvView } from './tlv.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitEthernet, ETHERTYPE, parseEthernet } from './ethernet.js';
import { fromHex } from './fields.js';
import { EVB_MODE, EvbTlvView, emitLldp, parseLldp, type EvbTlv, type LldpRepr } from './lldp.js';
import { EmitError } from './result.js';

const hex = (s: string): Uint8Array => fromHex(s)!;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const CHASSIS = '0207 04 e6f1205ab0e6'; // type 1 len 7: subtype 4 (MAC address)
const PORT = '0406 05 7665746830'; // type 2 len 6: subtype 5 (interface name) "veth0"
const TTL = '0602 0078'; // type 3 len 2: 120 s
const EVB_STATION = 'fe09 0080c2 0d 00 07 6e 94 14'; // observed station EVB TLV, docs/protocols.md 1.4
const END = '0000';
/** A station LLDPDU as lldpad sends it: mandatory TLVs, the EVB TLV, End. */
const STATION_LLDPDU = hex(CHASSIS + PORT + TTL + EVB_STATION + END);
/** With a system name (type 5) and a non-EVB 802.1 org TLV (Port VLAN ID, subtype 1) after the EVB TLV. */
const WITH_OTHERS = hex(CHASSIS + PORT + TTL + EVB_STATION + '0a04 686f7374' + 'fe06 0080c2 01 0064' + END);

function evbOf(info: string): EvbTlv {
  const v = new EvbTlvView(hex(info));
  expect(v.isEvb).toBe(true);
  expect(v.check()).toBeNull();
  return v.toRepr();
}

function mustParse(b: Uint8Array): LldpRepr {
  const r = parseLldp(b);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function expectReject(b: Uint8Array, reason: RegExp): void {
  const r = parseLldp(b);
  expect(r.ok, reason.source).toBe(false);
  if (!r.ok) {
    expect(r.layer).toBe('lldp');
    expect(r.reason).toMatch(reason);
  }
}

const evbArb: fc.Arbitrary<EvbTlv> = fc.record({
  bridge: fc.record({ bgid: fc.boolean(), rrcap: fc.boolean(), rrctr: fc.boolean() }),
  station: fc.record({ sgid: fc.boolean(), rrreq: fc.boolean(), rrstat: fc.integer({ min: 0, max: 3 }) }),
  retries: fc.integer({ min: 0, max: 7 }),
  rte: fc.integer({ min: 0, max: 31 }),
  mode: fc.integer({ min: 0, max: 3 }),
  rolRwd: fc.boolean(),
  rwd: fc.integer({ min: 0, max: 31 }),
  rolRka: fc.boolean(),
  rka: fc.integer({ min: 0, max: 31 }),
});
const idArb = fc.record({ subtype: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ minLength: 1, maxLength: 255 }) });
const otherArb = fc.oneof(
  fc.record({ type: fc.integer({ min: 4, max: 126 }), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant(127), value: fc.uint8Array({ minLength: 4, maxLength: 40 }) })
    .filter((o) => !new EvbTlvView(o.value).isEvb),
);
const lldpArb: fc.Arbitrary<LldpRepr> = fc.record({
  chassisId: idArb,
  portId: idArb,
  ttl: fc.integer({ min: 0, max: 0xffff }),
  evb: fc.option(evbArb, { nil: null }),
  other: fc.array(otherArb, { maxLength: 4 }),
});

describe('lldp', () => {
  it('decodes the observed station EVB TLV: R=3, RTE=14, station, RWD=20, RKA=20', () => {
    const t = new TlvView(hex(EVB_STATION));
    expect(t.check()).toBeNull();
    expect([t.type, t.length]).toEqual([127, 9]);
    expect(evbOf('0080c2 0d 00 07 6e 94 14')).toEqual({
      bridge: { bgid: false, rrcap: false, rrctr: false },
      station: { sgid: false, rrreq: true, rrstat: 3 },
      retries: 3,
      rte: 14,
      mode: EVB_MODE.STATION,
      rolRwd: false,
      rwd: 20,
      rolRka: false,
      rka: 20,
    });
  });

  it('decodes our bridge TLV and the station answer to it (protocols.md 1.4)', () => {
    expect(evbOf('0080c2 0d 02 00 6e 54 14')).toEqual({
      bridge: { bgid: false, rrcap: true, rrctr: false },
      station: { sgid: false, rrreq: false, rrstat: 0 },
      retries: 3, rte: 14, mode: EVB_MODE.BRIDGE, rolRwd: false, rwd: 20, rolRka: false, rka: 20,
    });
    expect(evbOf('0080c2 0d 02 04 6e b4 34')).toEqual({
      bridge: { bgid: false, rrcap: true, rrctr: false },
      station: { sgid: false, rrreq: true, rrstat: 0 },
      retries: 3, rte: 14, mode: EVB_MODE.STATION, rolRwd: true, rwd: 20, rolRka: true, rka: 20,
    });
  });

  it('decodes a whole station LLDPDU field by field', () => {
    const r = mustParse(STATION_LLDPDU);
    expect(r.chassisId.subtype).toBe(4);
    expect(r.chassisId.value).toEqual(hex('e6f1205ab0e6'));
    expect(r.portId.subtype).toBe(5);
    expect(r.portId.value).toEqual(ascii('veth0'));
    expect(r.ttl).toBe(120);
    expect(r.evb).toMatchObject({ retries: 3, rte: 14, mode: EVB_MODE.STATION, rwd: 20, rka: 20 });
    expect(r.other).toEqual([]);
  });

  it('keeps unknown and non-EVB org TLVs raw, in order', () => {
    const r = mustParse(WITH_OTHERS);
    expect(r.other).toEqual([
      { type: 5, value: ascii('host') },
      { type: 127, value: hex('0080c2 01 0064') },
    ]);
  });

  it('ignores what follows End (Ethernet padding) and parses through an Ethernet frame', () => {
    const frame = emitEthernet({ dst: '01:80:c2:00:00:00', src: 'e6:f1:20:5a:b0:e6', vlan: null, ethertype: ETHERTYPE.LLDP, payload: STATION_LLDPDU });
    expect(frame.length).toBe(60);
    const eth = parseEthernet(frame);
    if (!eth.ok) throw new Error(eth.reason);
    expect(eth.value.ethertype).toBe(ETHERTYPE.LLDP);
    expect(parseLldp(eth.value.payload)).toEqual(parseLldp(STATION_LLDPDU));
    expect(mustParse(hex(CHASSIS + PORT + TTL + END + 'ffff 1234')).evb).toBeNull();
  });

  it('emits the same bytes it parsed (canonical vectors) and builds the bridge answer of docs/protocols.md 3.2', () => {
    for (const v of [STATION_LLDPDU, WITH_OTHERS]) expect(emitLldp(mustParse(v))).toEqual(v);
    const bridge: LldpRepr = {
      chassisId: { subtype: 4, value: hex('020000000001') },
      portId: { subtype: 5, value: ascii('p1') },
      ttl: 120,
      evb: {
        bridge: { bgid: false, rrcap: true, rrctr: false },
        station: { sgid: false, rrreq: false, rrstat: 0 },
        retries: 3, rte: 14, mode: EVB_MODE.BRIDGE, rolRwd: false, rwd: 20, rolRka: false, rka: 20,
      },
      other: [],
    };
    expect(emitLldp(bridge)).toEqual(hex('0207 04 020000000001' + '0403 05 7031' + TTL + 'fe09 0080c2 0d 02 00 6e 54 14' + END));
  });

  it('rejects every truncation of a valid LLDPDU (End is required)', () => {
    for (const v of [STATION_LLDPDU, WITH_OTHERS]) {
      for (let n = 0; n < v.length; n++) {
        const r = parseLldp(v.subarray(0, n));
        expect(r, `cut at ${n}`).toMatchObject({ ok: false, layer: 'lldp' });
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it('rejects misordered, duplicate and inconsistent TLVs with a reason', () => {
    expectReject(hex(PORT + CHASSIS + TTL + END), /TLV #1 is type 2, expected Chassis ID/);
    expectReject(hex(CHASSIS + TTL + PORT + END), /TLV #2 is type 3, expected Port ID/);
    expectReject(hex(CHASSIS + PORT + END), /TLV #3 is type 0, expected TTL/);
    expectReject(hex(CHASSIS + PORT + TTL + CHASSIS + END), /duplicate Chassis ID/);
    expectReject(hex(CHASSIS + PORT + TTL + PORT + END), /duplicate Port ID/);
    expectReject(hex(CHASSIS + PORT + TTL + TTL + END), /duplicate TTL/);
    expectReject(hex(CHASSIS + PORT + TTL + EVB_STATION + EVB_STATION + END), /duplicate EVB/);
    expectReject(hex('0201 04' + PORT + TTL + END), /Chassis ID TLV length 1/);
    expectReject(hex(CHASSIS + '0400' + TTL + END), /Port ID TLV length 0/);
    expectReject(hex(CHASSIS + PORT + '0603 000078' + END), /TTL TLV length 3/);
    expectReject(hex(CHASSIS + PORT + TTL + '0002 0000'), /End of LLDPDU TLV has length 2/);
    expectReject(hex(CHASSIS + PORT + TTL + 'fe08 0080c2 0d 00 07 6e 94'), /EVB TLV length 8 is not 9/);
    expectReject(hex(CHASSIS + PORT + TTL + 'fe0a 0080c2 0d 00 07 6e 94 14 00' + END), /EVB TLV length 10/);
    expectReject(hex(CHASSIS + PORT + TTL + 'fe03 0080c2' + END), /organizationally specific TLV length 3/);
    expectReject(hex(CHASSIS + PORT + TTL + '0a40 6869' + END), /length 64 runs past the end/);
    expectReject(hex(CHASSIS + PORT + TTL), /missing End/);
    expectReject(new Uint8Array(0), /empty LLDPDU/);
  });

  it('refuses to emit an impossible repr', () => {
    const good = mustParse(STATION_LLDPDU);
    const evb = good.evb!;
    expect(() => emitLldp({ ...good, chassisId: { subtype: 4, value: new Uint8Array(0) } })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, portId: { subtype: 256, value: ascii('x') } })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, ttl: 70000 })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, evb: { ...evb, rte: 32 } })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, evb: { ...evb, retries: 8 } })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, evb: { ...evb, mode: 4 } })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, other: [{ type: 1, value: ascii('x') }] })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, other: [{ type: 127, value: hex('0080c2 0d 00 07 6e 94 14') }] })).toThrow(EmitError);
    expect(() => emitLldp({ ...good, other: [{ type: 9, value: new Uint8Array(512) }] })).toThrow(EmitError);
  });

  it('property: random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      expect(typeof parseLldp(b).ok).toBe('boolean');
    }));
  });

  it('property: mutations/truncations of valid LLDPDUs never throw; what parses is emittable and stable', () => {
    fc.assert(fc.property(fc.constantFrom(STATION_LLDPDU, WITH_OTHERS), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (v, i, x, cut) => {
      const b = v.slice();
      b[i % b.length] = x;
      for (const input of [b, v.subarray(0, cut % (v.length + 1))]) {
        const r = parseLldp(input);
        if (r.ok) expect(parseLldp(emitLldp(r.value))).toEqual(r);
      }
    }));
  });

  it('property: emit → parse round-trips any valid repr', () => {
    fc.assert(fc.property(lldpArb, (r) => {
      expect(parseLldp(emitLldp(r))).toEqual({ ok: true, value: r });
    }));
  });
});
