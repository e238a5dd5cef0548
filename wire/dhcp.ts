// DHCP (RFC 2131/2132) with the RFC 4388 leasequery messages and options and the RFC 3046
// relay agent information option, in the contract of wire/README.md. The message layout and
// how options are read: docs/protocols.md 4.5; leasequery: docs/protocols.md 4.1.

import { EmitError, ok, reject, type WireResult } from './result.js';
import { ipAt, macAt, put16, put32, putMac, u16, u32, u8 } from './fields.js';
import { isMac, type Ipv4, type Mac } from '../model/address.js';
import { ipWordOrThrow, isUint } from './ipv4.js';

export const DHCP = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
  LEASEQUERY: 10,
  LEASEUNASSIGNED: 11,
  LEASEUNKNOWN: 12,
  LEASEACTIVE: 13,
} as const;

export const DHCP_SERVER_PORT = 67,
  DHCP_CLIENT_PORT = 68;

/** RFC 2131 §2, RFC 2132 §9.x/§3.x, RFC 3046, RFC 4388 §6. */
export const DHCP_OPT = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTERS: 3,
  /** no DhcpOptions field (kept in `other`); the sim's guest asks for it */
  DOMAIN_NAME_SERVERS: 6,
  /** no DhcpOptions field (kept in `other`); the sim's guest asks for it */
  DOMAIN_NAME: 15,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST_LIST: 55,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  RELAY_AGENT_INFO: 82,
  CLIENT_LAST_TRANSACTION_TIME: 91,
  ASSOCIATED_IP: 92,
  END: 255,
} as const;

/**
 * The codes the codec handles itself, by name: each has its own DhcpOptions field of that
 * name, except overload (52), which is rejected. Every other code but Pad/End goes to `other`.
 */
export const DHCP_OPTION_FIELDS: Readonly<Record<number, string>> = {
  [DHCP_OPT.SUBNET_MASK]: 'subnetMask',
  [DHCP_OPT.ROUTERS]: 'routers',
  [DHCP_OPT.REQUESTED_IP]: 'requestedIp',
  [DHCP_OPT.LEASE_TIME]: 'leaseTime',
  [DHCP_OPT.OVERLOAD]: 'optionOverload',
  [DHCP_OPT.MESSAGE_TYPE]: 'messageType',
  [DHCP_OPT.SERVER_ID]: 'serverId',
  [DHCP_OPT.PARAM_REQUEST_LIST]: 'paramRequestList',
  [DHCP_OPT.RENEWAL_TIME]: 'renewalTime',
  [DHCP_OPT.REBINDING_TIME]: 'rebindingTime',
  [DHCP_OPT.CLIENT_ID]: 'clientId',
  [DHCP_OPT.RELAY_AGENT_INFO]: 'relayAgentInfo',
  [DHCP_OPT.CLIENT_LAST_TRANSACTION_TIME]: 'clientLastTransactionTime',
  [DHCP_OPT.ASSOCIATED_IP]: 'associatedIps',
};

const F = {
  OP: 0,
  HTYPE: 1,
  HLEN: 2,
  HOPS: 3,
  XID: 4,
  SECS: 8,
  FLAGS: 10,
  CIADDR: 12,
  YIADDR: 16,
  SIADDR: 20,
  GIADDR: 24,
  CHADDR: 28,
  SNAME: 44,
  FILE: 108,
  COOKIE: 236,
  OPTIONS: 240,
} as const;

const CHADDR_LEN = 16;
const SNAME_LEN = 64;
const FILE_LEN = 128;
/** 99.130.83.99 */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** The fixed BOOTP part plus the cookie. */
export const DHCP_MIN_LEN = 240;
/** RFC 951's 300-byte BOOTP message (64-byte vend area); emit pads up to it like common clients. */
export const BOOTP_MIN_LEN = 300;
const FLAG_BROADCAST = 0x8000;

/** RFC 3046 §2.0: the relay agent information sub-options with their own field. */
const RELAY_SUBOPT = { CIRCUIT_ID: 1, REMOTE_ID: 2 } as const;

export interface RelayAgentInfo {
  /** sub-option 1 */
  circuitId: Uint8Array | null;
  /** sub-option 2 */
  remoteId: Uint8Array | null;
  /** every other sub-option, in order */
  other: { code: number; data: Uint8Array }[];
}

export interface DhcpOptions {
  messageType: number | null; // 53
  subnetMask: Ipv4 | null; // 1
  routers: Ipv4[]; // 3
  requestedIp: Ipv4 | null; // 50
  leaseTime: number | null; // 51, seconds
  serverId: Ipv4 | null; // 54
  paramRequestList: number[]; // 55
  renewalTime: number | null; // 58
  rebindingTime: number | null; // 59
  clientId: Uint8Array | null; // 61
  relayAgentInfo: RelayAgentInfo | null; // 82
  clientLastTransactionTime: number | null; // 91 (RFC 4388), seconds
  associatedIps: Ipv4[]; // 92 (RFC 4388)
  /** everything else, in order of first appearance (repeats concatenated) */
  other: { code: number; data: Uint8Array }[];
}

export interface DhcpRepr {
  op: 1 | 2;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  broadcast: boolean;
  ciaddr: Ipv4;
  yiaddr: Ipv4;
  siaddr: Ipv4;
  giaddr: Ipv4;
  /** the first 6 chaddr bytes when hlen is 6 (htype 1 = Ethernet); null for any other hlen (0 = a leasequery by IP) */
  chaddr: Mac | null;
  /** NUL-terminated text; each byte is one char (codes 0–255) */
  sname: string;
  file: string;
  options: DhcpOptions;
}

export function emptyDhcpOptions(): DhcpOptions {
  return {
    messageType: null,
    subnetMask: null,
    routers: [],
    requestedIp: null,
    leaseTime: null,
    serverId: null,
    paramRequestList: [],
    renewalTime: null,
    rebindingTime: null,
    clientId: null,
    relayAgentInfo: null,
    clientLastTransactionTime: null,
    associatedIps: [],
    other: [],
  };
}

const TYPE_NAMES: Record<number, string> = {
  [DHCP.DISCOVER]: 'DHCPDISCOVER',
  [DHCP.OFFER]: 'DHCPOFFER',
  [DHCP.REQUEST]: 'DHCPREQUEST',
  [DHCP.DECLINE]: 'DHCPDECLINE',
  [DHCP.ACK]: 'DHCPACK',
  [DHCP.NAK]: 'DHCPNAK',
  [DHCP.RELEASE]: 'DHCPRELEASE',
  [DHCP.INFORM]: 'DHCPINFORM',
  9: 'DHCPFORCERENEW', // RFC 3203
  [DHCP.LEASEQUERY]: 'DHCPLEASEQUERY',
  [DHCP.LEASEUNASSIGNED]: 'DHCPLEASEUNASSIGNED',
  [DHCP.LEASEUNKNOWN]: 'DHCPLEASEUNKNOWN',
  [DHCP.LEASEACTIVE]: 'DHCPLEASEACTIVE',
  14: 'DHCPBULKLEASEQUERY', // RFC 6926
  15: 'DHCPLEASEQUERYDONE',
  16: 'DHCPACTIVELEASEQUERY', // RFC 7724
  17: 'DHCPLEASEQUERYSTATUS',
  18: 'DHCPTLS',
};

/** 'DHCPACK', 'DHCPLEASEACTIVE', …; an unassigned value gives 'DHCP type N'. */
export function dhcpTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `DHCP type ${t}`;
}

export class DhcpView {
  constructor(readonly bytes: Uint8Array) {}

  /** The fixed part: length, cookie, op, hlen. Option framing is checked by parseDhcp. */
  check(): string | null {
    if (this.bytes.length < DHCP_MIN_LEN) return `DHCP message of ${this.bytes.length} bytes is shorter than 240`;
    if (this.cookie !== DHCP_MAGIC_COOKIE) return 'bad DHCP magic cookie';
    if (this.op !== 1 && this.op !== 2) return `BOOTP op ${this.op} is neither 1 nor 2`;
    if (this.hlen > CHADDR_LEN) return `hardware address length ${this.hlen} exceeds 16`;
    return null;
  }

  get op(): number {
    return u8(this.bytes, F.OP);
  }
  get htype(): number {
    return u8(this.bytes, F.HTYPE);
  }
  get hlen(): number {
    return u8(this.bytes, F.HLEN);
  }
  get hops(): number {
    return u8(this.bytes, F.HOPS);
  }
  get xid(): number {
    return u32(this.bytes, F.XID);
  }
  get secs(): number {
    return u16(this.bytes, F.SECS);
  }
  get broadcast(): boolean {
    return (u16(this.bytes, F.FLAGS) & FLAG_BROADCAST) !== 0;
  }
  get ciaddr(): Ipv4 {
    return ipAt(this.bytes, F.CIADDR);
  }
  get yiaddr(): Ipv4 {
    return ipAt(this.bytes, F.YIADDR);
  }
  get siaddr(): Ipv4 {
    return ipAt(this.bytes, F.SIADDR);
  }
  get giaddr(): Ipv4 {
    return ipAt(this.bytes, F.GIADDR);
  }
  get chaddr(): Mac | null {
    return this.hlen === 6 ? macAt(this.bytes, F.CHADDR) : null;
  }
  get sname(): string {
    return textAt(this.bytes, F.SNAME, SNAME_LEN);
  }
  get file(): string {
    return textAt(this.bytes, F.FILE, FILE_LEN);
  }
  get cookie(): number {
    return u32(this.bytes, F.COOKIE);
  }
  get options(): Uint8Array {
    return this.bytes.subarray(Math.min(F.OPTIONS, this.bytes.length));
  }
}

/** Bytes up to the first NUL (or the field's end), one char per byte. */
function textAt(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const c = b[i] ?? 0;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

function ipsOf(d: Uint8Array): Ipv4[] {
  const out: Ipv4[] = [];
  for (let i = 0; i + 4 <= d.length; i += 4) out.push(ipAt(d, i));
  return out;
}

function parseRelayAgentInfo(d: Uint8Array): RelayAgentInfo | string {
  const info: RelayAgentInfo = { circuitId: null, remoteId: null, other: [] };
  let i = 0;
  while (i < d.length) {
    if (i + 2 > d.length) return 'option 82 sub-option has no length byte';
    const code = d[i]!;
    const len = d[i + 1]!;
    if (i + 2 + len > d.length) return `option 82 sub-option ${code} runs past the option`;
    const data = d.subarray(i + 2, i + 2 + len);
    if (code === RELAY_SUBOPT.CIRCUIT_ID) {
      if (info.circuitId !== null) return 'option 82 repeats the circuit-id sub-option';
      info.circuitId = data;
    } else if (code === RELAY_SUBOPT.REMOTE_ID) {
      if (info.remoteId !== null) return 'option 82 repeats the remote-id sub-option';
      info.remoteId = data;
    } else {
      info.other.push({ code, data });
    }
    i += 2 + len;
  }
  return info;
}

/** Decode one (concatenated) option into `o`; a string is the rejection reason. */
function decodeOption(o: DhcpOptions, code: number, d: Uint8Array): string | null {
  const n = d.length;
  switch (code) {
    case DHCP_OPT.MESSAGE_TYPE:
      if (n !== 1) return `option 53 (message type) has length ${n}, not 1`;
      o.messageType = d[0]!;
      return null;
    case DHCP_OPT.SUBNET_MASK:
    case DHCP_OPT.REQUESTED_IP:
    case DHCP_OPT.SERVER_ID:
      if (n !== 4) return `option ${code} (an address) has length ${n}, not 4`;
      if (code === DHCP_OPT.SUBNET_MASK) o.subnetMask = ipAt(d, 0);
      else if (code === DHCP_OPT.REQUESTED_IP) o.requestedIp = ipAt(d, 0);
      else o.serverId = ipAt(d, 0);
      return null;
    case DHCP_OPT.LEASE_TIME:
    case DHCP_OPT.RENEWAL_TIME:
    case DHCP_OPT.REBINDING_TIME:
    case DHCP_OPT.CLIENT_LAST_TRANSACTION_TIME:
      if (n !== 4) return `option ${code} (a time) has length ${n}, not 4`;
      if (code === DHCP_OPT.LEASE_TIME) o.leaseTime = u32(d, 0);
      else if (code === DHCP_OPT.RENEWAL_TIME) o.renewalTime = u32(d, 0);
      else if (code === DHCP_OPT.REBINDING_TIME) o.rebindingTime = u32(d, 0);
      else o.clientLastTransactionTime = u32(d, 0);
      return null;
    case DHCP_OPT.ROUTERS:
    case DHCP_OPT.ASSOCIATED_IP:
      if (n === 0 || n % 4 !== 0) return `option ${code} (address list) has length ${n}, not a positive multiple of 4`;
      if (code === DHCP_OPT.ROUTERS) o.routers = ipsOf(d);
      else o.associatedIps = ipsOf(d);
      return null;
    case DHCP_OPT.PARAM_REQUEST_LIST:
      if (n === 0) return 'option 55 (parameter request list) is empty';
      o.paramRequestList = Array.from(d);
      return null;
    case DHCP_OPT.CLIENT_ID:
      if (n < 2) return `option 61 (client identifier) has length ${n}, below 2`;
      o.clientId = d;
      return null;
    case DHCP_OPT.RELAY_AGENT_INFO: {
      const info = parseRelayAgentInfo(d);
      if (typeof info === 'string') return info;
      o.relayAgentInfo = info;
      return null;
    }
    case DHCP_OPT.OVERLOAD:
      return 'option 52 (option overload) is not supported';
    default:
      o.other.push({ code, data: d });
      return null;
  }
}

export function parseDhcp(b: Uint8Array): WireResult<DhcpRepr> {
  const v = new DhcpView(b);
  const bad = v.check();
  if (bad !== null) return reject('dhcp', bad);

  // Walk the option area, gathering each code's pieces in order of first appearance.
  const pieces = new Map<number, Uint8Array[]>();
  let i: number = F.OPTIONS;
  while (i < b.length) {
    const code = b[i]!;
    if (code === DHCP_OPT.PAD) {
      i += 1;
      continue;
    }
    if (code === DHCP_OPT.END) break;
    if (i + 1 >= b.length) return reject('dhcp', `option ${code} has no length byte`);
    const len = b[i + 1]!;
    if (i + 2 + len > b.length) return reject('dhcp', `option ${code} runs past the end of the message`);
    const data = b.subarray(i + 2, i + 2 + len);
    const list = pieces.get(code);
    if (list) list.push(data);
    else pieces.set(code, [data]);
    i += 2 + len;
  }

  const options = emptyDhcpOptions();
  for (const [code, parts] of pieces) {
    const why = decodeOption(options, code, concat(parts));
    if (why !== null) return reject('dhcp', why);
  }

  return ok({
    op: v.op as 1 | 2,
    htype: v.htype,
    hlen: v.hlen,
    hops: v.hops,
    xid: v.xid,
    secs: v.secs,
    broadcast: v.broadcast,
    ciaddr: v.ciaddr,
    yiaddr: v.yiaddr,
    siaddr: v.siaddr,
    giaddr: v.giaddr,
    chaddr: v.chaddr,
    sname: v.sname,
    file: v.file,
    options,
  });
}

// ---------------------------------------------------------------------------------------
// emit

/** codes `other` may not carry: Pad, End and those the codec handles itself */
const KNOWN_CODES = new Set<number>([DHCP_OPT.PAD, DHCP_OPT.END, ...Object.keys(DHCP_OPTION_FIELDS).map(Number)]);

function u32Bytes(layer: string, what: string, v: number): Uint8Array {
  if (!isUint(v, 0xffffffff)) throw new EmitError(layer, `${what} ${v} is not a 32-bit unsigned integer`);
  const out = new Uint8Array(4);
  put32(out, 0, v);
  return out;
}

function ipBytes(field: string, ips: Ipv4[]): Uint8Array {
  const out = new Uint8Array(ips.length * 4);
  ips.forEach((ip, k) => put32(out, k * 4, ipWordOrThrow('dhcp', field, ip)));
  return out;
}

function relayAgentBytes(info: RelayAgentInfo): Uint8Array {
  const subs: { code: number; data: Uint8Array }[] = [];
  if (info.circuitId !== null) subs.push({ code: RELAY_SUBOPT.CIRCUIT_ID, data: info.circuitId });
  if (info.remoteId !== null) subs.push({ code: RELAY_SUBOPT.REMOTE_ID, data: info.remoteId });
  for (const s of info.other) {
    if (!isUint(s.code, 255) || s.code === RELAY_SUBOPT.CIRCUIT_ID || s.code === RELAY_SUBOPT.REMOTE_ID) {
      throw new EmitError('dhcp', `option 82 sub-option code ${s.code} in 'other' is invalid or has its own field`);
    }
    subs.push(s);
  }
  let n = 0;
  for (const s of subs) {
    if (s.data.length > 255) throw new EmitError('dhcp', `option 82 sub-option ${s.code} is ${s.data.length} bytes, over 255`);
    n += 2 + s.data.length;
  }
  const out = new Uint8Array(n);
  n = 0;
  for (const s of subs) {
    out[n] = s.code;
    out[n + 1] = s.data.length;
    out.set(s.data, n + 2);
    n += 2 + s.data.length;
  }
  return out;
}

/** (code, data) pairs for every present option, 53 first then ascending code. */
function optionList(o: DhcpOptions): { code: number; data: Uint8Array }[] {
  const L = 'dhcp';
  const list: { code: number; data: Uint8Array }[] = [];
  if (o.messageType !== null) {
    if (!isUint(o.messageType, 255)) throw new EmitError(L, `message type ${o.messageType} is not 0..255`);
    list.push({ code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(o.messageType) });
  }
  const rest: { code: number; data: Uint8Array }[] = [];
  if (o.subnetMask !== null) rest.push({ code: DHCP_OPT.SUBNET_MASK, data: ipBytes('subnet mask', [o.subnetMask]) });
  if (o.routers.length > 0) rest.push({ code: DHCP_OPT.ROUTERS, data: ipBytes('router', o.routers) });
  if (o.requestedIp !== null) rest.push({ code: DHCP_OPT.REQUESTED_IP, data: ipBytes('requested IP', [o.requestedIp]) });
  if (o.leaseTime !== null) rest.push({ code: DHCP_OPT.LEASE_TIME, data: u32Bytes(L, 'lease time', o.leaseTime) });
  if (o.serverId !== null) rest.push({ code: DHCP_OPT.SERVER_ID, data: ipBytes('server identifier', [o.serverId]) });
  if (o.paramRequestList.length > 0) {
    for (const p of o.paramRequestList) if (!isUint(p, 255)) throw new EmitError(L, `parameter request ${p} is not 0..255`);
    rest.push({ code: DHCP_OPT.PARAM_REQUEST_LIST, data: Uint8Array.from(o.paramRequestList) });
  }
  if (o.renewalTime !== null) rest.push({ code: DHCP_OPT.RENEWAL_TIME, data: u32Bytes(L, 'renewal time', o.renewalTime) });
  if (o.rebindingTime !== null) rest.push({ code: DHCP_OPT.REBINDING_TIME, data: u32Bytes(L, 'rebinding time', o.rebindingTime) });
  if (o.clientId !== null) {
    if (o.clientId.length < 2) throw new EmitError(L, 'client identifier shorter than 2 bytes (RFC 2132 §9.14)');
    rest.push({ code: DHCP_OPT.CLIENT_ID, data: o.clientId });
  }
  if (o.relayAgentInfo !== null) rest.push({ code: DHCP_OPT.RELAY_AGENT_INFO, data: relayAgentBytes(o.relayAgentInfo) });
  if (o.clientLastTransactionTime !== null) {
    rest.push({ code: DHCP_OPT.CLIENT_LAST_TRANSACTION_TIME, data: u32Bytes(L, 'client last transaction time', o.clientLastTransactionTime) });
  }
  if (o.associatedIps.length > 0) rest.push({ code: DHCP_OPT.ASSOCIATED_IP, data: ipBytes('associated IP', o.associatedIps) });
  const seen = new Set<number>();
  for (const x of o.other) {
    if (!isUint(x.code, 255) || KNOWN_CODES.has(x.code)) {
      throw new EmitError(L, `option code ${x.code} in 'other' is invalid, Pad/End/overload, or has its own field`);
    }
    if (seen.has(x.code)) throw new EmitError(L, `option ${x.code} appears twice in 'other'`);
    seen.add(x.code);
    rest.push(x);
  }
  rest.sort((a, b) => a.code - b.code); // stable; codes are distinct
  return list.concat(rest);
}

/** Bytes one option takes: RFC 3396 splits data over ceil(len/255) instances (at least one). */
function optionWireLen(len: number): number {
  const instances = Math.max(1, Math.ceil(len / 255));
  return instances * 2 + len;
}

function putText(layer: string, what: string, out: Uint8Array, off: number, max: number, s: string): void {
  if (typeof s !== 'string' || s.length > max) throw new EmitError(layer, `${what} is not a string of at most ${max} chars`);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0 || c > 0xff) throw new EmitError(layer, `${what} has char code ${c}, not 1..255`);
    out[off + k] = c;
  }
}

export function emitDhcp(r: DhcpRepr): Uint8Array {
  const L = 'dhcp';
  if (r.op !== 1 && r.op !== 2) throw new EmitError(L, `op ${String(r.op)} is neither 1 nor 2`);
  if (!isUint(r.htype, 255)) throw new EmitError(L, `htype ${r.htype} is not 0..255`);
  if (!isUint(r.hlen, CHADDR_LEN)) throw new EmitError(L, `hlen ${r.hlen} is not 0..16`);
  if (!isUint(r.hops, 255)) throw new EmitError(L, `hops ${r.hops} is not 0..255`);
  if (!isUint(r.xid, 0xffffffff)) throw new EmitError(L, `xid ${r.xid} is not 32-bit`);
  if (!isUint(r.secs, 0xffff)) throw new EmitError(L, `secs ${r.secs} is not 16-bit`);
  if (r.chaddr !== null) {
    if (r.hlen !== 6) throw new EmitError(L, `chaddr is a MAC but hlen is ${r.hlen}, not 6`);
    if (typeof r.chaddr !== 'string' || !isMac(r.chaddr.toLowerCase())) throw new EmitError(L, `chaddr ${String(r.chaddr)} is not a MAC`);
  } else if (r.hlen === 6) {
    throw new EmitError(L, 'hlen is 6 but chaddr is null');
  }

  const opts = optionList(r.options);
  let len: number = F.OPTIONS + 1; // + End
  for (const o of opts) len += optionWireLen(o.data.length);
  const out = new Uint8Array(Math.max(len, BOOTP_MIN_LEN));

  out[F.OP] = r.op;
  out[F.HTYPE] = r.htype;
  out[F.HLEN] = r.hlen;
  out[F.HOPS] = r.hops;
  put32(out, F.XID, r.xid);
  put16(out, F.SECS, r.secs);
  put16(out, F.FLAGS, r.broadcast ? FLAG_BROADCAST : 0);
  put32(out, F.CIADDR, ipWordOrThrow(L, 'ciaddr', r.ciaddr));
  put32(out, F.YIADDR, ipWordOrThrow(L, 'yiaddr', r.yiaddr));
  put32(out, F.SIADDR, ipWordOrThrow(L, 'siaddr', r.siaddr));
  put32(out, F.GIADDR, ipWordOrThrow(L, 'giaddr', r.giaddr));
  if (r.chaddr !== null) putMac(out, F.CHADDR, r.chaddr);
  putText(L, 'sname', out, F.SNAME, SNAME_LEN, r.sname);
  putText(L, 'file', out, F.FILE, FILE_LEN, r.file);
  put32(out, F.COOKIE, DHCP_MAGIC_COOKIE);

  let p: number = F.OPTIONS;
  for (const o of opts) {
    let k = 0;
    do {
      const chunk = Math.min(255, o.data.length - k);
      out[p] = o.code;
      out[p + 1] = chunk;
      out.set(o.data.subarray(k, k + chunk), p + 2);
      p += 2 + chunk;
      k += chunk;
    } while (k < o.data.length);
  }
  out[p] = DHCP_OPT.END;
  return out;
}
