import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arpFrame, igmpFrame, udpFrame } from './compose.js';
import { decodeFrame, type DecodedFrame, type DecodedLayer } from './decode.js';
import { DHCP, emitDhcp, emptyDhcpOptions } from './dhcp.js';
import { ECP_SUBTYPE, emitEcp } from './ecp.js';
import { emitEthernet, ETHERTYPE } from './ethernet.js';
import { fromHex, put16 } from './fields.js';
import { IGMP_RECORD } from './igmp.js';
import { emitLldp, EVB_MODE } from './lldp.js';
import { emitVdp, managerIdFromText, requestStatus, responseStatus, VSI_ID_FORMAT, vsiIdFromMac, FILTER_FORMAT } from './vdp.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

// docs/protocols.md 2.5, byte for byte: lldpad's associate with hints=to (the M-bit), 71 bytes.
const WORKED = hex(
  '0180c2000000 e6f1205ab0e6 8940' + // dst, src, type
    '10 01 00 01' + // ECP v1, REQ, subtype VDP, seq 1
    '0a 10 626c61626c61 00000000000000000000' + // Manager ID "blabla"
    '06 21 10 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400112233 0000', // Associate, len 33
);
// The station's ECP ACK for the bridge's response (18 bytes, not padded).
const ACK = hex('0180c2000000 e6f1205ab0e6 8940 14 01 00 01');

function layer(f: DecodedFrame, name: string): DecodedLayer {
  const l = f.layers.find((x) => x.layer === name);
  if (!l) throw new Error(`no ${name} layer in ${JSON.stringify(f)}`);
  return l;
}

const names = (f: DecodedFrame): string[] => f.layers.map((l) => l.layer);

describe('decodeFrame: the docs/protocols.md 2.5 worked example', () => {
  it('decodes all three layers, every field', () => {
    expect(WORKED.length).toBe(71);
    expect(decodeFrame(WORKED)).toEqual({
      length: 71,
      layers: [
        { layer: 'ethernet', dst: '01:80:c2:00:00:00', src: 'e6:f1:20:5a:b0:e6', vlan: null, ethertype: '0x8940', ethertypeName: 'ECP' },
        { layer: 'ecp', version: 1, op: 'request', subtype: 'VDP', subtypeCode: 1, seq: 1 },
        {
          layer: 'vdp',
          managerId: 'blabla',
          vsis: [
            {
              mode: 'assoc',
              status: { response: false, migratedFrom: false, migratedTo: true, keep: false, hardError: false, error: 0, errorName: null },
              typeId: 5,
              typeVersion: 4,
              idFormat: 'UUID',
              id: 'a1412857-60f7-4ce1-e95a-2164943f53aa',
              filterFormat: 'MAC/VID',
              filters: [{ ps: false, pcp: 0, vid: 0, mac: '52:54:00:11:22:33', groupId: null }],
            },
          ],
          assists: [],
          orgTlvs: [],
          unknown: [],
        },
      ],
      error: null,
    });
  });

  it('a bridge response with an assist request, padded to 60 bytes: response flags and the assist by name', () => {
    const payload = emitVdp({
      managerId: managerIdFromText('migsim'),
      vsis: [{
        mode: 'assoc', status: responseStatus(4, { keep: true }), typeId: 100, typeVersion: 1, idFormat: VSI_ID_FORMAT.MAC,
        id: vsiIdFromMac('02:00:00:00:01:01'), filterFormat: FILTER_FORMAT.VID, filters: [{ ps: true, pcp: 5, vid: 10, mac: null, groupId: null }],
      }],
      assists: [{ idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac('02:00:00:00:01:01'), mac: '02:00:00:00:01:01', ip: '10.77.0.100', dhcp: true, igmp: false }],
      orgTlvs: [{ oui: 0x0080c2, data: hex('0102') }],
      unknown: [{ type: 9, value: hex('abcd') }],
    });
    const frame = emitEthernet({
      dst: '01:80:c2:00:00:00', src: '02:5e:00:00:00:fe', vlan: null, ethertype: ETHERTYPE.ECP,
      payload: emitEcp({ op: 'request', subtype: ECP_SUBTYPE.VDP, seq: 7, payload }),
    });
    const d = decodeFrame(frame);
    expect(d.error).toBeNull();
    const v = layer(d, 'vdp');
    expect(v.managerId).toBe('migsim');
    expect(v.vsis).toEqual([{
      mode: 'assoc',
      status: { response: true, migratedFrom: false, migratedTo: false, keep: true, hardError: false, error: 4, errorName: 'other failure' },
      typeId: 100, typeVersion: 1, idFormat: 'MAC', id: '02:00:00:00:01:01', filterFormat: 'VID',
      filters: [{ ps: true, pcp: 5, vid: 10, mac: null, groupId: null }],
    }]);
    expect(v.assists).toEqual([{ idFormat: 'MAC', id: '02:00:00:00:01:01', mac: '02:00:00:00:01:01', ip: '10.77.0.100', dhcp: true, igmp: false }]);
    expect(v.orgTlvs).toEqual([{ oui: '00-80-c2', hex: '0102' }]);
    expect(v.unknown).toEqual([{ type: 9, hex: 'abcd' }]);
  });
});

describe('decodeFrame: ECP', () => {
  it('an 18-byte ACK: Ethernet and ECP, nothing after', () => {
    expect(decodeFrame(ACK)).toEqual({
      length: 18,
      layers: [
        { layer: 'ethernet', dst: '01:80:c2:00:00:00', src: 'e6:f1:20:5a:b0:e6', vlan: null, ethertype: '0x8940', ethertypeName: 'ECP' },
        { layer: 'ecp', version: 1, op: 'ack', subtype: 'VDP', subtypeCode: 1, seq: 1 },
      ],
      error: null,
    });
  });

  it('an ACK padded to 60 bytes shows the padding as raw bytes, not as VDP', () => {
    const padded = new Uint8Array(60);
    padded.set(ACK);
    const d = decodeFrame(padded);
    expect(d.error).toBeNull();
    expect(names(d)).toEqual(['ethernet', 'ecp', 'raw']);
    expect(layer(d, 'raw')).toEqual({ layer: 'raw', length: 42, hex: '00'.repeat(42), note: 'padding' });
  });

  it('a request of another subtype is not VDP', () => {
    const d = decodeFrame(hex('0180c2000000 e6f1205ab0e6 8940 10 02 00 05 aabb'));
    expect(layer(d, 'ecp')).toMatchObject({ op: 'request', subtype: 'PECSP', subtypeCode: 2, seq: 5 });
    expect(layer(d, 'raw')).toMatchObject({ hex: 'aabb' });
  });

  it('a truncated VSI TLV: error in the vdp layer, Ethernet and ECP still shown', () => {
    const cut = WORKED.subarray(0, WORKED.length - 4);
    const d = decodeFrame(cut);
    expect(d.length).toBe(67);
    expect(names(d)).toEqual(['ethernet', 'ecp']);
    expect(d.error?.layer).toBe('vdp');
    expect(d.error?.reason).toMatch(/TLV type 3 length 33 runs past the end/);
  });

  it('an ECP header of another version: error in the ecp layer', () => {
    const bad = WORKED.slice();
    bad[14] = 0x20;
    const d = decodeFrame(bad);
    expect(names(d)).toEqual(['ethernet']);
    expect(d.error).toEqual({ layer: 'ecp', reason: 'version 2 is not 1' });
  });
});

describe('decodeFrame: DHCP', () => {
  it('a DHCPLEASEACTIVE (ISC dhcpd 4.4, docs/protocols.md 4.3) to giaddr:67: type and options by name', () => {
    const options = emptyDhcpOptions();
    options.messageType = DHCP.LEASEACTIVE;
    options.serverId = '10.77.0.1';
    options.leaseTime = 595;
    options.renewalTime = 295;
    options.rebindingTime = 520;
    options.clientLastTransactionTime = 5;
    options.clientId = hex('01525400770001');
    options.other = [{ code: 60, data: ascii('udhcp 1.36.1') }];
    const msg = emitDhcp({
      op: 2, htype: 1, hlen: 6, hops: 0, xid: 0x4c510001, secs: 0, broadcast: false,
      ciaddr: '10.77.0.100', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '10.77.0.2', chaddr: '52:54:00:77:00:01', sname: '', file: '', options,
    });
    const frame = udpFrame({ srcMac: '02:d0:00:00:00:01', dstMac: '02:5e:00:00:00:fe', srcIp: '10.77.0.1', dstIp: '10.77.0.2', srcPort: 67, dstPort: 67, payload: msg });
    const d = decodeFrame(frame);
    expect(d.error).toBeNull();
    expect(names(d)).toEqual(['ethernet', 'ipv4', 'udp', 'dhcp']);
    expect(layer(d, 'ipv4')).toMatchObject({ protocol: 17, protocolName: 'UDP', src: '10.77.0.1', dst: '10.77.0.2', ttl: 64, headerLength: 20, trailer: 0, routerAlert: false });
    expect(layer(d, 'udp')).toMatchObject({ srcPort: 67, dstPort: 67, length: 8 + msg.length });
    expect(layer(d, 'dhcp')).toEqual({
      layer: 'dhcp',
      op: 'BOOTREPLY',
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: '0x4c510001',
      secs: 0,
      broadcast: false,
      ciaddr: '10.77.0.100',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '10.77.0.2',
      chaddr: '52:54:00:77:00:01',
      sname: '',
      file: '',
      messageType: 'DHCPLEASEACTIVE',
      messageTypeCode: 13,
      options: {
        leaseTime: 595,
        serverId: '10.77.0.1',
        renewalTime: 295,
        rebindingTime: 520,
        clientId: '01525400770001',
        clientLastTransactionTime: 5,
        vendorClassId: 'udhcp 1.36.1',
      },
    });
  });

  it('a DHCPREQUEST with a parameter request list, relay info and an unnamed option', () => {
    const options = emptyDhcpOptions();
    options.messageType = DHCP.REQUEST;
    options.paramRequestList = [1, 3, 6, 51, 200];
    options.relayAgentInfo = { circuitId: hex('0004'), remoteId: null, other: [{ code: 9, data: hex('aa') }] };
    options.other = [{ code: 6, data: hex('0a000001 0a000002') }, { code: 200, data: hex('beef') }];
    const msg = emitDhcp({
      op: 1, htype: 1, hlen: 6, hops: 1, xid: 7, secs: 3, broadcast: true,
      ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:00:01:01', sname: 'srv', file: 'boot', options,
    });
    const d = decodeFrame(udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: msg }));
    expect(layer(d, 'dhcp')).toMatchObject({
      op: 'BOOTREQUEST', hops: 1, xid: '0x00000007', secs: 3, broadcast: true, sname: 'srv', file: 'boot', messageType: 'DHCPREQUEST',
      options: {
        paramRequestList: ['subnetMask', 'routers', 'domainNameServers', 'leaseTime', 'option200'],
        relayAgentInfo: { circuitId: '0004', remoteId: null, other: [{ code: 9, hex: 'aa' }] },
        domainNameServers: ['10.0.0.1', '10.0.0.2'],
        option200: 'beef',
      },
    });
  });

  it('a broken DHCP message on port 67: error in the dhcp layer, UDP still shown', () => {
    const d = decodeFrame(udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: new Uint8Array(20) }));
    expect(names(d)).toEqual(['ethernet', 'ipv4', 'udp']);
    expect(d.error).toEqual({ layer: 'dhcp', reason: 'DHCP message of 20 bytes is shorter than 240' });
  });

  it('UDP to another port stops with the payload as raw hex', () => {
    const d = decodeFrame(udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: '02:d0:00:00:00:01', srcIp: '10.77.0.100', dstIp: '10.77.0.1', srcPort: 5555, dstPort: 9, payload: hex('01020304') }));
    expect(names(d)).toEqual(['ethernet', 'ipv4', 'udp', 'raw']);
    expect(layer(d, 'raw')).toEqual({ layer: 'raw', length: 4, hex: '01020304' });
    // 60-byte minimum frame: 14 + 20 + 8 + 4 = 46, so 14 bytes of Ethernet padding after the IPv4 packet
    expect(layer(d, 'ipv4').trailer).toBe(14);
  });
});

describe('decodeFrame: IGMP, ARP, LLDP, the rest', () => {
  it('an IGMPv3 report: records by kind and type name, IPv4 with Router Alert and TTL 1', () => {
    const frame = igmpFrame({
      srcMac: '02:00:00:00:01:01', dstMac: '01:00:5e:00:00:16', srcIp: '10.77.0.100', dstIp: '224.0.0.22',
      igmp: {
        kind: 'v3report',
        records: [
          { type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) },
          { type: IGMP_RECORD.ALLOW, group: '239.2.2.2', sources: ['10.0.0.1'], auxData: hex('01020304') },
        ],
      },
    });
    const d = decodeFrame(frame);
    expect(d.error).toBeNull();
    expect(names(d)).toEqual(['ethernet', 'ipv4', 'igmp']);
    expect(layer(d, 'ipv4')).toMatchObject({ protocol: 2, protocolName: 'IGMP', ttl: 1, dscp: 0x30, routerAlert: true, options: '94040000', headerLength: 24, dontFragment: true });
    const g = layer(d, 'igmp');
    expect(g).toMatchObject({ type: '0x22', typeName: 'v3 membership report', kind: 'v3report' });
    expect(g.checksum).toMatch(/^0x[0-9a-f]{4}$/);
    expect(g.records).toEqual([
      { type: 4, typeName: 'CHANGE_TO_EXCLUDE_MODE', group: '239.1.1.1', sources: [], auxData: '' },
      { type: 5, typeName: 'ALLOW_NEW_SOURCES', group: '239.2.2.2', sources: ['10.0.0.1'], auxData: '01020304' },
    ]);
  });

  it('an IGMPv3 group-specific query', () => {
    const d = decodeFrame(igmpFrame({
      srcMac: '02:5e:00:00:00:fe', dstMac: '02:00:00:00:01:01', srcIp: '10.77.0.254', dstIp: '239.1.1.1',
      igmp: { kind: 'query', version: 3, group: '239.1.1.1', maxRespDs: 1, suppress: false, qrv: 2, qqicSeconds: 125, sources: [] },
    }));
    expect(layer(d, 'igmp')).toMatchObject({ kind: 'query', version: 3, group: '239.1.1.1', general: false, maxRespCode: 1, maxRespDs: 1, qrv: 2, qqicSeconds: 125, sources: [] });
  });

  it('a bad IPv4 header checksum: error in the ipv4 layer', () => {
    const frame = udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: '02:d0:00:00:00:01', srcIp: '10.77.0.100', dstIp: '10.77.0.1', srcPort: 1, dstPort: 2, payload: new Uint8Array(4) });
    put16(frame, 24, 0);
    const d = decodeFrame(frame);
    expect(names(d)).toEqual(['ethernet']);
    expect(d.error).toEqual({ layer: 'ipv4', reason: 'IPv4 header checksum mismatch' });
  });

  it('a QEMU announce RARP and an ARP request, in an 802.1Q tag', () => {
    const rarp = decodeFrame(arpFrame('ff:ff:ff:ff:ff:ff', { op: 3, senderMac: '52:54:00:11:22:33', senderIp: '0.0.0.0', targetMac: '52:54:00:11:22:33', targetIp: '0.0.0.0' }, ETHERTYPE.RARP));
    expect(layer(rarp, 'ethernet')).toMatchObject({ ethertype: '0x8035', ethertypeName: 'RARP' });
    expect(layer(rarp, 'arp')).toEqual({ layer: 'arp', op: 3, opName: 'RARP request', senderMac: '52:54:00:11:22:33', senderIp: '0.0.0.0', targetMac: '52:54:00:11:22:33', targetIp: '0.0.0.0' });
    const tagged = emitEthernet({
      dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:01:01', vlan: { pcp: 3, dei: true, vid: 10 }, ethertype: ETHERTYPE.ARP,
      payload: hex('0001 0800 06 04 0001 020000000101 0a4d0064 000000000000 0a4d00fe'),
    });
    const d = decodeFrame(tagged);
    expect(layer(d, 'ethernet')).toMatchObject({ vlan: { pcp: 3, dei: true, vid: 10 }, ethertype: '0x0806', ethertypeName: 'ARP' });
    expect(layer(d, 'arp')).toMatchObject({ opName: 'request', senderIp: '10.77.0.100', targetIp: '10.77.0.254' });
  });

  it('an LLDPDU with the EVB TLV and a system name', () => {
    const lldp = emitLldp({
      chassisId: { subtype: 4, value: hex('025e000000fe') },
      portId: { subtype: 5, value: ascii('h1') },
      ttl: 120,
      evb: {
        bridge: { bgid: false, rrcap: true, rrctr: false }, station: { sgid: false, rrreq: false, rrstat: 0 },
        retries: 3, rte: 14, mode: EVB_MODE.BRIDGE, rolRwd: false, rwd: 20, rolRka: false, rka: 20,
      },
      other: [{ type: 5, value: ascii('migsim') }],
    });
    const d = decodeFrame(emitEthernet({ dst: '01:80:c2:00:00:00', src: '02:5e:00:00:00:fe', vlan: null, ethertype: ETHERTYPE.LLDP, payload: lldp }));
    expect(d.error).toBeNull();
    expect(layer(d, 'lldp')).toEqual({
      layer: 'lldp',
      chassisId: { subtype: 4, subtypeName: 'MAC address', id: '02:5e:00:00:00:fe', hex: '025e000000fe' },
      portId: { subtype: 5, subtypeName: 'interface name', id: 'h1', hex: '6831' },
      ttl: 120,
      evb: {
        bridge: { bgid: false, rrcap: true, rrctr: false }, station: { sgid: false, rrreq: false, rrstat: 0 },
        retries: 3, rte: 14, mode: 1, modeName: 'bridge', rolRwd: false, rwd: 20, rolRka: false, rka: 20,
      },
      other: [{ type: 5, name: 'systemName', hex: '6d696773696d', text: 'migsim' }],
    });
  });

  it('another EtherType stops with the payload as raw hex; a short frame is an Ethernet error', () => {
    const d = decodeFrame(hex('ffffffffffff 020000000101 86dd 6000'));
    expect(layer(d, 'ethernet')).toMatchObject({ ethertype: '0x86dd', ethertypeName: 'IPv6' });
    expect(layer(d, 'raw')).toEqual({ layer: 'raw', length: 2, hex: '6000' });
    expect(decodeFrame(hex('0102'))).toEqual({ length: 2, layers: [], error: { layer: 'ethernet', reason: 'frame of 2 bytes is shorter than the 14-byte header' } });
  });
});

describe('decodeFrame: robustness', () => {
  const seeds = [WORKED, ACK,
    udpFrame({ srcMac: '02:00:00:00:01:01', dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: emitDhcp({
      op: 1, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, broadcast: false, ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
      chaddr: '02:00:00:00:01:01', sname: '', file: '', options: { ...emptyDhcpOptions(), messageType: DHCP.DISCOVER },
    }) }),
    igmpFrame({ srcMac: '02:00:00:00:01:01', dstMac: '01:00:5e:00:00:16', srcIp: '10.77.0.100', dstIp: '224.0.0.22', igmp: { kind: 'v3report', records: [{ type: 4, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }),
  ];
  const check = (b: Uint8Array) => {
    const d = decodeFrame(b);
    const text = JSON.stringify(d);
    // plain JSON: survives a round trip unchanged (no undefined, no typed arrays, no NaN)
    expect(JSON.parse(text)).toStrictEqual(d);
    expect(d.length).toBe(b.length);
  };

  it('random bytes never throw and always give plain JSON', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: 3000 });
  });

  it('random payloads behind every EtherType, mutated and truncated real frames, likewise', () => {
    const types = [0x0800, 0x0806, 0x8035, 0x88cc, 0x8940, 0x8100, 0x86dd, 0x0001];
    fc.assert(fc.property(
      fc.oneof(
        fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 300 })).map(([t, p]) => {
          const b = new Uint8Array(14 + p.length);
          put16(b, 12, t);
          b.set(p, 14);
          return b;
        }),
        fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, i, v]) => {
          const b = s.slice();
          b[i % b.length] = v;
          return b;
        }),
        fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
      ),
      check,
    ), { numRuns: 3000 });
  });
});
