// The data-plane processes of a testbed LAN, compiled, each in its own network namespace,
// with the real software they drive — ISC dhcpd (hosts/dhcp/main.ts), busybox udhcpc and the
// guest's kernel IGMP (hosts/vm/main.ts), the multicast source and the probe
// (hosts/traffic/) — joined by a "switch" namespace that repeats every frame of a port to
// the others with tc mirred (a hub; no Linux bridge). A fifth namespace ("q", at the
// switch's address .254) speaks raw frames with our PcapPort and codecs: leasequeries as a
// relay, IGMP queries to the VM's MAC.
//
//   dhcp  10.77.0.1   node dist/hosts/dhcp/main.js  → dhcpd -4 -f -d …
//   vm    (DHCP)      node dist/hosts/vm/main.js → busybox udhcpc, kernel IGMP, echo
//   ms    10.77.0.3   node dist/hosts/traffic/msource.js
//   probe 10.77.0.2   node dist/hosts/traffic/probe.js
//   q     10.77.0.254 nstool (helpers.ts)
//
// `npm run test:procs` (root; apt-get install iproute2 isc-dhcp-server busybox libpcap-dev).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressing } from '../../model/scenario/addressing.js';
import { parseArp } from '../../wire/arp.js';
import { igmpFrame } from '../../wire/compose.js';
import { DHCP, emitDhcp, parseDhcp, type DhcpRepr } from '../../wire/dhcp.js';
import { leasequeryMessage } from '../../switch/leasequery-client.js';
import { ETHERTYPE, parseEthernet } from '../../wire/ethernet.js';
import { ipToU32 } from '../../model/address.js';
import { IGMP_RECORD, parseIgmp, type IgmpRepr } from '../../wire/igmp.js';
import { IP_PROTO, parseIpv4, type Ipv4Repr } from '../../wire/ipv4.js';
import { parseUdp } from '../../wire/udp.js';
import { alive, Bed, build, dist, ms, percentile, readNdjson, runSync, sleep, startTool, stopProcess, until, type Child, type NsTool, type Obs } from './helpers.js';

const SUBNET = '10.77.0.0/24';
const LEASE_S = 600;
const ADDR = addressing(SUBNET, 1);
const VM_MAC = '02:00:00:00:01:01';
const Q_MAC = '02:5e:00:00:be:01';
const GROUPS = ['239.1.1.1', '239.2.2.2'];
const UNKNOWN_MAC = '02:00:00:00:09:09';

interface Lan {
  bed: Bed;
  dhcp: Child;
  vm: Child;
  q: NsTool;
  vmLog: string;
  dhcpLog: string;
  vmIp: string;
  leasedAt: bigint;
  agentStartedAt: bigint;
}

let lan: Lan | null = null;
const report: string[] = [];

function L(): Lan {
  if (!lan) throw new Error('set-up failed');
  return lan;
}

const vmObs = (): Obs[] => readNdjson(L().vmLog);
const more = () => (lan ? lan.bed.diagnostics() : '');

/** The layers of a frame we look at. */
function classify(bytes: Uint8Array) {
  const e = parseEthernet(bytes);
  if (!e.ok) return null;
  const eth = e.value;
  if (eth.ethertype === ETHERTYPE.ARP) {
    const a = parseArp(eth.payload);
    return a.ok ? { eth, arp: a.value } : null;
  }
  if (eth.ethertype !== ETHERTYPE.IPV4) return { eth };
  const ip = parseIpv4(eth.payload);
  if (!ip.ok) return { eth };
  if (ip.value.protocol === IP_PROTO.IGMP) {
    const g = parseIgmp(ip.value.payload);
    return { eth, ip: ip.value, igmp: g.ok ? g.value : null };
  }
  if (ip.value.protocol === IP_PROTO.UDP) {
    const u = parseUdp(ip.value.payload, ip.value.src, ip.value.dst);
    if (!u.ok) return { eth, ip: ip.value };
    const isDhcp = u.value.srcPort === 67 || u.value.dstPort === 67 || u.value.srcPort === 68 || u.value.dstPort === 68;
    const d = isDhcp ? parseDhcp(u.value.payload) : null;
    return { eth, ip: ip.value, udp: u.value, dhcp: d?.ok ? d.value : null };
  }
  return { eth, ip: ip.value };
}

function v3Report(bytes: Uint8Array): Extract<IgmpRepr, { kind: 'v3report' }> | null {
  const c = classify(bytes);
  if (!c || !('igmp' in c) || !c.igmp || c.igmp.kind !== 'v3report' || c.eth.src !== VM_MAC) return null;
  return c.igmp;
}

/** The switch's own DHCPLEASEQUERY (switch/leasequery-client.ts), from its address on the segment. */
function leasequery(by: { mac: string } | { ip: string }, xid: number): Uint8Array {
  return emitDhcp(leasequeryMessage(by, xid, ADDR.switchIp));
}

/** Send a leasequery from q (as a relay: from .254:67 to the server's :67); the answer and the round trip. */
async function ask(by: { mac: string } | { ip: string }, xid: number): Promise<{ reply: DhcpRepr; rttMs: number; from: string; port: number }> {
  const r = await L().q.request({ op: 'udp-request', bind: ADDR.switchIp, bindPort: 67, dst: ADDR.serverIp, dstPort: 67, hex: Buffer.from(leasequery(by, xid)).toString('hex'), timeoutMs: 3000 });
  if (r.error) throw new Error(`leasequery ${JSON.stringify(by)}: ${r.error}`);
  const p = parseDhcp(new Uint8Array(Buffer.from(r.hex as string, 'hex')));
  if (!p.ok) throw new Error(`leasequery reply does not parse: ${p.reason}`);
  return { reply: p.value, rttMs: ms(BigInt(r.t1 as string) - BigInt(r.t0 as string)), from: r.from as string, port: r.port as number };
}

function query(group: string | null, dstMac: string): Uint8Array {
  return igmpFrame({
    srcMac: Q_MAC, dstMac, srcIp: ADDR.switchIp, dstIp: group ?? '224.0.0.1',
    igmp: { kind: 'query', version: 3, group: group ?? '0.0.0.0', maxRespDs: 1, suppress: false, qrv: 2, qqicSeconds: 125, sources: [] },
  });
}

describe('testbed LAN processes in namespaces: real dhcpd, udhcpc, kernel IGMP', () => {
  beforeAll(async () => {
    let bed: Bed | null = null;
    try {
      bed = new Bed('lan');
      build();
      for (const role of ['sw', 'dhcp', 'vm', 'q', 'ms', 'probe']) bed.addNetns(role);
      const sw = bed.ns('sw');
      const ports: string[] = [];
      for (const role of ['dhcp', 'vm', 'q', 'ms', 'probe']) {
        const port = `p-${role}`;
        bed.veth(sw, port, bed.ns(role), 'eth0', role === 'vm' ? { bMac: VM_MAC } : role === 'q' ? { bMac: Q_MAC } : {});
        ports.push(port);
      }
      bed.hub(sw, ports);
      // the orchestrator's static addresses (sim/lan.ts addressing()); dhcp/main.ts sets .1 itself
      bed.addr(bed.ns('q'), 'eth0', `${ADDR.switchIp}/24`);
      bed.addr(bed.ns('ms'), 'eth0', `${ADDR.sourceIp(0)}/24`);
      bed.addr(bed.ns('probe'), 'eth0', `${ADDR.probeIp}/24`);

      const dhcpLog = `${bed.tmp}/dhcpd.ndjson`;
      const dhcp = bed.node(bed.ns('dhcp'), dist('hosts/dhcp/main.js'), ['--subnet', SUBNET, '--lease-time', `${LEASE_S}s`, '--sources', '1', '--dir', `${bed.tmp}/dhcp`, '--log', dhcpLog], 'dhcp');
      await until(() => readNdjson(dhcpLog).some((o) => o.kind === 'dhcpd' && String(o.line).includes('Server starting service')), 15_000, 'dhcpd serving', () => bed!.diagnostics());

      const q = startTool(bed, bed.ns('q'), 'eth0', 'q');
      await q.ready;

      const vmLog = `${bed.tmp}/vm/vm.ndjson`;
      const agentStartedAt = process.hrtime.bigint();
      const vm = bed.node(bed.ns('vm'), dist('hosts/vm/main.js'), ['--name', 'vm1', ...GROUPS.flatMap((g) => ['--group', g]), '--log', vmLog, '--dhcp-log', `${bed.tmp}/vm/udhcpc.ndjson`, '--announce-igmp'], 'vm');
      const leased = await until(() => readNdjson(vmLog).find((o) => o.kind === 'leased'), 20_000, 'the VM leased', () => bed!.diagnostics());
      lan = { bed, dhcp, vm, q, vmLog, dhcpLog, vmIp: String(leased.ip), leasedAt: leased.t, agentStartedAt };
    } catch (e) {
      bed?.cleanup();
      throw e;
    }
  });

  afterAll(() => {
    if (lan) {
      lan.bed.cleanup();
      const left = lan.bed.leftovers();
      if (report.length > 0) process.stdout.write(`\n${report.join('\n')}\n`);
      expect(left).toEqual([]);
    }
  });

  it('the VM gets a lease from the real dhcpd through busybox udhcpc and the script', () => {
    const { vmIp, leasedAt, agentStartedAt } = L();
    expect(ipToU32(vmIp)).toBeGreaterThanOrEqual(ipToU32(ADDR.poolFirst));
    expect(ipToU32(vmIp)).toBeLessThanOrEqual(ipToU32(ADDR.poolLast));
    const obs = vmObs();
    const leased = obs.find((o) => o.kind === 'leased')!;
    expect(leased).toMatchObject({ ip: vmIp, event: 'bound', lease: LEASE_S, serverid: ADDR.serverIp, mask: '24' });
    // the memberships follow the lease, on its address
    for (const g of GROUPS) expect(obs.some((o) => o.kind === 'joined' && o.group === g && o.ip === vmIp)).toBe(true);
    const dhcpd = readNdjson(L().dhcpLog).filter((o) => o.kind === 'dhcpd').map((o) => String(o.line));
    expect(dhcpd.some((l) => l.startsWith(`DHCPACK on ${vmIp} to ${VM_MAC} (vm1) via eth0`))).toBe(true);
    // the address is on the VM's interface (the script configured it)
    expect(runSync(L().bed.ip, ['-n', L().bed.ns('vm'), '-4', 'addr', 'show', 'dev', 'eth0']).out).toContain(`inet ${vmIp}/24`);
    const discover = obs.find((o) => o.kind === 'udhcpc' && String(o.line).includes('broadcasting discover'))!;
    report.push(`lease: udhcpc's first discover → leased (address configured) ${ms(leasedAt - discover.t).toFixed(1)} ms; agent start → leased ${ms(leasedAt - agentStartedAt).toFixed(1)} ms`);
  });

  it('a DHCPLEASEQUERY by MAC from a relay address gets DHCPLEASEACTIVE for the VM from the real dhcpd (options 51/58/59/91 as docs/protocols.md 4.3)', async () => {
    const { vmIp } = L();
    const rtts: number[] = [];
    let first: Awaited<ReturnType<typeof ask>> | null = null;
    for (let i = 0; i < 20; i++) {
      const a = await ask({ mac: VM_MAC }, 0x4c510000 + i);
      first ??= a;
      rtts.push(a.rttMs);
      const r = a.reply;
      expect(r.op).toBe(2);
      expect(r.xid).toBe(0x4c510000 + i);
      expect(r.options.messageType).toBe(DHCP.LEASEACTIVE);
      expect(r.ciaddr).toBe(vmIp);
      expect(r.chaddr).toBe(VM_MAC);
      expect(r.giaddr).toBe(ADDR.switchIp);
      expect(r.options.serverId).toBe(ADDR.serverIp);
      // remaining times: lease, T1 and T2 less the lease's age (91, client last transaction time)
      const age = r.options.clientLastTransactionTime!;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(Math.abs(r.options.leaseTime! + age - LEASE_S)).toBeLessThanOrEqual(1);
      expect(Math.abs(r.options.renewalTime! + age - LEASE_S / 2)).toBeLessThanOrEqual(1);
      expect(Math.abs(r.options.rebindingTime! + age - (LEASE_S * 7) / 8)).toBeLessThanOrEqual(1);
      expect(r.options.renewalTime!).toBeLessThan(r.options.rebindingTime!);
      expect(r.options.rebindingTime!).toBeLessThan(r.options.leaseTime!);
    }
    // the answer comes from the server's port 67 to the relay's (giaddr) port 67
    expect(first!.from).toBe(ADDR.serverIp);
    expect(first!.port).toBe(67);
    const o = first!.reply.options;
    // the same answer by IP
    const byIp = await ask({ ip: vmIp }, 0x4c51ff01);
    expect(byIp.reply.options.messageType).toBe(DHCP.LEASEACTIVE);
    expect(byIp.reply.chaddr).toBe(VM_MAC);
    expect(byIp.reply.ciaddr).toBe(vmIp);
    // a MAC the server never saw, an address of the pool nobody holds, one outside any pool
    const unknown = await ask({ mac: UNKNOWN_MAC }, 0x4c51ff02);
    expect(unknown.reply.options.messageType).toBe(DHCP.LEASEUNKNOWN);
    const free = ADDR.poolLast;
    expect(free).not.toBe(vmIp);
    expect((await ask({ ip: free }, 0x4c51ff03)).reply.options.messageType).toBe(DHCP.LEASEUNASSIGNED);
    expect((await ask({ ip: ADDR.probeIp }, 0x4c51ff04)).reply.options.messageType).toBe(DHCP.LEASEUNKNOWN);
    const dhcpd = readNdjson(L().dhcpLog).filter((x) => x.kind === 'dhcpd').map((x) => String(x.line));
    expect(dhcpd.some((l) => l.startsWith(`DHCPLEASEACTIVE to ${ADDR.switchIp} for MAC address ${VM_MAC}`))).toBe(true);
    const sorted = [...rtts].sort((a, b) => a - b);
    report.push(`leasequery (real dhcpd 4.4.3-P1) round trip over 20 by MAC: first ${rtts[0]!.toFixed(2)} ms (with ARP for giaddr), median ${percentile(sorted, 50).toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms; ` +
      `answer 51=${o.leaseTime}s 58=${o.renewalTime}s 59=${o.rebindingTime}s 91=${o.clientLastTransactionTime}s 54=${o.serverId}`);
  });

  it('the guest kernel answers an IGMPv3 group-specific query to its MAC with a report for that group within the max response time', async () => {
    const { q } = L();
    // let the join's unsolicited state-change reports (≤ 1 s apart, robustness 2) pass
    const joined = vmObs().filter((o) => o.kind === 'joined').at(-1)!;
    const settle = Number(joined.t + 2_500_000_000n - process.hrtime.bigint()) / 1e6;
    if (settle > 0) await sleep(settle);
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const group = GROUPS[i % GROUPS.length]!;
      const sentAt = await q.send(query(group, VM_MAC));
      const f = await q.waitFrame((x) => v3Report(x.bytes) !== null, sentAt, 2000, `a report after the query for ${group}`);
      const rep = v3Report(f.bytes)!;
      // a group-specific query is answered with that group only, as its current state (IS_EX {})
      expect(rep.records).toEqual([{ type: IGMP_RECORD.IS_EX, group, sources: [], auxData: new Uint8Array(0) }]);
      const c = classify(f.bytes)!;
      expect(c.eth.dst).toBe('01:00:5e:00:00:16');
      expect('ip' in c && c.ip?.dst).toBe('224.0.0.22');
      expect('ip' in c && c.ip?.ttl).toBe(1);
      delays.push(ms(f.t - sentAt));
      await sleep(150);
    }
    // Linux: random(max) + 2 jiffies (protocols.md 5.3); 100 ms + 2 jiffies at HZ ≥ 100, + capture
    for (const d of delays) expect(d).toBeLessThan(125);
    const sorted = [...delays].sort((a, b) => a - b);
    report.push(`IGMPv3 group-specific query (Max Resp 100 ms) → kernel report: ${sorted.length} queries, min ${sorted[0]!.toFixed(1)} ms, median ${percentile(sorted, 50).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);

    // a general query: one report with every group
    const gAt = await q.send(query(null, '01:00:5e:00:00:01'));
    const g = await q.waitFrame((x) => v3Report(x.bytes) !== null, gAt, 2000, 'a report after the general query');
    expect(v3Report(g.bytes)!.records.map((r) => [r.type, r.group]).sort()).toEqual(GROUPS.map((grp) => [IGMP_RECORD.IS_EX, grp]).sort());

    // a query to another host's MAC is not the VM's business: no report
    await sleep(200);
    const otherAt = await q.send(query(GROUPS[0]!, '02:00:00:00:07:07'));
    await sleep(400);
    await q.fetch();
    expect(q.frames.filter((x) => x.t >= otherAt && v3Report(x.bytes) !== null)).toEqual([]);
  });

  it('the multicast source sends a numbered stream the VM receives in order, without loss', async () => {
    const { bed, vmIp } = L();
    const log = `${bed.tmp}/msource.ndjson`;
    const count = 1500;
    const before = vmObs().length;
    const src = bed.node(bed.ns('ms'), dist('hosts/traffic/msource.js'), ['--ip', ADDR.sourceIp(0), '--group', GROUPS[0]!, '--rate', '1000', '--size', '1200', '--count', String(count), '--log', log], 'msource');
    const exit = await src.exited;
    expect(exit.code, src.output()).toBe(0);
    const slog = readNdjson(log);
    expect(slog.at(-1)).toMatchObject({ kind: 'stop', sent: count, errors: 0, reason: 'count' });
    const start = slog.find((o) => o.kind === 'start')!;
    expect(start).toMatchObject({ group: GROUPS[0], ip: ADDR.sourceIp(0), rate: 1000, size: 1200, srcPort: 5000, port: 5001, ttl: 16 });
    // sparse: the first, one a second, the last
    expect(slog.filter((o) => o.kind === 'sent').map((o) => o.seq)).toEqual([0, 1000, count - 1]);
    await until(() => vmObs().slice(before).filter((o) => o.kind === 'multicast').length >= count, 5000, 'every datagram at the VM', more);
    const got = vmObs().slice(before).filter((o) => o.kind === 'multicast');
    expect(got.every((o) => o.group === GROUPS[0] && o.bytes === 1200)).toBe(true);
    expect(got.map((o) => o.seq)).toEqual(Array.from({ length: count }, (_, k) => k));
    // pacing: the k-th is due at start + k ms; received (one way, kernel to kernel, plus event loops) close to it
    const lat = got.map((o) => ms(o.t - start.t) - (o.seq as number)).sort((a, b) => a - b);
    const span = ms(got.at(-1)!.t - got[0]!.t);
    expect(span).toBeGreaterThan(count - 1 - 50);
    expect(span).toBeLessThan(count - 1 + 250);
    report.push(`multicast: ${count} datagrams at 1000/s to ${GROUPS[0]} → VM ${vmIp}: all in order, none lost; receive time − due time median ${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms; stream span ${span.toFixed(0)} ms`);
  });

  it('the multicast source and the probe stop on SIGTERM: exit 0, the stop line says so, the log is closed', async () => {
    const { bed, vmIp } = L();
    const mlog = `${bed.tmp}/msource-term.ndjson`;
    const plog = `${bed.tmp}/probe-term.ndjson`;
    const src = bed.node(bed.ns('ms'), dist('hosts/traffic/msource.js'), ['--ip', ADDR.sourceIp(0), '--group', GROUPS[0]!, '--rate', '100', '--size', '200', '--log', mlog], 'msource (no count)');
    const probe = bed.node(bed.ns('probe'), dist('hosts/traffic/probe.js'), ['--ip', ADDR.probeIp, '--rate', '100', '--target', `vm1=${vmIp}`, '--log', plog], 'probe (no count)');
    try {
      await sleep(500); // their logs are written out at the end: let them send a while
      for (const c of [src, probe]) {
        expect(c.running, c.output()).toBe(true);
        process.kill(c.pid, 'SIGTERM');
      }
      for (const [c, log] of [[src, mlog], [probe, plog]] as const) {
        const exit = await c.exitWithin(5000);
        expect(exit, c.output()).toEqual({ code: 0, signal: null });
        const stop = readNdjson(log).at(-1)!;
        expect(stop).toMatchObject({ kind: 'stop', reason: 'SIGTERM' });
        expect(stop.sent).toBeGreaterThan(10);
      }
    } finally {
      for (const c of [src, probe]) stopProcess(c.pid);
    }
  });

  it('the probe echoes the VM at its rate and every echo comes back', async () => {
    const { bed, vmIp } = L();
    const log = `${bed.tmp}/probe.ndjson`;
    const count = 400;
    const before = vmObs().length;
    const probe = bed.node(bed.ns('probe'), dist('hosts/traffic/probe.js'), ['--ip', ADDR.probeIp, '--rate', '200', '--target', `vm1=${vmIp}`, '--count', String(count), '--grace', '500ms', '--log', log], 'probe');
    const exit = await probe.exited;
    expect(exit.code, probe.output()).toBe(0);
    const plog = readNdjson(log);
    expect(plog.find((o) => o.kind === 'target')).toMatchObject({ target: 'vm1', index: 0, ip: vmIp });
    const sent = plog.filter((o) => o.kind === 'sent');
    const replies = plog.filter((o) => o.kind === 'reply');
    expect(sent.map((o) => o.seq)).toEqual(Array.from({ length: count }, (_, k) => k));
    expect(replies.filter((o) => !o.dup).map((o) => o.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: count }, (_, k) => k));
    expect(plog.at(-1)).toMatchObject({ kind: 'stop', sent: count, replies: count, reason: 'count' });
    const echoes = vmObs().slice(before).filter((o) => o.kind === 'echo');
    expect(echoes.length).toBe(count);
    expect(echoes.every((o) => o.from === ADDR.probeIp && o.port === 7007 && o.index === 0)).toBe(true);
    const sentAt = new Map(sent.map((o) => [o.seq as number, o.t]));
    const rtt = replies.map((o) => ms(o.t - sentAt.get(o.seq as number)!)).sort((a, b) => a - b);
    const span = ms(sent.at(-1)!.t - sent[0]!.t);
    expect(span).toBeGreaterThan((count - 1) * 5 - 30);
    expect(span).toBeLessThan((count - 1) * 5 + 200);
    report.push(`probe: ${count} echoes at 200/s to vm1 ${vmIp}: all answered; round trip median ${percentile(rtt, 50).toFixed(2)} ms, p99 ${percentile(rtt, 99).toFixed(2)} ms, max ${rtt.at(-1)!.toFixed(2)} ms`);
  });

  it('SIGUSR1 makes udhcpc renew at once (the assistance request path): a unicast DHCPREQUEST with ciaddr, the ACK, the same address', async () => {
    const { vm, q, vmIp, dhcpLog, leasedAt } = L();
    const before = vmObs().length;
    await q.fetch();
    const t0 = process.hrtime.bigint();
    process.kill(vm.pid, 'SIGUSR1');
    const renewed = await until(() => vmObs().slice(before).find((o) => o.kind === 'leased' && o.event === 'renew'), 5000, 'a renewal', more);
    expect(renewed.ip).toBe(vmIp);
    expect(vmObs().slice(before).filter((o) => o.kind === 'renew-requested')).toHaveLength(1);
    const req = await q.waitFrame((f) => {
      const c = classify(f.bytes);
      return !!c && 'dhcp' in c && c.dhcp?.options.messageType === DHCP.REQUEST && c.eth.src === VM_MAC;
    }, t0, 2000, 'the renewing DHCPREQUEST');
    const c = classify(req.bytes)!;
    // RENEWING: unicast to the server, from the leased address, ciaddr set (RFC 2131 4.3.2)
    expect('dhcp' in c && c.dhcp!.ciaddr).toBe(vmIp);
    expect('ip' in c && c.ip!.dst).toBe(ADDR.serverIp);
    expect('ip' in c && c.ip!.src).toBe(vmIp);
    const dhcpd = readNdjson(dhcpLog).filter((o) => o.kind === 'dhcpd' && o.t >= t0).map((o) => String(o.line));
    expect(dhcpd.some((l) => l.startsWith(`DHCPACK on ${vmIp} to ${VM_MAC}`))).toBe(true);
    // dhcpd's unicast ACK (from its UDP socket) on the wire, its checksum complete
    const ack = await q.waitFrame((f) => {
      const x = classify(f.bytes);
      return !!x && 'dhcp' in x && x.dhcp?.options.messageType === DHCP.ACK && x.eth.dst === VM_MAC;
    }, t0, 2000, 'the unicast DHCPACK');
    const a = classify(ack.bytes)!;
    expect('dhcp' in a && a.dhcp!.yiaddr).toBe(vmIp);
    expect('ip' in a && a.ip!.dst).toBe(vmIp);
    // ISC's dhcp-cache-threshold, as the sim's server models it (sim/net/dhcp-server.ts): the
    // lease, younger than 25 % of its length, comes back unaltered with what remains of it
    const age = ms(ack.t - leasedAt) / 1000;
    expect(age).toBeLessThan(LEASE_S / 4);
    expect(Math.abs(a.dhcp!.options.leaseTime! - (LEASE_S - age)), `lease ${String(a.dhcp!.options.leaseTime)} s at age ${age.toFixed(1)} s`).toBeLessThanOrEqual(1);
    report.push(`SIGUSR1 → unicast DHCPREQUEST on the wire ${ms(req.t - t0).toFixed(1)} ms, → DHCPACK ${ms(ack.t - t0).toFixed(1)} ms, → leased(renew) logged ${ms(renewed.t - t0).toFixed(1)} ms (lease ${String(renewed.lease)} s: ISC's dhcp-cache-threshold reuses a lease younger than 25 %)`);
  });

  it('a SIGUSR1 repeated while the renewal is unanswered is not passed on: the guest keeps its address', async () => {
    const { bed, vm, vmIp } = L();
    const before = vmObs().length;
    // the server unreachable for a moment, so the renewal is still unanswered when the request
    // is repeated (as a re-sent assist would): busybox takes a second SIGUSR1 in RENEW_REQUESTED
    // as "start over" (deconfig: the address goes, DISCOVER), so the agent does not pass it on
    runSync(bed.ip, ['-n', bed.ns('sw'), 'link', 'set', 'p-dhcp', 'down']);
    try {
      process.kill(vm.pid, 'SIGUSR1');
      await until(() => vmObs().slice(before).find((o) => o.kind === 'renew-requested'), 2000, 'renew-requested', more);
      process.kill(vm.pid, 'SIGUSR1');
      await until(() => vmObs().slice(before).find((o) => o.kind === 'renew-coalesced'), 2000, 'renew-coalesced', more);
      await sleep(200);
    } finally {
      runSync(bed.ip, ['-n', bed.ns('sw'), 'link', 'set', 'p-dhcp', 'up']);
    }
    // udhcpc tries again by itself (unicast every -T 1 s, then broadcast) and gets its ACK
    const renewed = await until(() => vmObs().slice(before).find((o) => o.kind === 'leased' && o.event === 'renew'), 8000, 'a renewal', more);
    expect(renewed.ip).toBe(vmIp);
    const since = vmObs().slice(before);
    expect(since.filter((o) => o.kind === 'renew-requested')).toHaveLength(1);
    expect(since.filter((o) => o.kind === 'dhcp' && o.event === 'deconfig')).toEqual([]);
    expect(runSync(bed.ip, ['-n', bed.ns('vm'), '-4', 'addr', 'show', 'dev', 'eth0']).out).toContain(`inet ${vmIp}/24`);
  });

  it('SIGUSR2 (the announceOnResume hook) sends a gratuitous ARP and fresh IGMP reports for every group', async () => {
    const { vm, q, vmIp } = L();
    await q.fetch();
    const t0 = process.hrtime.bigint();
    process.kill(vm.pid, 'SIGUSR2');
    const garp = await q.waitFrame((f) => {
      const c = classify(f.bytes);
      return !!c && 'arp' in c && !!c.arp && c.arp.senderIp === vmIp && c.arp.targetIp === vmIp && c.arp.senderMac === VM_MAC;
    }, t0, 3000, 'the gratuitous ARP');
    expect(classify(garp.bytes)!.eth.dst).toBe('ff:ff:ff:ff:ff:ff');
    // re-joined: a state-change report with TO_EX for each group after the leave
    for (const g of GROUPS) {
      await q.waitFrame((f) => v3Report(f.bytes)?.records.some((r) => r.group === g && r.type === IGMP_RECORD.TO_EX) ?? false, t0, 3000, `a join report for ${g}`);
    }
    expect(vmObs().some((o) => o.kind === 'announce' && o.ip === vmIp)).toBe(true);
    report.push(`SIGUSR2 → gratuitous ARP on the wire ${ms(garp.t - t0).toFixed(1)} ms`);
  });

  it('the processes turn TX checksum offload off: their kernel UDP datagrams reach a libpcap reader with complete checksums (with it on, a veth leaves them unfinished)', async () => {
    const { bed, q, vmIp, dhcpLog } = L();
    expect(vmObs().find((o) => o.kind === 'start')).toMatchObject({ txChecksum: 'off' });
    expect(readNdjson(dhcpLog).find((o) => o.kind === 'start')).toMatchObject({ txChecksum: 'off' });
    /** the VM's echo reply to a datagram from q, as a libpcap reader sees it: its UDP parsed (checksum verified) or why not */
    let controlAt = 0n;
    const echoReply = async (): Promise<ReturnType<typeof parseUdp>> => {
      await q.request({ op: 'keep-data', on: true });
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(77, 0);
      const t0 = process.hrtime.bigint();
      // from q's own kernel socket: its kernel takes the reply whatever its checksum (veth to veth)
      const r = await q.request({ op: 'udp-request', bind: ADDR.switchIp, bindPort: 40007, dst: vmIp, dstPort: 7, hex: payload.toString('hex'), timeoutMs: 2000 });
      expect(r.error).toBeUndefined();
      const f = await q.waitFrame((x) => x.bytes.length >= 42 && classify(x.bytes)?.eth.src === VM_MAC && 'ip' in classify(x.bytes)! && classify(x.bytes)!.ip?.protocol === IP_PROTO.UDP, t0, 2000, 'the echo reply');
      await q.request({ op: 'keep-data', on: false });
      controlAt = f.t;
      const ip = (classify(f.bytes) as { ip: Ipv4Repr }).ip;
      expect(ip.src).toBe(vmIp);
      return parseUdp(ip.payload, ip.src, ip.dst);
    };
    const ethtool = (state: 'on' | 'off') => runSync(bed.ip, ['netns', 'exec', bed.ns('vm'), 'ethtool', '-K', 'eth0', 'tx', state]);
    // the kernel's default on a veth: offloaded, so the frame carries the pseudo-header sum only
    ethtool('on');
    try {
      expect(await echoReply()).toMatchObject({ ok: false, reason: 'UDP checksum mismatch' });
    } finally {
      const bad = controlAt;
      q.frames.splice(0, q.frames.length, ...q.frames.filter((f) => f.t !== bad));
      ethtool('off');
    }
    expect(await echoReply()).toMatchObject({ ok: true, value: { srcPort: 7, dstPort: 40007 } });
    // every UDP frame from the VM and the server q kept so far parsed, checksums verified
    await q.fetch();
    const udpFrom = q.frames.map((f) => classify(f.bytes)).filter((c) => c && 'ip' in c && c.ip?.protocol === IP_PROTO.UDP && (c.eth.src === VM_MAC || c.ip.src === ADDR.serverIp));
    expect(udpFrom.length).toBeGreaterThan(20);
    expect(udpFrom.filter((c) => !('udp' in c!))).toEqual([]);
  });

  it('stops on SIGTERM: udhcpc ends without releasing the lease, the log is closed, dhcpd stops cleanly', async () => {
    const { vm, dhcp, dhcpLog, bed } = L();
    const t0 = process.hrtime.bigint();
    process.kill(vm.pid, 'SIGTERM');
    expect((await vm.exited).code, vm.output()).toBe(0);
    const obs = vmObs();
    expect(obs.at(-1)).toMatchObject({ kind: 'stop', reason: 'SIGTERM' });
    expect(obs.some((o) => o.kind === 'udhcpc-exit' && o.t >= t0)).toBe(true);
    // udhcpc ended with it
    const udhcpcPid = obs.filter((o) => o.kind === 'udhcpc-start').at(-1)!.pid as number;
    expect(alive(udhcpcPid)).toBe(false);
    expect(runSync(bed.ip, ['netns', 'pids', bed.ns('vm')]).out.trim()).toBe('');
    stopProcess(dhcp.pid);
    expect((await dhcp.exited).code, dhcp.output()).toBe(0);
    const dlog = readNdjson(dhcpLog);
    expect(dlog.filter((o) => o.kind === 'dhcpd').some((o) => String(o.line).includes('DHCPRELEASE'))).toBe(false);
    expect(dlog.at(-1)).toMatchObject({ kind: 'exit', stopped: true });
  });
});
