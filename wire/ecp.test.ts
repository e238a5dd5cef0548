import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ECP_SUBTYPE, EcpView, emitEcp, parseEcp, type EcpRepr } from './ecp.js';
import { emitEthernet, ETHERTYPE, parseEthernet } from './ethernet.js';
import { fromHex } from './fields.js';
import { EmitError } from './result.js';

const hex = (s: string): Uint8Array => fromHex(s)!;

// docs/protocols.md 1.2, observed: a VDP request and its ACK
const REQ = hex('10 01 00 01');
const ACK = hex('14 01 00 01');
// the observed 18-byte station ACK frame (not padded, docs/protocols.md 1.1)
const ACK_FRAME = hex('0180c2000000 e6f1205ab0e6 8940 14010001');

const ecpRepr: fc.Arbitrary<EcpRepr> = fc.record({
  op: fc.constantFrom('request' as const, 'ack' as const),
  subtype: fc.integer({ min: 0, max: 0x3ff }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 64 }),
});

describe('ecp', () => {
  it('decodes the observed request header field by field', () => {
    const v = new EcpView(REQ);
    expect(v.check()).toBeNull();
    expect([v.version, v.op, v.subtype, v.seq]).toEqual([1, 0, 1, 1]);
    expect(parseEcp(REQ)).toEqual({ ok: true, value: { op: 'request', subtype: ECP_SUBTYPE.VDP, seq: 1, payload: new Uint8Array(0) } });
  });

  it('decodes the observed ACK, and the 18-byte ACK frame through Ethernet', () => {
    expect(parseEcp(ACK)).toEqual({ ok: true, value: { op: 'ack', subtype: 1, seq: 1, payload: new Uint8Array(0) } });
    const eth = parseEthernet(ACK_FRAME);
    expect(eth.ok && eth.value.ethertype).toBe(ETHERTYPE.ECP);
    if (!eth.ok) return;
    const ecp = parseEcp(eth.value.payload);
    expect(ecp.ok && ecp.value).toMatchObject({ op: 'ack', seq: 1 });
  });

  it('accepts an ACK padded to 60 bytes by a real NIC (payload = the padding)', () => {
    const frame = emitEthernet({ dst: '01:80:c2:00:00:00', src: 'e6:f1:20:5a:b0:e6', vlan: null, ethertype: ETHERTYPE.ECP, payload: ACK });
    const eth = parseEthernet(frame);
    if (!eth.ok) throw new Error(eth.reason);
    const ecp = parseEcp(eth.value.payload);
    expect(ecp.ok && ecp.value.op).toBe('ack');
    expect(ecp.ok && ecp.value.payload.length).toBe(42);
  });

  it('decodes PE CSP, other subtypes and the full 16-bit sequence', () => {
    expect(parseEcp(hex('1002 ffff'))).toMatchObject({ ok: true, value: { op: 'request', subtype: ECP_SUBTYPE.PECSP, seq: 0xffff } });
    expect(parseEcp(hex('17ff 8000 aa'))).toMatchObject({ ok: true, value: { op: 'ack', subtype: 0x3ff, seq: 0x8000 } });
  });

  it('emits the observed headers byte for byte', () => {
    expect(emitEcp({ op: 'request', subtype: ECP_SUBTYPE.VDP, seq: 1, payload: new Uint8Array(0) })).toEqual(REQ);
    expect(emitEcp({ op: 'ack', subtype: ECP_SUBTYPE.VDP, seq: 1, payload: new Uint8Array(0) })).toEqual(ACK);
    const withPayload = hex('1001 0002 0a10 626c');
    const r = parseEcp(withPayload);
    if (!r.ok) throw new Error(r.reason);
    expect(emitEcp(r.value)).toEqual(withPayload);
  });

  it('rejects every truncation of the header (the payload itself is opaque)', () => {
    for (let n = 0; n < 4; n++) {
      const r = parseEcp(REQ.subarray(0, n));
      expect(r, `cut at ${n}`).toMatchObject({ ok: false, layer: 'ecp' });
      if (!r.ok) expect(r.reason).toMatch(/shorter than 4/);
    }
  });

  it('rejects other versions and the unused operation types, with a reason', () => {
    expect(parseEcp(hex('0001 0001'))).toMatchObject({ ok: false, reason: 'version 0 is not 1' });
    expect(parseEcp(hex('2001 0001'))).toMatchObject({ ok: false, reason: 'version 2 is not 1' });
    expect(parseEcp(hex('1801 0001'))).toMatchObject({ ok: false, reason: expect.stringMatching(/operation type 2/) });
    expect(parseEcp(hex('1c01 0001'))).toMatchObject({ ok: false, reason: expect.stringMatching(/operation type 3/) });
  });

  it('refuses to emit an impossible repr', () => {
    const base: EcpRepr = { op: 'request', subtype: 1, seq: 1, payload: new Uint8Array(0) };
    expect(() => emitEcp({ ...base, subtype: 0x400 })).toThrow(EmitError);
    expect(() => emitEcp({ ...base, seq: 0x10000 })).toThrow(EmitError);
    expect(() => emitEcp({ ...base, seq: -1 })).toThrow(EmitError);
    expect(() => emitEcp({ ...base, op: 'nak' as 'ack' })).toThrow(EmitError);
  });

  it('property: random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(typeof parseEcp(b).ok).toBe('boolean');
    }));
  });

  it('property: mutations/truncations of a valid frame never throw; what parses re-emits identically', () => {
    const valid = hex('1001 0001 0a10 626c6162 6c61');
    fc.assert(fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length), (i, x, cut) => {
      const b = valid.slice();
      b[i] = x;
      for (const input of [b, b.subarray(0, cut)]) {
        const r = parseEcp(input);
        if (r.ok) expect(emitEcp(r.value)).toEqual(input); // ECP has no non-canonical encodings
      }
    }));
  });

  it('property: emit → parse round-trips any valid repr', () => {
    fc.assert(fc.property(ecpRepr, (r) => {
      expect(parseEcp(emitEcp(r))).toEqual({ ok: true, value: r });
    }));
  });
});
