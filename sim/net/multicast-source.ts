// A multicast stream on the router side of the switch: UDP to group:5001 at a fixed rate,
// each payload led by a 32-bit sequence number, without drift. Behaviour: docs/sim-network.md
// ("The multicast source").

import { ipWord, isIpv4Multicast } from '../../model/address.js';
import type { FrameSink } from '../../switch/platform.js';
import type { Clock, Ns, Timer } from '../../model/time.js';
import { multicastMac, udpFrame } from '../../wire/compose.js';
import { normalMac } from './frames.js';

export interface MulticastSourceConfig {
  mac: string;
  ip: string;
  group: string;
  ratePerSecond: number;
  /** UDP payload bytes (at least 4, the sequence number) */
  sizeBytes: number;
}

export const MULTICAST_SOURCE_PORT = 5000;
export const MULTICAST_DEST_PORT = 5001;
export const MULTICAST_TTL = 16;

export class MulticastSource {
  readonly stats = { sent: 0, ignored: 0 };
  private readonly mac: string;
  private readonly payload: Uint8Array;
  private timer: Timer | null = null;
  private startNs: Ns = 0;
  /** datagrams of the current run so far (k) */
  private k = 0;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sink: FrameSink,
    private readonly config: MulticastSourceConfig,
  ) {
    this.mac = normalMac(config.mac);
    if (!isIpv4Multicast(config.group)) throw new RangeError(`${config.group} is not an IPv4 multicast group`);
    if (ipWord(config.ip) < 0) throw new RangeError(`${config.ip} is not an IPv4 address`);
    if (!(config.ratePerSecond > 0) || !Number.isFinite(config.ratePerSecond)) throw new RangeError(`rate ${config.ratePerSecond}/s is not positive`);
    if (!Number.isFinite(config.sizeBytes)) throw new RangeError(`size ${config.sizeBytes} is not a number of bytes`);
    this.payload = new Uint8Array(Math.min(65507, Math.max(4, Math.floor(config.sizeBytes))));
  }

  /** Datagrams sent. */
  get sent(): number {
    return this.stats.sent;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** The first datagram leaves now; a restarted source continues its sequence numbers. */
  start(): void {
    if (this.timer) return;
    this.startNs = this.clock.now();
    this.k = 0;
    this.tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  receive(_frame: Uint8Array): void {
    this.stats.ignored++;
  }

  private tick(): void {
    const seq = this.seq >>> 0;
    const p = this.payload;
    p[0] = seq >>> 24;
    p[1] = (seq >>> 16) & 0xff;
    p[2] = (seq >>> 8) & 0xff;
    p[3] = seq & 0xff;
    this.sink(udpFrame({
      srcMac: this.mac, dstMac: multicastMac(this.config.group), srcIp: this.config.ip, dstIp: this.config.group,
      srcPort: MULTICAST_SOURCE_PORT, dstPort: MULTICAST_DEST_PORT, payload: p, ttl: MULTICAST_TTL, id: seq & 0xffff,
    }));
    this.stats.sent++;
    this.seq = (this.seq + 1) % 0x100000000;
    this.k++;
    const at = this.startNs + Math.round((this.k * 1e9) / this.config.ratePerSecond);
    this.timer = this.clock.schedule(at - this.clock.now(), () => this.tick());
  }
}
