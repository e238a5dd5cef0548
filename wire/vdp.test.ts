import { TlvView } from './tlv.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ECP_SUBTYPE, emitEcp, parseEcp } from './ecp.js';
import { emitEthernet, ETHERTYPE, parseEthernet } from './ethernet.js';
import { fromHex, macAt } from './fields.js';
import { u32ToIp } from '../model/address.js';
import { EmitError } from './result.js';
import {
  ASSIST_SUBTYPE,
  decodeStatus,
  emitVdp,
  FILTER_FORMAT,
  formatManagerId,
  formatVsiId,
  managerIdFromText,
  MIGSIM_OUI,
  parseVdp,
  requestStatus,
  responseStatus,
  statusByte,
  VDP_ERROR,
  VSI_ID_FORMAT,
  vsiIdFromMac,
  VsiTlvView,
  type AssistRequest,
  type VdpFilter,
  type VdpMode,
  type VdpRepr,
  type VsiStatus,
  type VsiTlv,
} from './vdp.js';

const hex = (s: string): Uint8Array => fromHex(s)!;

// docs/protocols.md 2.5: the frame lldpad sent for
// `vdptool … -c mgrid2=blabla -c typeid=5 -c typeidver=4 -c uuid=a1412857-… -c hints=to -c filter=0-52:54:00:11:22:33`
const MGR_TLV = '0a10 626c61626c61 00000000000000000000';
const VSI_TLV = '0621 10 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400112233 0000';
const WORKED_FRAME = hex('0180c2000000 e6f1205ab0e6 8940' + '10010001' + MGR_TLV + VSI_TLV);
const WORKED_VDP = hex(MGR_TLV + VSI_TLV);
const UUID = hex('a141285760f74ce1e95a2164943f53aa');

function mustParse(b: Uint8Array): VdpRepr {
  const r = parseVdp(b);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function expectReject(b: Uint8Array, reason: RegExp): void {
  const r = parseVdp(b);
  expect(r.ok, reason.source).toBe(false);
  if (!r.ok) {
    expect(r.layer).toBe('vdp');
    expect(r.reason).toMatch(reason);
  }
}

/** A VSI TLV (type 3) with the worked example's fields and the given filter part (format, count, entries). */
function vsiHex(filterPart: string, type = '06', status = '00'): string {
  const body = hex(status + '000005 04 05 a141285760f74ce1e95a2164943f53aa' + filterPart);
  return type + body.length.toString(16).padStart(2, '0') + Buffer.from(body).toString('hex');
}

// ---- arbitraries -------------------------------------------------------------------------

const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macAt(b, 0));
const statusArb: fc.Arbitrary<VsiStatus> = fc.oneof(
  fc.record({ to: fc.boolean(), from: fc.boolean(), error: fc.integer({ min: 0, max: 15 }) })
    .map(({ to, from, error }) => ({ ...requestStatus({ migratedTo: to, migratedFrom: from }), error })),
  fc.record({ keep: fc.boolean(), hard: fc.boolean(), error: fc.integer({ min: 0, max: 15 }) })
    .map(({ keep, hard, error }) => responseStatus(error, { keep, hardError: hard })),
);
function filterArb(format: number): fc.Arbitrary<VdpFilter> {
  const hasMac = format === FILTER_FORMAT.MAC_VID || format === FILTER_FORMAT.GROUP_MAC_VID;
  const hasGroup = format === FILTER_FORMAT.GROUP_VID || format === FILTER_FORMAT.GROUP_MAC_VID;
  return fc.record({
    ps: fc.boolean(),
    pcp: fc.integer({ min: 0, max: 7 }),
    vid: fc.integer({ min: 0, max: 4095 }),
    mac: hasMac ? mac : fc.constant(null),
    groupId: hasGroup ? fc.integer({ min: 0, max: 0xffffffff }) : fc.constant(null),
  });
}
const vsiArb: fc.Arbitrary<VsiTlv> = fc.integer({ min: 1, max: 4 }).chain((filterFormat) =>
  fc.record({
    mode: fc.constantFrom<VdpMode>('preassoc', 'preassoc-rr', 'assoc', 'deassoc'),
    status: statusArb,
    typeId: fc.integer({ min: 0, max: 0xffffff }),
    typeVersion: fc.integer({ min: 0, max: 255 }),
    idFormat: fc.integer({ min: 1, max: 5 }),
    id: bytes16,
    filterFormat: fc.constant(filterFormat),
    filters: fc.array(filterArb(filterFormat), { maxLength: 5 }),
  }),
);
const assistArb: fc.Arbitrary<AssistRequest> = fc.record({
  idFormat: fc.integer({ min: 1, max: 5 }),
  id: bytes16,
  mac,
  ip: fc.integer({ min: 0, max: 0xffffffff }).map(u32ToIp),
  dhcp: fc.boolean(),
  igmp: fc.boolean(),
});
const orgArb = fc.record({ oui: fc.integer({ min: 0, max: 0xffffff }), data: fc.uint8Array({ maxLength: 20 }) })
  .filter((o) => !(o.oui === MIGSIM_OUI && o.data[0] === ASSIST_SUBTYPE));
const unknownArb = fc.record({ type: fc.integer({ min: 6, max: 126 }), value: fc.uint8Array({ maxLength: 20 }) });
const vdpArb: fc.Arbitrary<VdpRepr> = fc.record({
  managerId: bytes16,
  vsis: fc.array(vsiArb, { maxLength: 3 }),
  assists: fc.array(assistArb, { maxLength: 2 }),
  orgTlvs: fc.array(orgArb, { maxLength: 2 }),
  unknown: fc.array(unknownArb, { maxLength: 2 }),
});

// ---- tests ---------------------------------------------------------------------------------

describe('vdp: the worked example (protocols.md 2.5)', () => {
  it('parses Ethernet → ECP → VDP and every field matches', () => {
    expect(WORKED_FRAME.length).toBe(71);
    const eth = parseEthernet(WORKED_FRAME);
    if (!eth.ok) throw new Error(eth.reason);
    expect(eth.value).toMatchObject({ dst: '01:80:c2:00:00:00', src: 'e6:f1:20:5a:b0:e6', vlan: null, ethertype: ETHERTYPE.ECP });
    const ecp = parseEcp(eth.value.payload);
    if (!ecp.ok) throw new Error(ecp.reason);
    expect(ecp.value).toMatchObject({ op: 'request', subtype: ECP_SUBTYPE.VDP, seq: 1 });
    expect(ecp.value.payload.length).toBe(53);

    const vdp = mustParse(ecp.value.payload);
    expect(vdp.managerId).toEqual(managerIdFromText('blabla'));
    expect(formatManagerId(vdp.managerId)).toBe('blabla');
    expect(vdp.vsis).toHaveLength(1);
    const vsi = vdp.vsis[0]!;
    expect(vsi.mode).toBe('assoc');
    expect(statusByte(vsi.status)).toBe(0x10);
    expect(vsi.status).toEqual({ response: false, migratedFrom: false, migratedTo: true, keep: false, hardError: false, error: 0 });
    expect(vsi.typeId).toBe(5);
    expect(vsi.typeVersion).toBe(4);
    expect(vsi.idFormat).toBe(VSI_ID_FORMAT.UUID);
    expect(vsi.id).toEqual(UUID);
    expect(formatVsiId(vsi.idFormat, vsi.id)).toBe('a1412857-60f7-4ce1-e95a-2164943f53aa');
    expect(vsi.filterFormat).toBe(FILTER_FORMAT.MAC_VID);
    expect(vsi.filters).toEqual([{ ps: false, pcp: 0, vid: 0, mac: '52:54:00:11:22:33', groupId: null }]);
    expect(vdp.assists).toEqual([]);
    expect(vdp.orgTlvs).toEqual([]);
    expect(vdp.unknown).toEqual([]);
  });

  it('the views read the raw fields', () => {
    const t = new TlvView(hex(VSI_TLV));
    expect(t.check()).toBeNull();
    expect([t.type, t.length, t.totalLen]).toEqual([3, 33, 35]);
    const v = new VsiTlvView(t.value);
    expect(v.check()).toBeNull();
    expect([v.status, v.typeId, v.typeVersion, v.idFormat, v.filterFormat, v.count]).toEqual([0x10, 5, 4, 5, 2, 1]);
  });

  it('emits it back byte for byte: VDP, ECP and the 71-byte frame', () => {
    const eth = parseEthernet(WORKED_FRAME);
    if (!eth.ok) throw new Error(eth.reason);
    const ecp = parseEcp(eth.value.payload);
    if (!ecp.ok) throw new Error(ecp.reason);
    const vdpBytes = emitVdp(mustParse(ecp.value.payload));
    expect(vdpBytes).toEqual(WORKED_VDP);
    const frame = emitEthernet({ ...eth.value, payload: emitEcp({ ...ecp.value, payload: vdpBytes }) });
    expect(frame).toEqual(WORKED_FRAME);
  });

  it('builds the same payload from scratch with the helpers', () => {
    const repr: VdpRepr = {
      managerId: managerIdFromText('blabla'),
      vsis: [{
        mode: 'assoc', status: requestStatus({ migratedTo: true }), typeId: 5, typeVersion: 4,
        idFormat: VSI_ID_FORMAT.UUID, id: UUID, filterFormat: FILTER_FORMAT.MAC_VID,
        filters: [{ ps: false, pcp: 0, vid: 0, mac: '52:54:00:11:22:33', groupId: null }],
      }],
      assists: [], orgTlvs: [], unknown: [],
    };
    expect(emitVdp(repr)).toEqual(WORKED_VDP);
  });

  it('the bridge response (protocols.md 3.4) echoes the TLV with status 0x40', () => {
    const req = mustParse(WORKED_VDP);
    const vsi = req.vsis[0]!;
    const resp = emitVdp({ ...req, vsis: [{ ...vsi, status: responseStatus(VDP_ERROR.SUCCESS), filters: [{ ...vsi.filters[0]!, vid: 100 }] }] });
    expect(resp).toEqual(hex(MGR_TLV + VSI_TLV.replace('0621 10', '0621 40').replace(/0000$/, '0064')));
  });

  it('rejects every truncation except the one at the TLV boundary, which is a shorter valid payload', () => {
    // No length field and no End TLV: a cut right after the Manager-ID TLV is indistinguishable
    // from a payload that carries only a Manager-ID (the bridge decides what that means).
    for (let n = 0; n < WORKED_VDP.length; n++) {
      const r = parseVdp(WORKED_VDP.subarray(0, n));
      if (n === 18) {
        expect(r.ok && r.value.vsis).toEqual([]);
        continue;
      }
      expect(r, `cut at ${n}`).toMatchObject({ ok: false, layer: 'vdp' });
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('vdp: status byte (protocols.md 2.3)', () => {
  it('decodes by direction', () => {
    const none = { response: false, migratedFrom: false, migratedTo: false, keep: false, hardError: false, error: 0 };
    expect(decodeStatus(0x00)).toEqual(none);
    expect(decodeStatus(0x10)).toEqual({ ...none, migratedTo: true });
    expect(decodeStatus(0x20)).toEqual({ ...none, migratedFrom: true });
    expect(decodeStatus(0x03)).toEqual({ ...none, error: 3 }); // reserved nibble, passed through
    expect(decodeStatus(0x40)).toEqual({ ...none, response: true });
    expect(decodeStatus(0x45)).toEqual({ ...none, response: true, error: VDP_ERROR.INVALID_VID_GROUP_MAC });
    expect(decodeStatus(0x60)).toEqual({ ...none, response: true, keep: true });
    expect(decodeStatus(0x72)).toEqual({ ...none, response: true, keep: true, hardError: true, error: 2 });
    expect(decodeStatus(0x90)).toEqual({ ...none, migratedTo: true }); // reserved 0x80 ignored
  });

  it('encodes with the constructors, and every byte without 0x80 round-trips', () => {
    expect(statusByte(requestStatus({}))).toBe(0x00);
    expect(statusByte(requestStatus({ migratedTo: true }))).toBe(0x10);
    expect(statusByte(requestStatus({ migratedFrom: true }))).toBe(0x20);
    expect(statusByte(responseStatus(0))).toBe(0x40);
    expect(statusByte(responseStatus(VDP_ERROR.INSUFFICIENT_RESOURCES, { keep: true }))).toBe(0x62);
    expect(statusByte(responseStatus(VDP_ERROR.OTHER_FAILURE, { hardError: true }))).toBe(0x54);
    for (let b = 0; b < 0x80; b++) expect(statusByte(decodeStatus(b))).toBe(b);
  });

  it('refuses flags of the other direction and out-of-range errors', () => {
    expect(() => statusByte({ ...responseStatus(0), migratedTo: true })).toThrow(EmitError);
    expect(() => statusByte({ ...responseStatus(0), migratedFrom: true })).toThrow(EmitError);
    expect(() => statusByte({ ...requestStatus({}), keep: true })).toThrow(EmitError);
    expect(() => statusByte({ ...requestStatus({}), hardError: true })).toThrow(EmitError);
    expect(() => statusByte(responseStatus(16))).toThrow(EmitError);
    expect(() => statusByte(responseStatus(-1))).toThrow(EmitError);
  });
});

describe('vdp: TLVs', () => {
  it('decodes the PS/PCP/VID word with 0x8000/0x7000/0x0FFF, and every filter format (protocols.md 2.4)', () => {
    const v1 = mustParse(hex(MGR_TLV + vsiHex('01 0002 b00a 0fff')));
    expect(v1.vsis[0]!.filters).toEqual([
      { ps: true, pcp: 3, vid: 10, mac: null, groupId: null },
      { ps: false, pcp: 0, vid: 4095, mac: null, groupId: null },
    ]);
    const v3 = mustParse(hex(MGR_TLV + vsiHex('03 0001 000000c8 7002')));
    expect(v3.vsis[0]!.filters).toEqual([{ ps: false, pcp: 7, vid: 2, mac: null, groupId: 200 }]);
    const v4 = mustParse(hex(MGR_TLV + vsiHex('04 0001 ffffffff 525400aabbcc 8064')));
    expect(v4.vsis[0]!.filters).toEqual([{ ps: true, pcp: 0, vid: 100, mac: '52:54:00:aa:bb:cc', groupId: 0xffffffff }]);
    for (const v of [v1, v3, v4]) expect(parseVdp(emitVdp(v))).toEqual({ ok: true, value: v });
  });

  it('maps the four VSI TLV types to modes and accepts zero entries (the bridge decides)', () => {
    const modes: [string, VdpMode][] = [['02', 'preassoc'], ['04', 'preassoc-rr'], ['06', 'assoc'], ['08', 'deassoc']];
    for (const [type, mode] of modes) {
      const r = mustParse(hex(MGR_TLV + vsiHex('02 0000', type)));
      expect(r.vsis[0]).toMatchObject({ mode, filters: [] });
    }
  });

  it('decodes our assist TLV (layout at the top of vdp.ts)', () => {
    const assist = 'fe20 026d73 01 03 00000000000000000000 525400112233 525400112233 0a4d0064 03';
    const r = mustParse(hex(MGR_TLV + VSI_TLV + assist));
    expect(r.assists).toEqual([{
      idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac('52:54:00:11:22:33'), mac: '52:54:00:11:22:33', ip: '10.77.0.100', dhcp: true, igmp: true,
    }]);
    expect(r.orgTlvs).toEqual([]);
    expect(emitVdp(r)).toEqual(hex(MGR_TLV + VSI_TLV + assist));
    // only dhcp; reserved flag bits ignored
    const only = mustParse(hex(MGR_TLV + assist.replace(/03$/, 'f1')));
    expect(only.assists[0]).toMatchObject({ dhcp: true, igmp: false });
  });

  it('keeps other org TLVs and unknown TLVs, and stops at End/padding', () => {
    const r = mustParse(hex(MGR_TLV + '1202 abcd' + 'fe05 0080c2 aabb' + 'fe04 026d73 02' + VSI_TLV + '0000 ffff ffff'));
    expect(r.unknown).toEqual([{ type: 9, value: hex('abcd') }]);
    expect(r.orgTlvs).toEqual([{ oui: 0x0080c2, data: hex('aabb') }, { oui: MIGSIM_OUI, data: hex('02') }]);
    expect(r.vsis).toHaveLength(1);
    // a lone trailing zero byte is padding, not a truncated header
    expect(mustParse(hex(MGR_TLV + VSI_TLV + '00')).vsis).toHaveLength(1);
    // the zero padding a 60-byte frame adds after a lone Manager-ID TLV
    expect(mustParse(hex(MGR_TLV + '00'.repeat(24))).vsis).toEqual([]);
    // the canonical emit order puts unknown TLVs last
    expect(emitVdp(r)).toEqual(hex(MGR_TLV + VSI_TLV + 'fe05 0080c2 aabb' + 'fe04 026d73 02' + '1202 abcd'));
  });

  it('rejects a missing, misplaced, duplicate or malformed Manager-ID', () => {
    expectReject(new Uint8Array(0), /empty VDP payload/);
    expectReject(hex('0000 0000'), /no VSI Manager ID/);
    expectReject(hex(VSI_TLV + MGR_TLV), /first TLV is type 3, not the VSI Manager ID/);
    expectReject(hex('1202 abcd' + MGR_TLV), /first TLV is type 9/);
    expectReject(hex(MGR_TLV + VSI_TLV + MGR_TLV), /duplicate VSI Manager ID TLV at offset 53/);
    expectReject(hex('0a0f 626c61626c61 000000000000000000'), /Manager ID TLV length 15 is not 16/);
    expectReject(hex('0a11 626c61626c61 0000000000000000000000'), /Manager ID TLV length 17 is not 16/);
  });

  it('rejects inconsistent VSI TLVs with a reason', () => {
    expectReject(hex(MGR_TLV + '0622' + VSI_TLV.slice(5)), /length 34 runs past the end/);
    expectReject(hex(MGR_TLV + vsiHex('02 0002 525400112233 0000')), /does not match 2 entries of 8 bytes \(expected 41\)/);
    expectReject(hex(MGR_TLV + vsiHex('02 0000 525400112233 0000')), /does not match 0 entries/);
    expectReject(hex(MGR_TLV + vsiHex('01 0001 0001 00')), /length 28 does not match 1 entries of 2 bytes/);
    expectReject(hex(MGR_TLV + vsiHex('00 0000')), /filter info format 0 is not 1..4/);
    expectReject(hex(MGR_TLV + vsiHex('05 0000')), /filter info format 5 is not 1..4/);
    expectReject(hex(MGR_TLV + '0618' + '00'.repeat(24)), /VSI TLV length 24 is shorter than 25/);
    expectReject(hex(MGR_TLV + VSI_TLV.replace('04 05 a1', '04 06 a1')), /VSI ID format 6 is not 1..5/);
    expectReject(hex(MGR_TLV + VSI_TLV.replace('04 05 a1', '04 00 a1')), /VSI ID format 0 is not 1..5/);
  });

  it('rejects malformed org TLVs and truncated headers with a reason', () => {
    expectReject(hex(MGR_TLV + 'fe02 0080'), /organizationally defined TLV length 2 is shorter than 3/);
    expectReject(hex(MGR_TLV + 'fe1f 026d73 01 03' + '00'.repeat(26)), /assist TLV length 31 is not 32/);
    expectReject(hex(MGR_TLV + 'fe20 026d73 01 09' + '00'.repeat(27)), /assist VSI ID format 9/);
    expectReject(hex(MGR_TLV + '06'), /truncated TLV header/);
    expectReject(hex(MGR_TLV + '1210 abcd'), /TLV type 9 length 16 runs past the end/);
  });

  it('refuses to emit an impossible repr', () => {
    const good = mustParse(WORKED_VDP);
    const vsi = good.vsis[0]!;
    const f = vsi.filters[0]!;
    const bad = (patch: Partial<VsiTlv>): VdpRepr => ({ ...good, vsis: [{ ...vsi, ...patch }] });
    expect(() => emitVdp({ ...good, managerId: new Uint8Array(15) })).toThrow(EmitError);
    expect(() => emitVdp(bad({ status: { ...responseStatus(0), migratedTo: true } }))).toThrow(/request flags/);
    expect(() => emitVdp(bad({ status: { ...requestStatus({}), keep: true } }))).toThrow(/response flags/);
    expect(() => emitVdp(bad({ mode: 'bogus' as VdpMode }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ typeId: 0x1000000 }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ typeVersion: 256 }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ idFormat: 6 }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ id: new Uint8Array(6) }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ filterFormat: 5 }))).toThrow(EmitError);
    expect(() => emitVdp(bad({ filters: [{ ...f, vid: 4096 }] }))).toThrow(/VID 4096/);
    expect(() => emitVdp(bad({ filters: [{ ...f, pcp: 8 }] }))).toThrow(/PCP 8/);
    expect(() => emitVdp(bad({ filters: [{ ...f, mac: null }] }))).toThrow(/needs a MAC/);
    expect(() => emitVdp(bad({ filters: [{ ...f, mac: 'nope' }] }))).toThrow(/not a MAC/);
    expect(() => emitVdp(bad({ filters: [{ ...f, groupId: 7 }] }))).toThrow(/format 2 must not carry a group ID/);
    expect(() => emitVdp(bad({ filterFormat: 1 }))).toThrow(/format 1 must not carry a MAC/);
    expect(emitVdp(bad({ filters: Array(60).fill(f) })).length).toBe(18 + 2 + 25 + 480); // length 505 fits 9 bits
    expect(() => emitVdp(bad({ filters: Array(61).fill(f) }))).toThrow(/do not fit one TLV/);
    const assist: AssistRequest = { idFormat: 3, id: vsiIdFromMac('52:54:00:11:22:33'), mac: '52:54:00:11:22:33', ip: '0.0.0.0', dhcp: true, igmp: false };
    expect(() => emitVdp({ ...good, assists: [{ ...assist, ip: 'x' }] })).toThrow(EmitError);
    expect(() => emitVdp({ ...good, assists: [{ ...assist, idFormat: 0 }] })).toThrow(EmitError);
    expect(() => emitVdp({ ...good, orgTlvs: [{ oui: MIGSIM_OUI, data: hex('01') }] })).toThrow(/belongs in `assists`/);
    expect(() => emitVdp({ ...good, orgTlvs: [{ oui: 0x1000000, data: hex('01') }] })).toThrow(EmitError);
    expect(() => emitVdp({ ...good, unknown: [{ type: 3, value: hex('01') }] })).toThrow(EmitError);
    expect(() => emitVdp({ ...good, unknown: [{ type: 127, value: hex('01') }] })).toThrow(EmitError);
  });
});

describe('vdp: helpers', () => {
  it('vsiIdFromMac and formatVsiId for every format', () => {
    const id = vsiIdFromMac('52:54:00:11:22:33');
    expect(id).toEqual(hex('00000000000000000000 525400112233'));
    expect(formatVsiId(VSI_ID_FORMAT.MAC, id)).toBe('52:54:00:11:22:33');
    expect(formatVsiId(VSI_ID_FORMAT.UUID, UUID)).toBe('a1412857-60f7-4ce1-e95a-2164943f53aa');
    expect(formatVsiId(VSI_ID_FORMAT.IPV4, hex('00000000000000000000 ffff 0a4d0064'))).toBe('10.77.0.100');
    expect(formatVsiId(VSI_ID_FORMAT.IPV4, UUID)).toBe('a141285760f74ce1e95a2164943f53aa');
    expect(formatVsiId(VSI_ID_FORMAT.MAC, UUID)).toBe('a141285760f74ce1e95a2164943f53aa');
    expect(formatVsiId(VSI_ID_FORMAT.IPV6, UUID)).toBe('a141285760f74ce1e95a2164943f53aa');
    expect(formatVsiId(VSI_ID_FORMAT.LOCAL, UUID)).toBe('a141285760f74ce1e95a2164943f53aa');
    expect(formatVsiId(VSI_ID_FORMAT.UUID, hex('0102'))).toBe('0102');
  });

  it('managerIdFromText zero-pads ASCII to 16 bytes (lldpad mgrid2)', () => {
    expect(managerIdFromText('blabla')).toEqual(hex('626c61626c61 00000000000000000000'));
    expect(managerIdFromText('0123456789abcdef')).toHaveLength(16);
    expect(() => managerIdFromText('0123456789abcdefg')).toThrow(RangeError);
    expect(() => managerIdFromText('bläbla')).toThrow(RangeError);
    expect(formatManagerId(managerIdFromText('mgr-1'))).toBe('mgr-1');
    expect(formatManagerId(UUID)).toBe('a141285760f74ce1e95a2164943f53aa');
    expect(formatManagerId(new Uint8Array(16))).toBe('00'.repeat(16));
  });
});

describe('vdp: properties', () => {
  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      expect(typeof parseVdp(b).ok).toBe('boolean');
    }));
    // and with a valid Manager-ID in front, so the random part reaches the TLV decoders
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      const input = new Uint8Array([...hex(MGR_TLV), ...b]);
      expect(typeof parseVdp(input).ok).toBe('boolean');
    }));
  });

  it('mutations/truncations of valid payloads never throw; what parses is emittable and stable', () => {
    const assist = 'fe20 026d73 01 03 00000000000000000000 525400112233 525400112233 0a4d0064 03';
    const vectors = [WORKED_VDP, hex(MGR_TLV + vsiHex('04 0001 ffffffff 525400aabbcc 8064') + assist + 'fe05 0080c2 aabb' + '1202 abcd')];
    fc.assert(fc.property(fc.constantFrom(...vectors), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (v, i, x, cut) => {
      const b = v.slice();
      b[i % b.length] = x;
      for (const input of [b, v.subarray(0, cut % (v.length + 1))]) {
        const r = parseVdp(input);
        if (r.ok) expect(parseVdp(emitVdp(r.value))).toEqual(r);
      }
    }), { numRuns: 500 });
  });

  it('emit → parse round-trips any valid repr', () => {
    fc.assert(fc.property(vdpArb, (r) => {
      expect(parseVdp(emitVdp(r))).toEqual({ ok: true, value: r });
    }));
  });
});
