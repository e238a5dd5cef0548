
import { Random } from '../../model/random.js';
import { describe, expect, it } from 'vitest';
import { ARP_OP } from '../../wire/arp.js';
import { arpFrame, udpFrame } from '../../wire/compose.js';
import { DHCP, type DhcpRepr, emitDhcp, emptyDhcpOptions, parseDhcp } from '../../wire/dhcp.js';
import { type DhcpServerConfig, DhcpServerModel } from './dhcp-server.js';
import { ethernetClientId, readInbound } from './frames.js';
import { GuestStack } from './guest.js';
import { dhcpOptionCodes, Hub } from './testkit.js';
import { ManualClock } from '../clock.js';
const SERVER: DhcpServerConfig = {
  mac: '02:d0:00:00:00:01', ip: '10.77.0.1', subnet: '10.77.0.0/24', leaseSeconds: 600,
  poolFirst: '10.77.0.100', poolLast: '10.77.0.150', processingNs: 50_000,
};
const VM_MAC = '52:54:00:77:00:01';
const LAT = 100_000; // one way, ns
const US = 1_000;
const S = 1e9;

function net(cfg: DhcpServerConfig = SERVER) {
  const clock = new ManualClock();
  const hub = new Hub(clock, LAT);
  let server!: DhcpServerModel;
  server = new DhcpServerModel(clock, hub.connect('server', (f) => server.receive(f)), cfg);
  const leased: { vm: string; ip: string; t: number }[] = [];
  const guest = (name: string, mac: string, seed = 1) => {
    const g: GuestStack = new GuestStack(clock, new Random(seed), { name, mac, groups: [], announceOnResume: 'none' }, {
      leased: (ip, t) => leased.push({ vm: name, ip, t }),
    });
    g.attach(hub.connect(name, (f) => g.receive(f)));
    return g;
  };
  const tester = hub.connect('tester', () => undefined);
  return { clock, hub, server, guest, leased, tester };
}

/** DHCP messages `from` sent (since `since`), with the frame's addressing and the wire order of options. */
function dhcpFrom(hub: Hub, from: string, since = 0) {
  return hub.sentBy(from, since).flatMap((d) => {
    if (d.kind !== 'udp' || (d.udp.dstPort !== 67 && d.udp.dstPort !== 68)) return [];
    const m = parseDhcp(d.udp.payload);
    return m.ok ? [{ t: d.t, eth: d.eth, ip: d.ip, udp: d.udp, m: m.value, codes: dhcpOptionCodes(d.udp.payload) }] : [];
  });
}

function clientMessage(type: number, f: Partial<DhcpRepr> & { mac: string; requestedIp?: string; serverId?: string }): DhcpRepr {
  const o = emptyDhcpOptions();
  o.messageType = type;
  o.clientId = ethernetClientId(f.mac);
  o.requestedIp = f.requestedIp ?? null;
  o.serverId = f.serverId ?? null;
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: f.xid ?? 0x1234, secs: 0, broadcast: f.broadcast ?? false,
    ciaddr: f.ciaddr ?? '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: f.giaddr ?? '0.0.0.0', chaddr: f.mac, sname: '', file: '', options: o,
  };
}

function frameOf(m: DhcpRepr, srcIp = '0.0.0.0', dst: { mac: string; ip: string } = { mac: 'ff:ff:ff:ff:ff:ff', ip: '255.255.255.255' }): Uint8Array {
  return udpFrame({ srcMac: m.chaddr!, dstMac: dst.mac, srcIp, dstIp: dst.ip, srcPort: 68, dstPort: 67, payload: emitDhcp(m) });
}

describe('DHCP server and guest client', () => {
  it('complete DISCOVER/OFFER/REQUEST/ACK; the ACK carries exactly 53, 54, 51, 58, 59, 1', () => {
    const { clock, hub, server, guest, leased } = net();
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(10e6);

    expect(vm.ip).toBe('10.77.0.100');
    expect(vm.serverIp).toBe('10.77.0.1');
    const c = dhcpFrom(hub, 'vm1');
    const s = dhcpFrom(hub, 'server');
    expect(c.map((x) => x.m.options.messageType)).toEqual([DHCP.DISCOVER, DHCP.REQUEST]);
    expect(s.map((x) => x.m.options.messageType)).toEqual([DHCP.OFFER, DHCP.ACK]);

    const [discover, request] = c as [(typeof c)[0], (typeof c)[0]];
    expect(discover.t).toBe(0);
    expect([discover.eth.dst, discover.ip.src, discover.ip.dst]).toEqual(['ff:ff:ff:ff:ff:ff', '0.0.0.0', '255.255.255.255']);
    expect([...discover.m.options.clientId!]).toEqual([1, 0x52, 0x54, 0, 0x77, 0, 1]);
    // REQUEST (SELECTING): broadcast, server-id + requested-ip, ciaddr 0, same xid as the DISCOVER
    expect(request.t).toBe(LAT + 50 * US + LAT);
    expect([request.eth.dst, request.ip.dst, request.m.ciaddr]).toEqual(['ff:ff:ff:ff:ff:ff', '255.255.255.255', '0.0.0.0']);
    expect([request.m.options.serverId, request.m.options.requestedIp, request.m.xid]).toEqual(['10.77.0.1', '10.77.0.100', discover.m.xid]);

    const [offer, ack] = s as [(typeof s)[0], (typeof s)[0]];
    expect(offer.t).toBe(LAT + 50 * US);
    // no broadcast flag: unicast to yiaddr at chaddr (RFC 2131 §4.1)
    expect([ack.eth.dst, ack.eth.src, ack.ip.src, ack.ip.dst, ack.udp.srcPort, ack.udp.dstPort]).toEqual([VM_MAC, SERVER.mac, '10.77.0.1', '10.77.0.100', 67, 68]);
    expect(ack.t).toBe(request.t + LAT + 50 * US);
    expect(ack.m.yiaddr).toBe('10.77.0.100');
    expect(ack.m.xid).toBe(request.m.xid);
    expect([...ack.codes].sort((a, b) => a - b)).toEqual([1, 51, 53, 54, 58, 59]);
    expect(ack.codes[0]).toBe(53);
    const o = ack.m.options;
    expect([o.leaseTime, o.renewalTime, o.rebindingTime, o.subnetMask, o.serverId]).toEqual([600, 300, 525, '255.255.255.0', '10.77.0.1']);
    expect(offer.codes).toEqual(ack.codes);

    expect(leased).toEqual([{ vm: 'vm1', ip: '10.77.0.100', t: ack.t + LAT }]);
    const [lease] = server.leases();
    expect(lease).toMatchObject({ mac: VM_MAC, ip: '10.77.0.100', start: ack.t, end: ack.t + 600 * S, lastTransaction: ack.t });
    expect([...lease!.clientId!]).toEqual([1, 0x52, 0x54, 0, 0x77, 0, 1]);
    expect(server.stats).toMatchObject({ discovers: 1, offers: 1, requests: 1, acks: 1, naks: 0 });
  });

  it('renews at T1 by unicast with ciaddr; the server ARPs for the client, then ACKs it by unicast', () => {
    const { clock, hub, server, guest, leased } = net();
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(10e6);
    const bound = leased[0]!.t;
    const t1 = bound + 300 * S;
    clock.runUntil(t1 - 1);
    expect(dhcpFrom(hub, 'vm1', 1e6)).toEqual([]);
    clock.runUntil(t1 + 10e6);

    const renew = dhcpFrom(hub, 'vm1', 1e6);
    expect(renew).toHaveLength(1);
    const r = renew[0]!;
    expect(r.t).toBe(t1);
    expect([r.eth.dst, r.ip.src, r.ip.dst, r.m.ciaddr]).toEqual([SERVER.mac, '10.77.0.100', '10.77.0.1', '10.77.0.100']);
    expect(r.m.options.serverId).toBeNull();
    expect(r.m.options.requestedIp).toBeNull();
    expect(vm.stats.renewals).toBe(1);

    // the server has never seen 10.77.0.100 in ARP: it resolves ciaddr first
    const arp = hub.sentBy('server', t1).filter((d) => d.kind === 'arp');
    expect(arp).toHaveLength(1);
    expect(arp[0]).toMatchObject({ t: t1 + LAT + 50 * US, eth: { dst: 'ff:ff:ff:ff:ff:ff' }, arp: { op: ARP_OP.REQUEST, targetIp: '10.77.0.100', senderIp: '10.77.0.1' } });
    const ack = dhcpFrom(hub, 'server', t1);
    expect(ack).toHaveLength(1);
    expect(ack[0]!.t).toBe(t1 + LAT + 50 * US + 2 * LAT);
    expect([ack[0]!.eth.dst, ack[0]!.ip.dst, ack[0]!.udp.dstPort, ack[0]!.m.ciaddr, ack[0]!.m.yiaddr]).toEqual([VM_MAC, '10.77.0.100', 68, '10.77.0.100', '10.77.0.100']);
    expect(ack[0]!.m.options.messageType).toBe(DHCP.ACK);
    expect(leased.map((l) => l.ip)).toEqual(['10.77.0.100', '10.77.0.100']);
    expect(server.leases()[0]).toMatchObject({ start: t1 + LAT + 50 * US, end: t1 + LAT + 50 * US + 600 * S });

    // next T1 is counted from the new ACK; the server knows the MAC now (no ARP)
    const t1b = leased[1]!.t + 300 * S;
    clock.runUntil(t1b + 10e6);
    expect(dhcpFrom(hub, 'vm1', t1 + 1).map((x) => x.t)).toEqual([t1b]);
    expect(hub.sentBy('server', t1b).filter((d) => d.kind === 'arp')).toEqual([]);
    expect(dhcpFrom(hub, 'server', t1b)[0]!.t).toBe(t1b + LAT + 50 * US);
    expect(vm.stats.renewals).toBe(2);
  });

  it('dhcp-cache-threshold (ISC default 25 %): a renewal of a lease no older than 150 of its 600 s gets it unaltered, with what remains; an older one a new lease', () => {
    const { clock, hub, server, guest, leased } = net();
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(10e6);
    const first = server.leases()[0]!;
    const ackOf = (since: number) => dhcpFrom(hub, 'server', since).filter((x) => x.m.options.messageType === DHCP.ACK);

    // at 100 s (ISC's whole seconds: age 100 ≤ 150): the lease as it was, 600 − 100 s left
    clock.runUntil(100 * S);
    vm.renewNow();
    clock.advance(10e6);
    const [young] = ackOf(100 * S);
    expect([young!.m.options.leaseTime, young!.m.options.renewalTime, young!.m.options.rebindingTime]).toEqual([500, 250, 437]);
    expect(server.leases()[0]).toEqual(first);
    expect(server.stats).toMatchObject({ acks: 2, reused: 1 });
    // the guest counts its next T1 from that ACK: 250 s after it, not 300
    const t1 = leased[1]!.t + 250 * S;
    clock.runUntil(t1 - 1);
    expect(ackOf(100 * S + 1e9)).toEqual([]);

    // at its T1 (350 s, age 350 > 150): a new full lease from now
    clock.runUntil(t1 + 10e6);
    const [renewed] = ackOf(100 * S + 1e9);
    expect(renewed!.m.options.leaseTime).toBe(600);
    expect(server.leases()[0]).toMatchObject({ start: renewed!.t, end: renewed!.t + 600 * S, lastTransaction: renewed!.t });
    expect(server.stats).toMatchObject({ acks: 3, reused: 1 });

    // the boundary, whole seconds as ISC counts: age 150 reuses, age 151 does not
    const start = Math.floor(renewed!.t / S);
    clock.runUntil((start + 150) * S + 0.5 * S);
    vm.renewNow();
    clock.advance(10e6);
    expect(ackOf((start + 150) * S).map((a) => a.m.options.leaseTime)).toEqual([450]);
    clock.runUntil((start + 151) * S + 0.5 * S);
    vm.renewNow();
    clock.advance(10e6);
    expect(ackOf((start + 151) * S).map((a) => a.m.options.leaseTime)).toEqual([600]);
    expect(server.stats).toMatchObject({ acks: 5, reused: 2 });
  });

  it('RELEASE frees the address; a returning client gets its old address, a new one the lowest never used', () => {
    const { clock, hub, server, guest, tester } = net();
    const a = guest('a', '52:54:00:00:00:0a', 1);
    a.boot();
    clock.advance(10e6);
    const b = guest('b', '52:54:00:00:00:0b', 2);
    b.boot();
    clock.advance(10e6);
    expect([a.ip, b.ip]).toEqual(['10.77.0.100', '10.77.0.101']);

    a.pause(); // the VM is gone; its release is sent by hand
    tester(frameOf(clientMessage(DHCP.RELEASE, { mac: '52:54:00:00:00:0a', ciaddr: '10.77.0.100', serverId: '10.77.0.1' }), '10.77.0.100', { mac: SERVER.mac, ip: SERVER.ip }));
    clock.advance(10e6);
    expect(server.stats.releases).toBe(1);
    expect(server.leases().map((l) => l.ip)).toEqual(['10.77.0.101']);
    expect(dhcpFrom(hub, 'server', clock.now() - 10e6)).toEqual([]); // no answer to a RELEASE

    const c = guest('c', '52:54:00:00:00:0c', 3);
    c.boot();
    clock.advance(10e6);
    expect(c.ip).toBe('10.77.0.102');
    const a2 = guest('a2', '52:54:00:00:00:0a', 4); // the first VM boots again
    a2.boot();
    clock.advance(10e6);
    expect(a2.ip).toBe('10.77.0.100');
    expect(server.leases().map((l) => [l.ip, l.mac])).toEqual([
      ['10.77.0.100', '52:54:00:00:00:0a'], ['10.77.0.101', '52:54:00:00:00:0b'], ['10.77.0.102', '52:54:00:00:00:0c'],
    ]);
  });

  it('NAKs a request for an address that is not the client’s, ignores one outside the pool', () => {
    const { clock, hub, server, guest, tester } = net();
    guest('vm1', VM_MAC).boot();
    clock.advance(10e6);
    const other = '52:54:00:99:99:99';
    const t0 = clock.now();
    // INIT-REBOOT for an address someone else holds
    tester(frameOf(clientMessage(DHCP.REQUEST, { mac: other, requestedIp: '10.77.0.100', xid: 1 })));
    clock.advance(1e6);
    // INIT-REBOOT for an address on another network
    tester(frameOf(clientMessage(DHCP.REQUEST, { mac: other, requestedIp: '10.99.0.5', xid: 2 })));
    clock.advance(1e6);
    // INIT-REBOOT for an address of the subnet outside the pool: ISC stays silent ("unknown lease")
    tester(frameOf(clientMessage(DHCP.REQUEST, { mac: other, requestedIp: '10.77.0.200', xid: 3 })));
    clock.advance(1e6);
    // SELECTING another server's offer: silence
    tester(frameOf(clientMessage(DHCP.REQUEST, { mac: other, requestedIp: '10.77.0.101', serverId: '10.77.0.9', xid: 4 })));
    clock.advance(1e6);

    const replies = dhcpFrom(hub, 'server', t0);
    expect(replies.map((r) => [r.m.xid, r.m.options.messageType])).toEqual([[1, DHCP.NAK], [2, DHCP.NAK]]);
    for (const r of replies) {
      expect([r.eth.dst, r.ip.dst, r.udp.dstPort, r.m.yiaddr]).toEqual(['ff:ff:ff:ff:ff:ff', '255.255.255.255', 68, '0.0.0.0']);
      expect(r.codes).toEqual([53, 54]);
    }
    expect(server.stats.naks).toBe(2);
    expect(server.leases().map((l) => l.mac)).toEqual([VM_MAC]);
  });

  it('addresses replies per RFC 2131 §4.1: to a relay at giaddr:67 (option 82 echoed and kept), by broadcast when the flag is set', () => {
    const { clock, hub, server } = net();
    const relay = { mac: '02:5e:00:00:00:01', ip: '10.77.0.253' };
    const relaySink = hub.connect('relay', (f) => {
      const d = readInbound(f);
      if (d?.kind === 'arp' && d.arp.op === ARP_OP.REQUEST && d.arp.targetIp === relay.ip) {
        relaySink(arpFrame(d.arp.senderMac, { op: ARP_OP.REPLY, senderMac: relay.mac, senderIp: relay.ip, targetMac: d.arp.senderMac, targetIp: d.arp.senderIp }));
      }
    });
    const mac = '52:54:00:00:00:0d';
    const agent = { circuitId: Uint8Array.of(0, 4, 0, 1, 0, 3), remoteId: null, other: [] };
    const viaRelay = (type: number, extra: Partial<DhcpRepr> & { requestedIp?: string; serverId?: string } = {}) => {
      const m = clientMessage(type, { mac, giaddr: relay.ip, ...extra });
      m.options.relayAgentInfo = agent;
      relaySink(udpFrame({ srcMac: relay.mac, dstMac: SERVER.mac, srcIp: relay.ip, dstIp: SERVER.ip, srcPort: 67, dstPort: 67, payload: emitDhcp(m) }));
    };
    viaRelay(DHCP.DISCOVER);
    clock.advance(10e6);
    viaRelay(DHCP.REQUEST, { requestedIp: '10.77.0.100', serverId: SERVER.ip });
    clock.advance(10e6);
    const out = dhcpFrom(hub, 'server');
    expect(out.map((r) => r.m.options.messageType)).toEqual([DHCP.OFFER, DHCP.ACK]);
    for (const r of out) {
      expect([r.eth.dst, r.ip.dst, r.udp.srcPort, r.udp.dstPort, r.m.giaddr]).toEqual([relay.mac, relay.ip, 67, 67, relay.ip]);
      expect(r.m.options.relayAgentInfo).toEqual(agent);
    }
    expect(hub.sentBy('server').filter((d) => d.kind === 'arp')).toHaveLength(1);
    // the lease keeps option 82: a leasequery returns it
    const lq = clientMessage(DHCP.LEASEQUERY, { mac, giaddr: relay.ip, xid: 99 });
    lq.options.clientId = null;
    relaySink(udpFrame({ srcMac: relay.mac, dstMac: SERVER.mac, srcIp: relay.ip, dstIp: SERVER.ip, srcPort: 67, dstPort: 67, payload: emitDhcp(lq) }));
    clock.advance(10e6);
    const active = dhcpFrom(hub, 'server').at(-1)!;
    expect([active.m.options.messageType, active.m.ciaddr, active.m.options.relayAgentInfo]).toEqual([DHCP.LEASEACTIVE, '10.77.0.100', agent]);

    // a relayed NAK has the broadcast bit set (§4.3.2)
    viaRelay(DHCP.REQUEST, { requestedIp: '10.99.0.1' });
    clock.advance(10e6);
    const nak = dhcpFrom(hub, 'server').at(-1)!;
    expect([nak.m.options.messageType, nak.m.broadcast, nak.ip.dst]).toEqual([DHCP.NAK, true, relay.ip]);

    // the broadcast flag: to 255.255.255.255 at ff:ff:ff:ff:ff:ff
    const t0 = clock.now();
    const d = clientMessage(DHCP.DISCOVER, { mac: '52:54:00:00:00:0e', broadcast: true });
    relaySink(frameOf(d));
    clock.advance(10e6);
    const offer = dhcpFrom(hub, 'server', t0)[0]!;
    expect([offer.m.options.messageType, offer.eth.dst, offer.ip.dst, offer.udp.dstPort, offer.m.yiaddr]).toEqual([DHCP.OFFER, 'ff:ff:ff:ff:ff:ff', '255.255.255.255', 68, '10.77.0.101']);
    expect(server.leases().map((l) => l.ip)).toEqual(['10.77.0.100']);
  });

  it('a DECLINEd address is abandoned and the client gets the next one', () => {
    const { clock, server, guest, tester } = net();
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(10e6);
    tester(frameOf(clientMessage(DHCP.DECLINE, { mac: VM_MAC, requestedIp: '10.77.0.100', serverId: '10.77.0.1' })));
    clock.advance(1e6);
    expect(server.leases()).toEqual([]);
    const again = guest('vm1b', VM_MAC, 9);
    vm.pause();
    again.boot();
    clock.advance(10e6);
    expect(again.ip).toBe('10.77.0.101');
  });

  it('retransmits DISCOVER after 4, 8, 16, 32, 64, 64 s (±1 s) while nobody answers', () => {
    const clock = new ManualClock();
    const hub = new Hub(clock, LAT);
    const vm: GuestStack = new GuestStack(clock, new Random(7), { name: 'vm', mac: VM_MAC, groups: [], announceOnResume: 'none' });
    vm.attach(hub.connect('vm', (f) => vm.receive(f)));
    vm.boot();
    clock.advance(200 * S);
    const times = dhcpFrom(hub, 'vm').map((x) => x.t);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const nominal = [4, 8, 16, 32, 64, 64];
    expect(gaps.length).toBeGreaterThanOrEqual(nominal.length);
    nominal.forEach((n, i) => {
      expect(gaps[i]!).toBeGreaterThanOrEqual((n - 1) * S);
      expect(gaps[i]!).toBeLessThanOrEqual((n + 1) * S);
    });
    expect(new Set(dhcpFrom(hub, 'vm').map((x) => x.m.xid)).size).toBe(1);
  });

  it('gives up REQUESTING after four unanswered requests and starts over with a DISCOVER', () => {
    const { clock, hub, guest } = net();
    // the server's ACKs never arrive
    hub.drop = (s) => {
      const d = readInbound(s.frame);
      const m = d?.kind === 'udp' ? parseDhcp(d.udp.payload) : null;
      return s.from === 'server' && m !== null && m.ok && m.value.options.messageType === DHCP.ACK;
    };
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(70 * S);
    const types = dhcpFrom(hub, 'vm1').map((x) => x.m.options.messageType);
    expect(types.slice(0, 6)).toEqual([DHCP.DISCOVER, DHCP.REQUEST, DHCP.REQUEST, DHCP.REQUEST, DHCP.REQUEST, DHCP.DISCOVER]);
    expect(vm.ip).toBeNull();
  });

  it('retries renewal at half the time to T2 (≥ 60 s), rebinds by broadcast at T2, obeys a NAK and starts over', () => {
    const { clock, hub, guest, leased } = net();
    const vm = guest('vm1', VM_MAC);
    vm.boot();
    clock.advance(10e6);
    const bound = leased[0]!.t;
    expect(bound).toBe(4 * LAT + 2 * 50 * US);
    // the first server goes silent; another one on another network appears
    hub.drop = (s) => s.from === 'server';
    let other!: DhcpServerModel;
    other = new DhcpServerModel(clock, hub.connect('other', (f) => other.receive(f)), {
      ...SERVER, mac: '02:d0:00:00:00:02', ip: '10.88.0.1', subnet: '10.88.0.0/24', poolFirst: '10.88.0.100', poolLast: '10.88.0.150',
    });
    clock.runUntil(bound + 525 * S + 10e6);

    const sent = dhcpFrom(hub, 'vm1', 1e6);
    const t1 = bound + 300 * S;
    // RENEWING: T1, then half of the 225 s to T2 (112.5 s), then 60 s (half of 112.5 s is below 60), then T2 comes first
    expect(sent.slice(0, 3).map((x) => [x.t, x.eth.dst])).toEqual([
      [t1, SERVER.mac], [t1 + 112.5 * S, SERVER.mac], [t1 + 172.5 * S, SERVER.mac],
    ]);
    const rebind = sent[3]!;
    expect([rebind.t, rebind.eth.dst, rebind.ip.src, rebind.ip.dst, rebind.m.ciaddr]).toEqual([bound + 525 * S, 'ff:ff:ff:ff:ff:ff', '10.77.0.100', '255.255.255.255', '10.77.0.100']);
    // the other server NAKs (wrong network); the guest is in INIT again and takes the other server's lease
    expect(other.stats.naks).toBe(1);
    expect(vm.stats.naks).toBe(1);
    expect(sent[4]!.m.options.messageType).toBe(DHCP.DISCOVER);
    expect(vm.ip).toBe('10.88.0.100');
    expect(vm.serverIp).toBe('10.88.0.1');
  });
});
