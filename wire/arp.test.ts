import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARP_OP, ArpView, emitArp, parseArp, type ArpRepr } from './arp.js';
import { emitEthernet, ETHERTYPE, parseEthernet } from './ethernet.js';
import { fromHex, macAt } from './fields.js';
import { u32ToIp } from '../model/address.js';
import { EmitError } from './result.js';

const hex = (s: string): Uint8Array => fromHex(s)!;

// RFC 826 request "who has 10.0.0.2? tell 10.0.0.1" from 52:54:00:12:34:56
const REQUEST = hex('0001 0800 06 04 0001 525400123456 0a000001 000000000000 0a000002');
// RFC 903 reverse request: sender and target hardware = the asker, protocol addresses unknown
const RARP_REQUEST = hex('0001 0800 06 04 0003 525400abcdef 00000000 525400abcdef 00000000');

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macAt(b, 0));
const ip = fc.integer({ min: 0, max: 0xffffffff }).map(u32ToIp);
const arpRepr: fc.Arbitrary<ArpRepr> = fc.record({
  op: fc.constantFrom(...Object.values(ARP_OP)),
  senderMac: mac,
  senderIp: ip,
  targetMac: mac,
  targetIp: ip,
});

describe('arp', () => {
  it('decodes a hand-built ARP request field by field', () => {
    const v = new ArpView(REQUEST);
    expect(v.check()).toBeNull();
    expect([v.htype, v.ptype, v.hlen, v.plen, v.op]).toEqual([1, 0x0800, 6, 4, 1]);
    expect(parseArp(REQUEST)).toEqual({
      ok: true,
      value: { op: ARP_OP.REQUEST, senderMac: '52:54:00:12:34:56', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' },
    });
  });

  it('decodes a RARP request', () => {
    expect(parseArp(RARP_REQUEST)).toEqual({
      ok: true,
      value: { op: ARP_OP.RARP_REQUEST, senderMac: '52:54:00:ab:cd:ef', senderIp: '0.0.0.0', targetMac: '52:54:00:ab:cd:ef', targetIp: '0.0.0.0' },
    });
  });

  it('accepts Ethernet padding after the 28 bytes (a 60-byte broadcast ARP frame)', () => {
    const frame = emitEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:12:34:56', vlan: null, ethertype: ETHERTYPE.ARP, payload: REQUEST });
    expect(frame.length).toBe(60);
    const eth = parseEthernet(frame);
    expect(eth.ok).toBe(true);
    if (!eth.ok) return;
    expect(eth.value.payload.length).toBe(46);
    const arp = parseArp(eth.value.payload);
    expect(arp.ok && arp.value.targetIp).toBe('10.0.0.2');
  });

  it('emits the same bytes it parsed (canonical vectors)', () => {
    for (const v of [REQUEST, RARP_REQUEST]) {
      const r = parseArp(v);
      expect(r.ok).toBe(true);
      if (r.ok) expect(emitArp(r.value)).toEqual(v);
    }
  });

  it('rejects every truncation of a valid body', () => {
    for (let n = 0; n < REQUEST.length; n++) {
      const r = parseArp(REQUEST.subarray(0, n));
      expect(r, `cut at ${n}`).toMatchObject({ ok: false, layer: 'arp' });
      if (!r.ok) expect(r.reason).toMatch(/shorter than 28/);
    }
  });

  it('rejects anything but Ethernet/IPv4 and unknown operations, with a reason', () => {
    const cases: [number, number, RegExp][] = [
      [1, 0x06, /hardware type 6/], // IEEE 802
      [2, 0x86, /protocol type 0x86dd/], // with byte 3 = 0xdd below
      [4, 8, /hardware address length 8/],
      [5, 16, /protocol address length 16/],
      [7, 0, /operation 0/],
      [7, 8, /operation 8/], // InARP
    ];
    for (const [at, value, reason] of cases) {
      const b = REQUEST.slice();
      b[at] = value;
      if (at === 2) b[3] = 0xdd;
      const r = parseArp(b);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
  });

  it('refuses to emit an impossible repr', () => {
    const good = parseArp(REQUEST);
    if (!good.ok) throw new Error('vector');
    expect(() => emitArp({ ...good.value, op: 9 })).toThrow(EmitError);
    expect(() => emitArp({ ...good.value, senderMac: '52:54:00' })).toThrow(EmitError);
    expect(() => emitArp({ ...good.value, targetIp: '10.0.0.256' })).toThrow(EmitError);
  });

  it('property: random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(typeof parseArp(b).ok).toBe('boolean');
    }));
  });

  it('property: single-byte mutations and truncations of a valid body never throw; what parses re-emits', () => {
    fc.assert(fc.property(fc.nat(REQUEST.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(REQUEST.length), (i, x, cut) => {
      const b = REQUEST.slice();
      b[i] = x;
      for (const input of [b, b.subarray(0, cut)]) {
        const r = parseArp(input);
        if (r.ok) expect(parseArp(emitArp(r.value))).toEqual(r);
      }
    }));
  });

  it('property: emit → parse round-trips any valid repr', () => {
    fc.assert(fc.property(arpRepr, (r) => {
      const bytes = emitArp(r);
      expect(bytes.length).toBe(28);
      expect(parseArp(bytes)).toEqual({ ok: true, value: r });
    }));
  });
});
