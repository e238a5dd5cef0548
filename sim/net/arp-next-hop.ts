// IP next hops for the sim DHCP server (dhcp-server.ts): a frame to an IP address goes to
// the MAC in the ARP cache, else waits behind an ARP resolution (Linux neighbour code,
// simplified), and ARP requests for the server's own address are answered.

import { BROADCAST_MAC, type Ipv4, ipWord, isMulticastWord, type Mac } from '../../model/address.js';
import type { FrameSink } from '../../switch/platform.js';
import type { Clock, Timer } from '../../model/time.js';
import { ARP_OP, type ArpRepr } from '../../wire/arp.js';
import { arpFrame, multicastMac } from '../../wire/compose.js';
import { LIMITED_BROADCAST, ZERO_IP, ZERO_MAC } from './frames.js';

/** Linux neighbour resolution: a solicitation per second, three in all (mcast_solicit), then the queue is dropped. */
export const ARP_RETRY_NS = 1e9;
export const ARP_TRIES = 3;

interface ArpWait {
  queue: ((mac: Mac) => Uint8Array)[];
  tries: number;
  timer: Timer | null;
}

export interface NextHopStats {
  /** ARP requests sent to resolve a next hop */
  arpRequests: number;
  /** frames dropped because their next hop never answered ARP */
  unresolved: number;
}

export class NextHops {
  private readonly arpCache = new Map<Ipv4, Mac>();
  private readonly arpWaits = new Map<Ipv4, ArpWait>();

  /** `subnetBroadcast`: the directed broadcast word of the server's subnet. */
  constructor(
    private readonly clock: Clock,
    private readonly sink: FrameSink,
    private readonly mac: Mac,
    private readonly ip: Ipv4,
    private readonly subnetBroadcast: number,
    private readonly stats: NextHopStats,
  ) {}

  /** To an IP next hop: `build` the frame for its MAC from the ARP cache, else once ARP resolves it. */
  send(dstIp: Ipv4, build: (mac: Mac) => Uint8Array): void {
    const w = ipWord(dstIp);
    if (dstIp === LIMITED_BROADCAST || w === this.subnetBroadcast) return this.sink(build(BROADCAST_MAC));
    if (isMulticastWord(w)) return this.sink(build(multicastMac(dstIp)));
    const known = this.arpCache.get(dstIp);
    if (known !== undefined) return this.sink(build(known));
    let wait = this.arpWaits.get(dstIp);
    if (!wait) {
      wait = { queue: [], tries: 0, timer: null };
      this.arpWaits.set(dstIp, wait);
      wait.queue.push(build);
      this.solicit(dstIp, wait);
    } else {
      wait.queue.push(build);
    }
  }

  private solicit(ip: Ipv4, wait: ArpWait): void {
    wait.tries++;
    this.stats.arpRequests++;
    this.sink(arpFrame(BROADCAST_MAC, { op: ARP_OP.REQUEST, senderMac: this.mac, senderIp: this.ip, targetMac: ZERO_MAC, targetIp: ip }));
    wait.timer = this.clock.schedule(ARP_RETRY_NS, () => {
      if (this.arpWaits.get(ip) !== wait) return;
      if (wait.tries < ARP_TRIES) return this.solicit(ip, wait);
      this.arpWaits.delete(ip);
      this.stats.unresolved += wait.queue.length;
    });
  }

  /**
   * Linux arp_process, simplified: a request for our address is answered and its sender
   * learnt; any ARP refreshes an address we already know or are resolving. Entries do not
   * age (Linux keeps using a stale entry while it re-probes, so no extra latency either way).
   * False when the packet was of no use.
   */
  onArp(a: ArpRepr): boolean {
    let used = false;
    const forUs = a.targetIp === this.ip;
    if (a.senderIp !== ZERO_IP && a.senderIp !== this.ip && (forUs || this.arpCache.has(a.senderIp) || this.arpWaits.has(a.senderIp))) {
      this.learn(a.senderIp, a.senderMac);
      used = true;
    }
    if (a.op === ARP_OP.REQUEST && forUs) {
      this.sink(arpFrame(a.senderMac, { op: ARP_OP.REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp }));
      used = true;
    }
    return used;
  }

  private learn(ip: Ipv4, mac: Mac): void {
    this.arpCache.set(ip, mac);
    const wait = this.arpWaits.get(ip);
    if (!wait) return;
    this.arpWaits.delete(ip);
    wait.timer?.cancel();
    for (const build of wait.queue) this.sink(build(mac));
  }
}
