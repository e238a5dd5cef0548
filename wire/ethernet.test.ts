import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitEthernet, ETHERTYPE, parseEthernet } from './ethernet.js';
import { fromHex } from './fields.js';

describe('ethernet', () => {
  it('decodes a hand-built 802.1Q-tagged frame', () => {
    // dst 01:80:c2:00:00:00, src 02:00:00:00:01:01, TPID 8100, PCP 5 DEI 0 VID 10, type 0800
    const bytes = fromHex('0180c2000000 020000000101 8100 a00a 0800 45')!;
    const r = parseEthernet(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ dst: '01:80:c2:00:00:00', src: '02:00:00:00:01:01', ethertype: ETHERTYPE.IPV4 });
    expect(r.value.vlan).toEqual({ pcp: 5, dei: false, vid: 10 });
    expect([...r.value.payload]).toEqual([0x45]);
  });

  it('round-trips (emit pads to 60 bytes, as a NIC does)', () => {
    const repr = { dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:09', vlan: null, ethertype: ETHERTYPE.ARP, payload: new Uint8Array(28).fill(7) };
    const bytes = emitEthernet(repr);
    expect(bytes.length).toBe(60);
    const back = parseEthernet(bytes);
    expect(back.ok && back.value.payload.subarray(0, 28)).toEqual(repr.payload);
  });

  it('rejects truncated and inconsistent frames with a reason', () => {
    expect(parseEthernet(new Uint8Array(13))).toMatchObject({ ok: false, layer: 'ethernet' });
    expect(parseEthernet(fromHex('0180c2000000020000000101 8100 a0')!)).toMatchObject({ ok: false, reason: 'truncated 802.1Q tag' });
    expect(parseEthernet(fromHex('0180c2000000020000000101 0040 00')!)).toMatchObject({ ok: false });
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      const r = parseEthernet(b);
      expect(typeof r.ok).toBe('boolean');
    }));
  });
});
