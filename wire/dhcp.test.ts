import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './fields.js';
import { EmitError } from './result.js';
import {
  DHCP,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  dhcpTypeName,
  emitDhcp,
  emptyDhcpOptions,
  parseDhcp,
  type DhcpOptions,
  type DhcpRepr,
  type RelayAgentInfo,
} from './dhcp.js';
import { emitIpv4, IP_PROTO, parseIpv4 } from './ipv4.js';
import { emitUdp, parseUdp } from './udp.js';

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex ${s}`);
  return b;
};
const zeros = (n: number): string => '00'.repeat(n);
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const padTo300 = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(Math.max(300, b.length));
  out.set(b);
  return out;
};

function parsed(b: Uint8Array): DhcpRepr {
  const r = parseDhcp(b);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

// ---------------------------------------------------------------------------------------
// DHCPLEASEQUERY by MAC (protocols.md 4.3), built byte by byte.
const LQ_OPTIONS_HEX =
  '35 01 0a' + // 53 message type = 10 DHCPLEASEQUERY
  '37 07 33 3d 52 5b 5c 3a 3b' + // 55 PRL = 51 61 82 91 92 58 59
  'ff'; // End
const LEASEQUERY = hex(
  '01' + // op BOOTREQUEST
    '01' + // htype Ethernet
    '06' + // hlen
    '00' + // hops
    '4c 51 00 01' + // xid
    '00 00' + // secs
    '00 00' + // flags
    '00 00 00 00' + // ciaddr 0 (query by MAC)
    '00 00 00 00' + // yiaddr
    '00 00 00 00' + // siaddr
    '0a 4d 00 02' + // giaddr = the querier, 10.77.0.2
    '52 54 00 77 00 01' + zeros(10) + // chaddr
    zeros(64) + // sname
    zeros(128) + // file
    '63 82 53 63' + // magic cookie
    LQ_OPTIONS_HEX,
);

// DHCPLEASEACTIVE as ISC dhcpd 4.4 answered it (options in ISC's order, not ours).
const ACTIVE_OPTIONS: [number, string][] = [
  [53, '0d'],
  [54, '0a 4d 00 01'],
  [51, '00 00 02 53'], // 595 s
  [58, '00 00 01 27'], // 295 s
  [59, '00 00 02 08'], // 520 s
  [91, '00 00 00 05'], // 5 s
  [60, toHex(ascii('udhcp 1.36.1'))],
  [61, '01 52 54 00 77 00 01'],
];
const tlv = (code: number, data: string): string => {
  const d = hex(data);
  return code.toString(16).padStart(2, '0') + d.length.toString(16).padStart(2, '0') + toHex(d);
};
const LEASEACTIVE = hex(
  '02 01 06 00' + // op BOOTREPLY, htype, hlen, hops
    '4c 51 00 01' + // xid (echoed)
    '00 00 00 00' + // secs, flags
    '0a 4d 00 64' + // ciaddr = the leased address 10.77.0.100
    '00 00 00 00' + // yiaddr
    '00 00 00 00' + // siaddr
    '0a 4d 00 02' + // giaddr
    '52 54 00 77 00 01' + zeros(10) + // chaddr from the lease
    zeros(64) + zeros(128) + // sname, file
    '63 82 53 63' +
    ACTIVE_OPTIONS.map(([c, d]) => tlv(c, d)).join('') +
    'ff',
);

interface Fixed {
  op: number;
  xid: string;
  flags?: string;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  htype?: number;
  hlen?: number;
  chaddr?: string;
  sname?: string;
}
/** A BOOTP header laid out by hand (independently of the codec) plus options in the given order. */
function bootp(f: Fixed, options: [number, string][], end = true): Uint8Array {
  const b2 = (n: number) => n.toString(16).padStart(2, '0');
  const chaddr = f.chaddr ?? '52 54 00 77 00 01';
  const chaddrLen = hex(chaddr).length;
  const sname = f.sname ? toHex(ascii(f.sname)) + zeros(64 - f.sname.length) : zeros(64);
  const head =
    b2(f.op) +
    b2(f.htype ?? 1) +
    b2(f.hlen ?? 6) +
    '00' +
    f.xid +
    '0000' +
    (f.flags ?? '0000') +
    (f.ciaddr ?? '00000000') +
    (f.yiaddr ?? '00000000') +
    (f.siaddr ?? '00000000') +
    (f.giaddr ?? '00000000') +
    chaddr +
    zeros(16 - chaddrLen) +
    sname +
    zeros(128) +
    '63825363';
  return hex(head + options.map(([c, d]) => tlv(c, d)).join('') + (end ? 'ff' : ''));
}

const CID = '01 52 54 00 77 00 01';
const PRL = '01 03 06 0c 0f 1c 2a';
// A client exchange in canonical order (53 first, then by code), as emit writes it.
const DISCOVER = padTo300(
  bootp({ op: 1, xid: '1234abcd', flags: '8000' }, [
    [53, '01'],
    [55, PRL],
    [57, '02 40'], // max message size 576
    [60, toHex(ascii('udhcp 1.36.1'))],
    [61, CID],
  ]),
);
const REQUEST = padTo300(
  bootp({ op: 1, xid: '1234abcd', flags: '8000' }, [
    [53, '03'],
    [50, '0a 4d 00 64'],
    [54, '0a 4d 00 01'],
    [55, PRL],
    [61, CID],
  ]),
);
const ACK = padTo300(
  bootp({ op: 2, xid: '1234abcd', flags: '8000', yiaddr: '0a4d0064', siaddr: '0a4d0001' }, [
    [53, '05'],
    [1, 'ff ff ff 00'],
    [3, '0a 4d 00 01'],
    [6, '0a 4d 00 01 08 08 08 08'],
    [51, '00 00 02 58'], // 600
    [54, '0a 4d 00 01'],
    [58, '00 00 01 2c'], // 300
    [59, '00 00 02 0d'], // 525
  ]),
);
// The DISCOVER after a relay (or snooping switch) inserted option 82: circuit-id in the
// "vlan-mod-port" form (type 0, len 4, VLAN 10, module 1, port 5) and remote-id = switch MAC,
// plus an unknown sub-option 9 (vendor-specific).
const RELAYED = padTo300(
  bootp({ op: 1, xid: '1234abcd', flags: '8000', giaddr: '0a4d0002' }, [
    [53, '01'],
    [55, PRL],
    [61, CID],
    [82, '01 06 00 04 000a 01 05' + '02 08 00 06 020000000fe0' + '09 03 aabbcc'],
  ]),
);
const VECTORS = [LEASEQUERY, LEASEACTIVE, DISCOVER, REQUEST, ACK, RELAYED];

/** The DHCPLEASEQUERY vector, as its fields say (written here from docs/protocols.md 4.3, not from the codec). */
const LEASEQUERY_REPR: DhcpRepr = {
  op: 1,
  htype: 1,
  hlen: 6,
  hops: 0,
  xid: 0x4c510001,
  secs: 0,
  broadcast: false,
  ciaddr: '0.0.0.0',
  yiaddr: '0.0.0.0',
  siaddr: '0.0.0.0',
  giaddr: '10.77.0.2',
  chaddr: '52:54:00:77:00:01',
  sname: '',
  file: '',
  options: { ...emptyDhcpOptions(), messageType: DHCP.LEASEQUERY, paramRequestList: [51, 61, 82, 91, 92, 58, 59] },
};

describe('dhcp vectors', () => {
  it('decodes the DHCPLEASEQUERY by MAC field by field', () => {
    expect(LEASEQUERY.length).toBe(253);
    const r = parsed(LEASEQUERY);
    expect(r).toEqual(LEASEQUERY_REPR);
    expect(dhcpTypeName(r.options.messageType!)).toBe('DHCPLEASEQUERY');
  });

  it('emits the DHCPLEASEQUERY byte for byte (padded to 300 like common clients)', () => {
    const out = emitDhcp(LEASEQUERY_REPR);
    expect(out.length).toBe(300);
    expect(out).toEqual(padTo300(LEASEQUERY));
  });

  it('decodes the DHCPLEASEACTIVE (ISC option order) and re-emits it in canonical order', () => {
    const r = parsed(LEASEACTIVE);
    expect(r).toMatchObject({ op: 2, htype: 1, hlen: 6, xid: 0x4c510001, ciaddr: '10.77.0.100', giaddr: '10.77.0.2', chaddr: '52:54:00:77:00:01' });
    expect(r.options).toEqual({
      ...emptyDhcpOptions(),
      messageType: DHCP.LEASEACTIVE,
      serverId: '10.77.0.1',
      leaseTime: 595,
      renewalTime: 295,
      rebindingTime: 520,
      clientLastTransactionTime: 5,
      clientId: hex(CID),
      other: [{ code: 60, data: ascii('udhcp 1.36.1') }],
    });
    expect(dhcpTypeName(r.options.messageType!)).toBe('DHCPLEASEACTIVE');
    const out = emitDhcp(r);
    const canonical = [53, 51, 54, 58, 59, 60, 61, 91].map((c) => tlv(c, ACTIVE_OPTIONS.find(([k]) => k === c)![1])).join('') + 'ff';
    expect(toHex(out.subarray(240, 240 + canonical.length / 2))).toBe(canonical);
    expect(parsed(out)).toEqual(r);
  });

  it('decodes a DISCOVER / REQUEST / ACK exchange', () => {
    const d = parsed(DISCOVER);
    expect(d).toMatchObject({ op: 1, broadcast: true, xid: 0x1234abcd, chaddr: '52:54:00:77:00:01', ciaddr: '0.0.0.0' });
    expect(d.options).toEqual({
      ...emptyDhcpOptions(),
      messageType: DHCP.DISCOVER,
      paramRequestList: [1, 3, 6, 12, 15, 28, 42],
      clientId: hex(CID),
      other: [
        { code: 57, data: hex('0240') },
        { code: 60, data: ascii('udhcp 1.36.1') },
      ],
    });
    const q = parsed(REQUEST);
    expect(q.options).toMatchObject({ messageType: DHCP.REQUEST, requestedIp: '10.77.0.100', serverId: '10.77.0.1' });
    const a = parsed(ACK);
    expect(a).toMatchObject({ op: 2, yiaddr: '10.77.0.100', siaddr: '10.77.0.1', chaddr: '52:54:00:77:00:01' });
    expect(a.options).toEqual({
      ...emptyDhcpOptions(),
      messageType: DHCP.ACK,
      subnetMask: '255.255.255.0',
      routers: ['10.77.0.1'],
      leaseTime: 600,
      serverId: '10.77.0.1',
      renewalTime: 300,
      rebindingTime: 525,
      other: [{ code: 6, data: hex('0a4d0001 08080808') }],
    });
    expect(dhcpTypeName(a.options.messageType!)).toBe('DHCPACK');
  });

  it('decodes option 82 circuit-id / remote-id / other sub-options', () => {
    const r = parsed(RELAYED);
    expect(r.giaddr).toBe('10.77.0.2');
    expect(r.options.relayAgentInfo).toEqual({
      circuitId: hex('0004 000a 0105'),
      remoteId: hex('0006 020000000fe0'),
      other: [{ code: 9, data: hex('aabbcc') }],
    } satisfies RelayAgentInfo);
  });

  it('parse → emit reproduces every canonical vector byte for byte', () => {
    for (const v of [DISCOVER, REQUEST, ACK, RELAYED, padTo300(LEASEQUERY)]) expect(toHex(emitDhcp(parsed(v)))).toBe(toHex(v));
  });

  it('a leasequery by IP has hlen 0 and chaddr null', () => {
    const b = bootp({ op: 1, xid: '00000007', ciaddr: '0a4d0064', giaddr: '0a4d0002', htype: 0, hlen: 0, chaddr: '' }, [[53, '0a'], [55, '33 3d']]);
    const r = parsed(b);
    expect(r).toMatchObject({ htype: 0, hlen: 0, chaddr: null, ciaddr: '10.77.0.100' });
    expect(emitDhcp(r)).toEqual(padTo300(b));
  });

  it('a non-6 hlen parses with chaddr null (the bytes are not represented)', () => {
    const b = bootp({ op: 1, xid: '00000001', htype: 32, hlen: 16, chaddr: '01'.repeat(16) }, [[53, '01']]);
    expect(parsed(b)).toMatchObject({ htype: 32, hlen: 16, chaddr: null });
  });

  it('reads sname and file as NUL-terminated text', () => {
    const b = bootp({ op: 2, xid: '00000001', sname: 'boot.example' }, [[53, '02']]);
    expect(parsed(b).sname).toBe('boot.example');
    expect(parsed(b).file).toBe('');
    const full = b.slice();
    full.fill(0x41, 44, 108); // 64 bytes, no NUL
    expect(parsed(full).sname).toBe('A'.repeat(64));
    expect(emitDhcp(parsed(full)).subarray(44, 108)).toEqual(full.subarray(44, 108));
  });
});

describe('dhcp option framing', () => {
  it('concatenates repeated options (RFC 3396), even mid-address', () => {
    const b = bootp({ op: 2, xid: '00000001' }, [
      [3, '0a000001'],
      [53, '05'],
      [3, '0a000002'],
      [92, '0a00'],
      [92, '0003'],
    ]);
    const r = parsed(b);
    expect(r.options.routers).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.options.associatedIps).toEqual(['10.0.0.3']);
  });

  it('splits options longer than 255 bytes on emit and joins them on parse', () => {
    const ips = Array.from({ length: 70 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const repr = parsed(LEASEACTIVE);
    repr.options.associatedIps = ips;
    const out = emitDhcp(repr);
    let i = 240;
    const seen: [number, number][] = [];
    while (out[i] !== 255) {
      seen.push([out[i]!, out[i + 1]!]);
      i += 2 + out[i + 1]!;
    }
    expect(seen.filter(([c]) => c === 92)).toEqual([
      [92, 255],
      [92, 25],
    ]);
    expect(parsed(out).options.associatedIps).toEqual(ips);
  });

  it('skips Pad, tolerates a missing End and ignores what follows End', () => {
    const withPads = hex(toHex(LEASEQUERY.subarray(0, 240)) + '00 00 35 01 0a 00 37 02 33 3d ff 99 99');
    expect(parsed(withPads).options).toMatchObject({ messageType: 10, paramRequestList: [51, 61] });
    const noEnd = LEASEQUERY.subarray(0, LEASEQUERY.length - 1);
    expect(parsed(noEnd)).toEqual(parsed(LEASEQUERY));
    expect(parsed(LEASEQUERY.subarray(0, 240)).options).toEqual(emptyDhcpOptions());
  });

  it('accepts an empty option 82 and empty sub-options', () => {
    const r = parsed(bootp({ op: 1, xid: '00000001' }, [[82, '']]));
    expect(r.options.relayAgentInfo).toEqual({ circuitId: null, remoteId: null, other: [] });
    const r2 = parsed(bootp({ op: 1, xid: '00000001' }, [[82, '01 00 02 00']]));
    expect(r2.options.relayAgentInfo).toEqual({ circuitId: new Uint8Array(0), remoteId: new Uint8Array(0), other: [] });
    expect(parsed(emitDhcp(r2))).toEqual(r2);
  });
});

describe('dhcp rejections', () => {
  it('rejects every truncation except at an option boundary (missing End is tolerated)', () => {
    const boundaries = new Set([240, 243, 252]);
    for (let n = 0; n < LEASEQUERY.length; n++) {
      const r = parseDhcp(LEASEQUERY.subarray(0, n));
      if (boundaries.has(n)) {
        expect(r.ok, `length ${n}`).toBe(true);
      } else {
        expect(r, `length ${n}`).toMatchObject({ ok: false, layer: 'dhcp' });
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it('rejects a truncated LEASEACTIVE everywhere but its option boundaries', () => {
    const boundaries = new Set<number>([240]);
    let at = 240;
    for (const [, d] of ACTIVE_OPTIONS) boundaries.add((at += 2 + hex(d).length));
    for (let n = 0; n < LEASEACTIVE.length; n++) {
      expect(parseDhcp(LEASEACTIVE.subarray(0, n)).ok, `length ${n}`).toBe(boundaries.has(n));
    }
  });

  const mutate = (base: Uint8Array, at: number, bytes: number[]): Uint8Array => {
    const b = base.slice();
    b.set(bytes, at);
    return b;
  };
  const withOptions = (opts: [number, string][]) => bootp({ op: 1, xid: '00000001' }, opts);
  const cases: [string, Uint8Array, RegExp][] = [
    ['a bad cookie', mutate(LEASEQUERY, 236, [0x63, 0x82, 0x53, 0x64]), /cookie/],
    ['op 3', mutate(LEASEQUERY, 0, [3]), /op 3/],
    ['op 0', mutate(LEASEQUERY, 0, [0]), /op 0/],
    ['hlen 17', mutate(LEASEQUERY, 2, [17]), /hardware address length 17/],
    ['an option running past the end', LEASEQUERY.subarray(0, 250), /runs past/],
    ['an option without its length byte', hex(toHex(LEASEQUERY.subarray(0, 240)) + '3501 0a 37'), /no length byte/],
    ['53 of 2 bytes', withOptions([[53, '0a0a']]), /option 53/],
    ['53 of 0 bytes', withOptions([[53, '']]), /option 53/],
    ['51 of 3 bytes', withOptions([[51, '000100']]), /option 51/],
    ['58 of 5 bytes', withOptions([[58, '0000010000']]), /option 58/],
    ['91 of 2 bytes', withOptions([[91, '0005']]), /option 91/],
    ['54 of 5 bytes', withOptions([[54, '0a4d000100']]), /option 54/],
    ['1 of 3 bytes', withOptions([[1, 'ffffff']]), /option 1 /],
    ['50 of 0 bytes', withOptions([[50, '']]), /option 50/],
    ['92 of 6 bytes', withOptions([[92, '0a4d00650000']]), /option 92/],
    ['92 of 0 bytes', withOptions([[92, '']]), /option 92/],
    ['3 of 0 bytes', withOptions([[3, '']]), /option 3 /],
    ['55 of 0 bytes', withOptions([[55, '']]), /option 55/],
    ['61 of 1 byte', withOptions([[61, '01']]), /option 61/],
    ['a repeated 53 (concatenated to 2 bytes)', withOptions([[53, '01'], [53, '01']]), /option 53/],
    ['option overload', withOptions([[52, '03']]), /overload/],
    ['an 82 sub-option running past the option', withOptions([[82, '01 05 0000']]), /sub-option 1 runs past/],
    ['an 82 sub-option without its length', withOptions([[82, '01 01 00 02']]), /no length byte/],
    ['a repeated circuit-id', withOptions([[82, '01 01 00 01 01 01']]), /repeats the circuit-id/],
    ['a repeated remote-id', withOptions([[82, '02 01 00 02 01 01']]), /repeats the remote-id/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`rejects ${name}`, () => {
      const r = parseDhcp(bytes);
      expect(r).toMatchObject({ ok: false, layer: 'dhcp' });
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }
});

const repr = (over: Partial<DhcpRepr> = {}, opts: Partial<DhcpOptions> = {}): DhcpRepr => ({
  ...parsed(LEASEQUERY),
  ...over,
  options: { ...emptyDhcpOptions(), messageType: 10, ...opts },
});

describe('emitDhcp', () => {
  it('throws EmitError for unencodable reprs', () => {
    const bad: DhcpRepr[] = [
      repr({ op: 3 as 1 }),
      repr({ hlen: 0 }), // chaddr given but hlen 0
      repr({ chaddr: null }), // hlen 6 without chaddr
      repr({ chaddr: '52:54:00:77:00' }),
      repr({ hlen: 17, chaddr: null }),
      repr({ xid: -1 }),
      repr({ secs: 65536 }),
      repr({ htype: 256 }),
      repr({ giaddr: '10.77.0' }),
      repr({ sname: 'x'.repeat(65) }),
      repr({ file: 'a\0b' }),
      repr({ file: 'ü€' }),
      repr({}, { messageType: 256 }),
      repr({}, { leaseTime: 2 ** 32 }),
      repr({}, { renewalTime: 1.5 }),
      repr({}, { paramRequestList: [300] }),
      repr({}, { clientId: Uint8Array.of(1) }),
      repr({}, { routers: ['10.0.0.x'] }),
      repr({}, { other: [{ code: 53, data: Uint8Array.of(1) }] }),
      repr({}, { other: [{ code: 52, data: Uint8Array.of(1) }] }),
      repr({}, { other: [{ code: 0, data: new Uint8Array(0) }] }),
      repr({}, { other: [{ code: 255, data: new Uint8Array(0) }] }),
      repr({}, { other: [{ code: 300, data: new Uint8Array(0) }] }),
      repr({}, { other: [{ code: 77, data: Uint8Array.of(1) }, { code: 77, data: Uint8Array.of(2) }] }),
      repr({}, { relayAgentInfo: { circuitId: null, remoteId: null, other: [{ code: 1, data: Uint8Array.of(1) }] } }),
      repr({}, { relayAgentInfo: { circuitId: new Uint8Array(256), remoteId: null, other: [] } }),
    ];
    for (const r of bad) expect(() => emitDhcp(r)).toThrow(EmitError);
  });

  it('writes the broadcast flag and other options sorted by code after 53', () => {
    const out = emitDhcp(repr({ broadcast: true }, { other: [{ code: 77, data: ascii('x') }, { code: 12, data: ascii('vm') }] }));
    expect(toHex(out.subarray(10, 12))).toBe('8000');
    expect(toHex(out.subarray(240, 240 + 3 + 4 + 3 + 1))).toBe('35010a' + '0c02766d' + '4d0178' + 'ff');
  });

  it('omits 53 when messageType is null', () => {
    const out = emitDhcp(repr({}, { messageType: null, leaseTime: 1 }));
    expect(toHex(out.subarray(240, 247))).toBe('330400000001ff');
    expect(out[246]).toBe(0xff);
  });
});

describe('dhcpTypeName', () => {
  it('names every message type', () => {
    const expected: Record<keyof typeof DHCP, string> = {
      DISCOVER: 'DHCPDISCOVER',
      OFFER: 'DHCPOFFER',
      REQUEST: 'DHCPREQUEST',
      DECLINE: 'DHCPDECLINE',
      ACK: 'DHCPACK',
      NAK: 'DHCPNAK',
      RELEASE: 'DHCPRELEASE',
      INFORM: 'DHCPINFORM',
      LEASEQUERY: 'DHCPLEASEQUERY',
      LEASEUNASSIGNED: 'DHCPLEASEUNASSIGNED',
      LEASEUNKNOWN: 'DHCPLEASEUNKNOWN',
      LEASEACTIVE: 'DHCPLEASEACTIVE',
    };
    for (const [k, name] of Object.entries(expected)) expect(dhcpTypeName(DHCP[k as keyof typeof DHCP])).toBe(name);
    expect(dhcpTypeName(99)).toBe('DHCP type 99');
  });
});

describe('dhcp over UDP over IPv4', () => {
  it('a leasequery from the switch to the server survives the whole stack', () => {
    const dhcp = emitDhcp(parsed(LEASEQUERY));
    const udp = emitUdp({ srcPort: DHCP_SERVER_PORT, dstPort: DHCP_SERVER_PORT, payload: dhcp }, '10.77.0.2', '10.77.0.1');
    const ip = emitIpv4({
      dscp: 0,
      ecn: 0,
      id: 7,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTO.UDP,
      src: '10.77.0.2',
      dst: '10.77.0.1',
      options: new Uint8Array(0),
      payload: udp,
    });
    const p = parseIpv4(ip);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const u = parseUdp(p.value.payload, p.value.src, p.value.dst);
    expect(u.ok && u.value.dstPort).toBe(67);
    if (!u.ok) return;
    expect(parsed(u.value.payload)).toEqual(parsed(LEASEQUERY));
    expect(DHCP_CLIENT_PORT).toBe(68);
  });
});

// ---------------------------------------------------------------------------------------
// properties

const KNOWN = new Set([0, 1, 3, 50, 51, 52, 53, 54, 55, 58, 59, 61, 82, 91, 92, 255]);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const textArb = (max: number) =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });
const relayArb: fc.Arbitrary<RelayAgentInfo> = fc.record({
  circuitId: nullable(fc.uint8Array({ maxLength: 20 })),
  remoteId: nullable(fc.uint8Array({ maxLength: 20 })),
  other: fc.array(fc.record({ code: fc.integer({ min: 3, max: 255 }), data: fc.uint8Array({ maxLength: 10 }) }), { maxLength: 3 }),
});
const optionsArb: fc.Arbitrary<DhcpOptions> = fc.record({
  messageType: nullable(fc.integer({ min: 0, max: 255 })),
  subnetMask: nullable(fc.ipV4()),
  routers: fc.array(fc.ipV4(), { maxLength: 70 }),
  requestedIp: nullable(fc.ipV4()),
  leaseTime: nullable(u32),
  serverId: nullable(fc.ipV4()),
  paramRequestList: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }),
  renewalTime: nullable(u32),
  rebindingTime: nullable(u32),
  clientId: nullable(fc.uint8Array({ minLength: 2, maxLength: 40 })),
  relayAgentInfo: nullable(relayArb),
  clientLastTransactionTime: nullable(u32),
  associatedIps: fc.array(fc.ipV4(), { maxLength: 70 }),
  other: fc.uniqueArray(
    fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => !KNOWN.has(c)), data: fc.uint8Array({ maxLength: 300 }) }),
    { selector: (o) => o.code, maxLength: 5 },
  ),
});
const reprArb: fc.Arbitrary<DhcpRepr> = fc
  .record({
    op: fc.constantFrom(1 as const, 2 as const),
    htype: fc.integer({ min: 0, max: 255 }),
    hlen: fc.integer({ min: 0, max: 16 }),
    hops: fc.integer({ min: 0, max: 255 }),
    xid: u32,
    secs: fc.integer({ min: 0, max: 0xffff }),
    broadcast: fc.boolean(),
    ciaddr: fc.ipV4(),
    yiaddr: fc.ipV4(),
    siaddr: fc.ipV4(),
    giaddr: fc.ipV4(),
    mac: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((m) => [...m].map((x) => x.toString(16).padStart(2, '0')).join(':')),
    sname: textArb(64),
    file: textArb(128),
    options: optionsArb,
  })
  .map(({ mac, ...r }) => ({ ...r, chaddr: r.hlen === 6 ? mac : null }));

describe('dhcp properties', () => {
  it('emit → parse gives the repr back, and emit is stable (canonical)', () => {
    fc.assert(
      fc.property(reprArb, (r) => {
        const bytes = emitDhcp(r);
        expect(bytes.length).toBeGreaterThanOrEqual(300);
        const back = parseDhcp(bytes);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        // 'other' comes back in wire order, which is by code
        const expected = { ...r, options: { ...r.options, other: [...r.options.other].sort((a, b) => a.code - b.code) } };
        expect(back.value).toEqual(expected);
        expect(emitDhcp(back.value)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on random bytes, with or without a valid fixed part', () => {
    const head = LEASEQUERY.subarray(0, 240);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 320 }), fc.boolean(), (tail, prefixed) => {
        const b = prefixed ? Uint8Array.from([...head, ...tail]) : tail;
        const r = parseDhcp(b);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('never throws on mutated or truncated vectors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VECTORS),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (v, edits, cut) => {
          const b = v.slice(0, cut % (v.length + 1));
          for (const [at, val] of edits) if (b.length > 0) b[at % b.length] = val;
          expect(typeof parseDhcp(b).ok).toBe('boolean');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mutations inside the option area of a valid message never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VECTORS),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (v, edits) => {
          const b = v.slice();
          for (const [at, val] of edits) b[240 + (at % (b.length - 240))] = val;
          expect(typeof parseDhcp(b).ok).toBe('boolean');
        },
      ),
      { numRuns: 300 },
    );
  });
});
