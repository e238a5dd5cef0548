// The whole-frame decoder behind `migsim decode`: bytes → every layer migsim speaks, as
// plain JSON. Which layers, and how they print: docs/wire-formats.md ("What `migsim decode`
// prints").

import { ARP_OP, parseArp } from './arp.js';
import { dhcpTypeName, DhcpView, parseDhcp, DHCP_CLIENT_PORT, DHCP_OPT, DHCP_OPTION_FIELDS, DHCP_SERVER_PORT, type DhcpOptions, type DhcpRepr } from './dhcp.js';
import { ECP_SUBTYPE, EcpView, parseEcp } from './ecp.js';
import { ETHERTYPE, parseEthernet } from './ethernet.js';
import { ipAt, macAt, toHex, u16, u32 } from './fields.js';
import { IGMP_RECORD, IGMP_TYPE, IgmpView, parseIgmp, type IgmpRepr } from './igmp.js';
import { hasRouterAlert, IP_PROTO, Ipv4View, parseIpv4, type Ipv4Repr } from './ipv4.js';
import { EVB_MODE, LLDP_TLV, parseLldp, type LldpIdTlv, type LldpRepr } from './lldp.js';
import { parseUdp, UdpView } from './udp.js';
import { FILTER_FORMAT, formatManagerId, formatVsiId, parseVdp, VDP_ERROR, VSI_ID_FORMAT, type VdpRepr, type VsiTlv } from './vdp.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One protocol layer: `layer` names it, the other keys are its fields. */
export interface DecodedLayer {
  layer: string;
  [field: string]: Json;
}

export interface DecodedFrame {
  /** bytes in the frame as given (no FCS) */
  length: number;
  /** outermost first */
  layers: DecodedLayer[];
  /** the layer that did not parse, and why; null when every layer present parsed */
  error: { layer: string; reason: string } | null;
}

// ----------------------------------------------------------------------------------------
// Names

const ETHERTYPE_NAMES: Readonly<Record<number, string>> = {
  [ETHERTYPE.IPV4]: 'IPv4',
  [ETHERTYPE.ARP]: 'ARP',
  [ETHERTYPE.RARP]: 'RARP',
  [ETHERTYPE.VLAN]: '802.1Q',
  [ETHERTYPE.LLDP]: 'LLDP',
  [ETHERTYPE.ECP]: 'ECP',
  0x86dd: 'IPv6',
  0x88a8: '802.1ad',
  0x88b7: 'OUI extended (ECP draft 0.2)',
  0x8809: 'slow protocols (LACP)',
  0x88e5: 'MACsec',
};

const IP_PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'ICMP',
  [IP_PROTO.IGMP]: 'IGMP',
  4: 'IPv4-in-IPv4',
  [IP_PROTO.TCP]: 'TCP',
  [IP_PROTO.UDP]: 'UDP',
  41: 'IPv6',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  89: 'OSPF',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
};

const ARP_OP_NAMES: Readonly<Record<number, string>> = {
  [ARP_OP.REQUEST]: 'request',
  [ARP_OP.REPLY]: 'reply',
  [ARP_OP.RARP_REQUEST]: 'RARP request',
  [ARP_OP.RARP_REPLY]: 'RARP reply',
};

const ECP_SUBTYPE_NAMES: Readonly<Record<number, string>> = { [ECP_SUBTYPE.VDP]: 'VDP', [ECP_SUBTYPE.PECSP]: 'PECSP' };

const VSI_ID_FORMAT_NAMES: Readonly<Record<number, string>> = {
  [VSI_ID_FORMAT.IPV4]: 'IPv4', [VSI_ID_FORMAT.IPV6]: 'IPv6', [VSI_ID_FORMAT.MAC]: 'MAC', [VSI_ID_FORMAT.LOCAL]: 'local', [VSI_ID_FORMAT.UUID]: 'UUID',
};
const FILTER_FORMAT_NAMES: Readonly<Record<number, string>> = {
  [FILTER_FORMAT.VID]: 'VID', [FILTER_FORMAT.MAC_VID]: 'MAC/VID', [FILTER_FORMAT.GROUP_VID]: 'GroupID/VID', [FILTER_FORMAT.GROUP_MAC_VID]: 'GroupID/MAC/VID',
};
const VDP_ERROR_NAMES: Readonly<Record<number, string>> = {
  [VDP_ERROR.SUCCESS]: 'success',
  [VDP_ERROR.INVALID_FORMAT]: 'invalid format',
  [VDP_ERROR.INSUFFICIENT_RESOURCES]: 'insufficient resources',
  [VDP_ERROR.UNABLE_TO_CONTACT_MANAGER]: 'unable to contact VSI manager',
  [VDP_ERROR.OTHER_FAILURE]: 'other failure',
  [VDP_ERROR.INVALID_VID_GROUP_MAC]: 'invalid VID, GroupID or MAC',
};

/** 802.1AB-2016 Tables 8-2 and 8-3. */
const CHASSIS_ID_SUBTYPES: Readonly<Record<number, string>> = {
  1: 'chassis component', 2: 'interface alias', 3: 'port component', 4: 'MAC address', 5: 'network address', 6: 'interface name', 7: 'locally assigned',
};
const PORT_ID_SUBTYPES: Readonly<Record<number, string>> = {
  1: 'interface alias', 2: 'port component', 3: 'MAC address', 4: 'network address', 5: 'interface name', 6: 'agent circuit ID', 7: 'locally assigned',
};
const LLDP_TLV_NAMES: Readonly<Record<number, string>> = {
  4: 'portDescription', 5: 'systemName', 6: 'systemDescription', 7: 'systemCapabilities', 8: 'managementAddress', [LLDP_TLV.ORG]: 'organizationallySpecific',
};
const LLDP_TEXT_TLVS = new Set([4, 5, 6]);
const EVB_MODE_NAMES: Readonly<Record<number, string>> = { [EVB_MODE.BRIDGE]: 'bridge', [EVB_MODE.STATION]: 'station' };

/** RFC 3376 §4.2.12. */
const IGMP_RECORD_NAMES: Readonly<Record<number, string>> = {
  [IGMP_RECORD.IS_IN]: 'MODE_IS_INCLUDE', [IGMP_RECORD.IS_EX]: 'MODE_IS_EXCLUDE', [IGMP_RECORD.TO_IN]: 'CHANGE_TO_INCLUDE_MODE',
  [IGMP_RECORD.TO_EX]: 'CHANGE_TO_EXCLUDE_MODE', [IGMP_RECORD.ALLOW]: 'ALLOW_NEW_SOURCES', [IGMP_RECORD.BLOCK]: 'BLOCK_OLD_SOURCES',
};

/** RFC 3376 §4 message types. */
const IGMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  [IGMP_TYPE.QUERY]: 'membership query',
  [IGMP_TYPE.V1_REPORT]: 'v1 membership report',
  [IGMP_TYPE.V2_REPORT]: 'v2 membership report',
  [IGMP_TYPE.V2_LEAVE]: 'leave group',
  [IGMP_TYPE.V3_REPORT]: 'v3 membership report',
};

type OptKind = 'ips' | 'text' | 'u8' | 'u16' | 'u32' | 'hex';
/** DHCP options the codec keeps in `other`, by name (RFC 2132 and friends); the rest are `option<N>`. */
const DHCP_OTHER_OPTIONS: Readonly<Record<number, [string, OptKind]>> = {
  2: ['timeOffset', 'u32'],
  4: ['timeServers', 'ips'],
  [DHCP_OPT.DOMAIN_NAME_SERVERS]: ['domainNameServers', 'ips'],
  12: ['hostName', 'text'],
  [DHCP_OPT.DOMAIN_NAME]: ['domainName', 'text'],
  23: ['defaultTtl', 'u8'],
  26: ['interfaceMtu', 'u16'],
  28: ['broadcastAddress', 'ips'],
  42: ['ntpServers', 'ips'],
  43: ['vendorSpecific', 'hex'],
  44: ['netbiosNameServers', 'ips'],
  56: ['message', 'text'],
  57: ['maxMessageSize', 'u16'],
  60: ['vendorClassId', 'text'],
  66: ['tftpServerName', 'text'],
  67: ['bootfileName', 'text'],
  80: ['rapidCommit', 'hex'],
  81: ['clientFqdn', 'hex'],
  119: ['domainSearch', 'hex'],
  121: ['classlessStaticRoutes', 'hex'],
};
export function dhcpOptionName(code: number): string {
  return DHCP_OPTION_FIELDS[code] ?? DHCP_OTHER_OPTIONS[code]?.[0] ?? `option${code}`;
}

const hex16 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
const ouiText = (v: number): string => {
  const h = v.toString(16).padStart(6, '0');
  return `${h.slice(0, 2)}-${h.slice(2, 4)}-${h.slice(4, 6)}`;
};

/** The bytes as text when every byte is printable ASCII (a trailing NUL allowed), else null. */
function printable(b: Uint8Array): string | null {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0) end--;
  if (end === 0) return null;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = b[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

// ----------------------------------------------------------------------------------------
// The stack

class Stack {
  readonly layers: DecodedLayer[] = [];
  error: { layer: string; reason: string } | null = null;

  push(l: DecodedLayer): void {
    this.layers.push(l);
  }

  fail(layer: string, reason: string): void {
    this.error = { layer, reason };
  }

  /** Undecoded bytes: shown as hex, nothing above them. Empty is shown as nothing. */
  raw(b: Uint8Array, note: string | null = null): void {
    if (b.length === 0) return;
    const l: DecodedLayer = { layer: 'raw', length: b.length, hex: toHex(b) };
    if (note !== null) l.note = note;
    this.layers.push(l);
  }
}

export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const s = new Stack();
  ethernet(s, bytes);
  return { length: bytes.length, layers: s.layers, error: s.error };
}

function ethernet(s: Stack, bytes: Uint8Array): void {
  const r = parseEthernet(bytes);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const e = r.value;
  s.push({
    layer: 'ethernet',
    dst: e.dst,
    src: e.src,
    vlan: e.vlan ? { pcp: e.vlan.pcp, dei: e.vlan.dei, vid: e.vlan.vid } : null,
    ethertype: hex16(e.ethertype),
    ethertypeName: ETHERTYPE_NAMES[e.ethertype] ?? null,
  });
  switch (e.ethertype) {
    case ETHERTYPE.ARP:
    case ETHERTYPE.RARP:
      return arp(s, e.payload);
    case ETHERTYPE.LLDP:
      return lldp(s, e.payload);
    case ETHERTYPE.ECP:
      return ecp(s, e.payload);
    case ETHERTYPE.IPV4:
      return ipv4(s, e.payload);
    default:
      return s.raw(e.payload);
  }
}

function arp(s: Stack, b: Uint8Array): void {
  const r = parseArp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const a = r.value;
  s.push({
    layer: 'arp',
    op: a.op,
    opName: ARP_OP_NAMES[a.op] ?? null,
    senderMac: a.senderMac,
    senderIp: a.senderIp,
    targetMac: a.targetMac,
    targetIp: a.targetIp,
  });
}

function idTlv(id: LldpIdTlv, names: Readonly<Record<number, string>>, macSubtype: number): Json {
  const isMac = id.subtype === macSubtype && id.value.length === 6;
  return {
    subtype: id.subtype,
    subtypeName: names[id.subtype] ?? null,
    id: isMac ? macAt(id.value, 0) : (printable(id.value) ?? toHex(id.value)),
    hex: toHex(id.value),
  };
}

function lldp(s: Stack, b: Uint8Array): void {
  const r = parseLldp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const l: LldpRepr = r.value;
  const evb = l.evb;
  s.push({
    layer: 'lldp',
    chassisId: idTlv(l.chassisId, CHASSIS_ID_SUBTYPES, 4),
    portId: idTlv(l.portId, PORT_ID_SUBTYPES, 3),
    ttl: l.ttl,
    evb: evb
      ? {
          bridge: { bgid: evb.bridge.bgid, rrcap: evb.bridge.rrcap, rrctr: evb.bridge.rrctr },
          station: { sgid: evb.station.sgid, rrreq: evb.station.rrreq, rrstat: evb.station.rrstat },
          retries: evb.retries,
          rte: evb.rte,
          mode: evb.mode,
          modeName: EVB_MODE_NAMES[evb.mode] ?? null,
          rolRwd: evb.rolRwd,
          rwd: evb.rwd,
          rolRka: evb.rolRka,
          rka: evb.rka,
        }
      : null,
    other: l.other.map((t): Json => {
      const o: { [k: string]: Json } = { type: t.type, name: LLDP_TLV_NAMES[t.type] ?? null };
      if (t.type === 127) {
        o.oui = ouiText((u32(t.value, 0) >>> 8) & 0xffffff);
        o.subtype = t.value[3] ?? 0;
        o.hex = toHex(t.value.subarray(4));
      } else {
        o.hex = toHex(t.value);
        if (LLDP_TEXT_TLVS.has(t.type)) o.text = printable(t.value);
      }
      return o;
    }),
  });
}

function ecp(s: Stack, b: Uint8Array): void {
  const r = parseEcp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const e = r.value;
  s.push({
    layer: 'ecp',
    version: new EcpView(b).version,
    op: e.op,
    subtype: ECP_SUBTYPE_NAMES[e.subtype] ?? null,
    subtypeCode: e.subtype,
    seq: e.seq,
  });
  if (e.op === 'request' && e.subtype === ECP_SUBTYPE.VDP) return vdp(s, e.payload);
  // an ACK carries nothing (a padded one, Ethernet's zero padding)
  return s.raw(e.payload, e.op === 'ack' ? 'padding' : null);
}

function vsi(t: VsiTlv): Json {
  const st = t.status;
  return {
    mode: t.mode,
    status: {
      response: st.response,
      migratedFrom: st.migratedFrom,
      migratedTo: st.migratedTo,
      keep: st.keep,
      hardError: st.hardError,
      error: st.error,
      errorName: st.response ? (VDP_ERROR_NAMES[st.error] ?? null) : null,
    },
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    idFormat: VSI_ID_FORMAT_NAMES[t.idFormat] ?? String(t.idFormat),
    id: formatVsiId(t.idFormat, t.id),
    filterFormat: FILTER_FORMAT_NAMES[t.filterFormat] ?? String(t.filterFormat),
    filters: t.filters.map((f): Json => ({ ps: f.ps, pcp: f.pcp, vid: f.vid, mac: f.mac, groupId: f.groupId })),
  };
}

function vdp(s: Stack, b: Uint8Array): void {
  const r = parseVdp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const v: VdpRepr = r.value;
  s.push({
    layer: 'vdp',
    managerId: formatManagerId(v.managerId),
    vsis: v.vsis.map(vsi),
    assists: v.assists.map((a): Json => ({
      idFormat: VSI_ID_FORMAT_NAMES[a.idFormat] ?? String(a.idFormat),
      id: formatVsiId(a.idFormat, a.id),
      mac: a.mac,
      ip: a.ip,
      dhcp: a.dhcp,
      igmp: a.igmp,
    })),
    orgTlvs: v.orgTlvs.map((o): Json => ({ oui: ouiText(o.oui), hex: toHex(o.data) })),
    unknown: v.unknown.map((u): Json => ({ type: u.type, hex: toHex(u.value) })),
  });
}

function ipv4(s: Stack, b: Uint8Array): void {
  const r = parseIpv4(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const ip: Ipv4Repr = r.value;
  const v = new Ipv4View(b);
  s.push({
    layer: 'ipv4',
    version: v.version,
    headerLength: v.headerLen,
    dscp: ip.dscp,
    ecn: ip.ecn,
    totalLength: v.totalLength,
    id: ip.id,
    dontFragment: ip.dontFragment,
    moreFragments: ip.moreFragments,
    fragmentOffset: ip.fragmentOffset,
    ttl: ip.ttl,
    protocol: ip.protocol,
    protocolName: IP_PROTO_NAMES[ip.protocol] ?? null,
    checksum: hex16(v.checksum),
    src: ip.src,
    dst: ip.dst,
    options: toHex(ip.options),
    routerAlert: hasRouterAlert(ip.options),
    // bytes after totalLength: Ethernet padding of a short packet
    trailer: b.length - v.totalLength,
  });
  if (ip.moreFragments || ip.fragmentOffset !== 0) return s.raw(ip.payload, 'IPv4 fragment');
  if (ip.protocol === IP_PROTO.UDP) return udp(s, ip);
  if (ip.protocol === IP_PROTO.IGMP) return igmp(s, ip.payload);
  return s.raw(ip.payload);
}

function udp(s: Stack, ip: Ipv4Repr): void {
  const r = parseUdp(ip.payload, ip.src, ip.dst);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const u = r.value;
  const v = new UdpView(ip.payload);
  s.push({ layer: 'udp', srcPort: u.srcPort, dstPort: u.dstPort, length: v.length, checksum: hex16(v.checksum) });
  const isDhcpPort = (p: number) => p === DHCP_SERVER_PORT || p === DHCP_CLIENT_PORT;
  if (isDhcpPort(u.srcPort) || isDhcpPort(u.dstPort)) return dhcp(s, u.payload);
  return s.raw(u.payload);
}

function otherOption(code: number, d: Uint8Array): Json {
  const [, kind] = DHCP_OTHER_OPTIONS[code] ?? [undefined, 'hex' as OptKind];
  switch (kind) {
    case 'ips':
      if (d.length > 0 && d.length % 4 === 0) {
        const out: Json[] = [];
        for (let i = 0; i < d.length; i += 4) out.push(ipAt(d, i));
        return out;
      }
      break;
    case 'text': {
      const t = printable(d);
      if (t !== null) return t;
      break;
    }
    case 'u8':
      if (d.length === 1) return d[0] ?? 0;
      break;
    case 'u16':
      if (d.length === 2) return u16(d, 0);
      break;
    case 'u32':
      if (d.length === 4) return u32(d, 0);
      break;
    case 'hex':
      break;
  }
  return toHex(d);
}

/** The options present, by name, in code order (option 53 is on the layer as messageType). */
function dhcpOptions(o: DhcpOptions): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  if (o.subnetMask !== null) out.subnetMask = o.subnetMask;
  if (o.routers.length > 0) out.routers = [...o.routers];
  if (o.requestedIp !== null) out.requestedIp = o.requestedIp;
  if (o.leaseTime !== null) out.leaseTime = o.leaseTime;
  if (o.serverId !== null) out.serverId = o.serverId;
  if (o.paramRequestList.length > 0) out.paramRequestList = o.paramRequestList.map(dhcpOptionName);
  if (o.renewalTime !== null) out.renewalTime = o.renewalTime;
  if (o.rebindingTime !== null) out.rebindingTime = o.rebindingTime;
  if (o.clientId !== null) out.clientId = toHex(o.clientId);
  if (o.relayAgentInfo !== null) {
    const ra = o.relayAgentInfo;
    out.relayAgentInfo = {
      circuitId: ra.circuitId === null ? null : toHex(ra.circuitId),
      remoteId: ra.remoteId === null ? null : toHex(ra.remoteId),
      other: ra.other.map((x): Json => ({ code: x.code, hex: toHex(x.data) })),
    };
  }
  if (o.clientLastTransactionTime !== null) out.clientLastTransactionTime = o.clientLastTransactionTime;
  if (o.associatedIps.length > 0) out.associatedIps = [...o.associatedIps];
  for (const x of [...o.other].sort((a, b) => a.code - b.code)) out[dhcpOptionName(x.code)] = otherOption(x.code, x.data);
  return out;
}

function dhcp(s: Stack, b: Uint8Array): void {
  const r = parseDhcp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const m: DhcpRepr = r.value;
  const v = new DhcpView(b);
  const type = m.options.messageType;
  s.push({
    layer: 'dhcp',
    op: m.op === 1 ? 'BOOTREQUEST' : 'BOOTREPLY',
    htype: m.htype,
    hlen: m.hlen,
    hops: m.hops,
    xid: hex32(m.xid),
    secs: m.secs,
    broadcast: m.broadcast,
    ciaddr: m.ciaddr,
    yiaddr: m.yiaddr,
    siaddr: m.siaddr,
    giaddr: m.giaddr,
    // a MAC when hlen is 6, else the hlen bytes as hex (null for hlen 0, a leasequery by IP)
    chaddr: m.chaddr ?? (m.hlen > 0 ? toHex(v.bytes.subarray(28, 28 + m.hlen)) : null),
    sname: m.sname,
    file: m.file,
    messageType: type === null ? null : dhcpTypeName(type),
    messageTypeCode: type,
    options: dhcpOptions(m.options),
  });
}

function igmp(s: Stack, b: Uint8Array): void {
  const r = parseIgmp(b);
  if (!r.ok) return s.fail(r.layer, r.reason);
  const g: IgmpRepr = r.value;
  const v = new IgmpView(b);
  const head = {
    layer: 'igmp',
    type: `0x${v.type.toString(16).padStart(2, '0')}`,
    typeName: IGMP_TYPE_NAMES[v.type] ?? null,
    checksum: hex16(v.checksum),
  };
  switch (g.kind) {
    case 'query':
      return s.push({
        ...head,
        kind: 'query',
        version: g.version,
        group: g.group,
        general: g.group === '0.0.0.0',
        maxRespCode: v.code,
        maxRespDs: g.maxRespDs,
        suppress: g.suppress,
        qrv: g.qrv,
        qqicSeconds: g.qqicSeconds,
        sources: [...g.sources],
      });
    case 'report':
      return s.push({ ...head, kind: 'report', version: g.version, group: g.group });
    case 'leave':
      return s.push({ ...head, kind: 'leave', group: g.group });
    case 'v3report':
      return s.push({
        ...head,
        kind: 'v3report',
        records: g.records.map((rec): Json => ({
          type: rec.type,
          typeName: IGMP_RECORD_NAMES[rec.type] ?? null,
          group: rec.group,
          sources: [...rec.sources],
          auxData: toHex(rec.auxData),
        })),
      });
  }
}
