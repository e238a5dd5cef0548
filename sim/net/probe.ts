// The sim's reachability probe: a UDP echo to each VM at a fixed rate, replies matched to
// their echoes, loss counted as runs of unanswered echoes. Behaviour: docs/sim-network.md
// ("The probe").

import type { FrameSink } from '../../switch/platform.js';
import type { Clock, Ns, Timer } from '../../model/time.js';
import { ARP_OP } from '../../wire/arp.js';
import { arpFrame, udpFrame } from '../../wire/compose.js';
import { ipWord } from '../../model/address.js';
import { be32, readInbound, normalMac } from './frames.js';

export interface ProbeConfig {
  mac: string;
  ip: string;
  ratePerSecond: number;
}

export interface ProbeReport {
  sent: number;
  answered: number;
  /** the longest run of consecutive unanswered echoes × the interval, ms */
  longestGapMs: number;
  /** when the first echo of that run was sent, ms (null: no loss) */
  gapStartMs: number | null;
}

/** One echo: when it was sent and when its (first) reply came, ns. */
export interface ProbeEcho {
  seq: number;
  sentAt: Ns;
  repliedAt: Ns | null;
}

export const PROBE_PORT = 7007;
export const ECHO_PORT = 7;
/** An echo younger than this is in flight, not lost. */
export const IN_FLIGHT_NS = 50e6;

interface Target {
  index: number;
  name: string;
  mac: string;
  ip: string;
  addedAt: Ns;
  sentAt: Ns[];
  repliedAt: (Ns | null)[];
  timer: Timer | null;
}

export class Probe {
  readonly stats = { sent: 0, replies: 0, duplicates: 0, arpReplies: 0, ignored: 0 };
  private readonly mac: string;
  private readonly targets: Target[] = [];
  private readonly byName = new Map<string, Target>();

  constructor(
    private readonly clock: Clock,
    private readonly sink: FrameSink,
    private readonly config: ProbeConfig,
  ) {
    this.mac = normalMac(config.mac);
    if (ipWord(config.ip) < 0) throw new RangeError(`${config.ip} is not an IPv4 address`);
    if (!(config.ratePerSecond > 0) || !Number.isFinite(config.ratePerSecond)) throw new RangeError(`rate ${config.ratePerSecond}/s is not positive`);
  }

  /** The time between two echoes to one target, ns (not rounded). */
  get intervalNs(): number {
    return 1e9 / this.config.ratePerSecond;
  }

  /** Start echoing `name` at `mac`/`ip`; the first echo leaves now. A name already added is ignored. */
  addTarget(name: string, mac: string, ip: string): void {
    if (this.byName.has(name)) return;
    if (ipWord(ip) < 0) throw new RangeError(`${name}: ${ip} is not an IPv4 address`);
    const t: Target = { index: this.targets.length, name, mac: normalMac(mac), ip, addedAt: this.clock.now(), sentAt: [], repliedAt: [], timer: null };
    this.targets.push(t);
    this.byName.set(name, t);
    this.echo(t);
  }

  /** Stop sending (to every target); what was sent can still be answered. */
  stop(): void {
    for (const t of this.targets) {
      t.timer?.cancel();
      t.timer = null;
    }
  }

  receive(frame: Uint8Array): void {
    const f = readInbound(frame);
    if (!f) return this.ignore();
    if (f.kind === 'arp') {
      const a = f.arp;
      if (a.op !== ARP_OP.REQUEST || a.targetIp !== this.config.ip || a.senderIp === this.config.ip) return this.ignore();
      this.sink(arpFrame(a.senderMac, { op: ARP_OP.REPLY, senderMac: this.mac, senderIp: this.config.ip, targetMac: a.senderMac, targetIp: a.senderIp }));
      this.stats.arpReplies++;
      return;
    }
    if (f.kind !== 'udp') return this.ignore();
    const { eth, ip, udp } = f;
    if (eth.dst !== this.mac || ip.dst !== this.config.ip || udp.dstPort !== PROBE_PORT || udp.srcPort !== ECHO_PORT || udp.payload.length < 8) {
      return this.ignore();
    }
    const t = this.targets[be32(udp.payload, 0)];
    const seq = be32(udp.payload, 4);
    if (!t || ip.src !== t.ip || seq >= t.sentAt.length) return this.ignore();
    if (t.repliedAt[seq] !== null) {
      this.stats.duplicates++;
      return;
    }
    t.repliedAt[seq] = this.clock.now();
    this.stats.replies++;
  }

  report(name: string): ProbeReport {
    const t = this.target(name);
    const now = this.clock.now();
    const step = this.intervalNs;
    let answered = 0;
    let longest = 0;
    let longestStart: Ns | null = null;
    let run = 0;
    let runStart: Ns = 0;
    for (let k = 0; k < t.sentAt.length; k++) {
      const sent = t.sentAt[k]!;
      if (t.repliedAt[k] !== null) answered++;
      const lost = t.repliedAt[k] === null && now - sent >= IN_FLIGHT_NS;
      if (lost) {
        if (run === 0) runStart = sent;
        run++;
        if (run > longest) {
          longest = run;
          longestStart = runStart;
        }
      } else {
        run = 0;
      }
    }
    return { sent: t.sentAt.length, answered, longestGapMs: (longest * step) / 1e6, gapStartMs: longestStart === null ? null : longestStart / 1e6 };
  }

  /** Every echo sent to `name`, in order; none if it never became a target (it got no address). */
  answeredAt(name: string): ProbeEcho[] {
    const t = this.byName.get(name);
    if (!t) return [];
    return t.sentAt.map((sentAt, seq) => ({ seq, sentAt, repliedAt: t.repliedAt[seq] ?? null }));
  }

  /** The names added so far. */
  targetNames(): string[] {
    return this.targets.map((t) => t.name);
  }

  private target(name: string): Target {
    const t = this.byName.get(name);
    if (!t) throw new Error(`probe: no target named ${name}`);
    return t;
  }

  private echo(t: Target): void {
    const seq = t.sentAt.length;
    const payload = new Uint8Array(8);
    payload[0] = t.index >>> 24;
    payload[1] = (t.index >>> 16) & 0xff;
    payload[2] = (t.index >>> 8) & 0xff;
    payload[3] = t.index & 0xff;
    payload[4] = seq >>> 24;
    payload[5] = (seq >>> 16) & 0xff;
    payload[6] = (seq >>> 8) & 0xff;
    payload[7] = seq & 0xff;
    t.sentAt.push(this.clock.now());
    t.repliedAt.push(null);
    this.stats.sent++;
    this.sink(udpFrame({ srcMac: this.mac, dstMac: t.mac, srcIp: this.config.ip, dstIp: t.ip, srcPort: PROBE_PORT, dstPort: ECHO_PORT, payload, id: seq & 0xffff }));
    const at = t.addedAt + Math.round(((seq + 1) * 1e9) / this.config.ratePerSecond);
    t.timer = this.clock.schedule(at - this.clock.now(), () => this.echo(t));
  }

  private ignore(): void {
    this.stats.ignored++;
  }
}
