// The migration NICs: every host has a full-duplex NIC of the migration link's
// bandwidth (an egress and an ingress resource). Concurrent transfers share the NICs
// they cross max-min fairly (progressive filling), each also limited by its own cap —
// so two migrations out of one host each get half, and h1→h2 with h3→h4 run at full rate.
// A NIC can be cut (link-down, a crashed host) or degraded (rate, loss): a flow across a cut
// stalls and moves again as TCP would (tcp-stall.ts), or breaks. A transfer's event fires
// with true when its last bit has left the wire (propagation latency is the caller's to add),
// false when the connection broke.

import type { Kernel, SimEvent } from './kernel.js';
import type { Ns, Timer } from '../model/time.js';
import type { LinkSpec } from '../model/scenario/types.js';
import { mathisBps, resumeAfterStall, TCP_GIVE_UP_NS } from './tcp-stall.js';

interface Resource {
  host: string;
  capacityBps: number;
  residual: number;
  unfrozen: number;
}

interface Nic {
  egress: Resource;
  ingress: Resource;
  up: boolean;
  /** rate while degraded; null: the link's */
  degradedBps: number | null;
  loss: number;
  /** when the current cut began (null: up) */
  downSince: Ns | null;
  /** past cuts: from the cut to the instant a stream stalled by it moved again */
  outages: { from: Ns; resume: Ns }[];
}

interface Flow {
  nics: [Nic, Nic];
  resources: Resource[];
  capBps: number;
  totalBits: number;
  remainingBits: number;
  rateBps: number;
  done: SimEvent<boolean>;
  /** the stall's start while a NIC on the path is (or was) cut */
  stalledSince: Ns | null;
  /** after a cut: the retransmission at which the flow moves again */
  heldUntil: Ns | null;
  giveUp: Timer | null;
}

export class MigrationNics {
  private readonly nics = new Map<string, Nic>();
  private flows: Flow[] = [];
  /** bytes a broken transfer had sent when TCP gave up, by its event */
  private readonly brokenSent = new WeakMap<SimEvent<boolean>, number>();
  private lastSettle: Ns = 0;
  private timer: Timer | null = null;

  constructor(
    private readonly kernel: Kernel,
    hosts: string[],
    readonly link: LinkSpec,
  ) {
    for (const h of hosts) {
      const r = (): Resource => ({ host: h, capacityBps: link.bandwidthBps, residual: 0, unfrozen: 0 });
      this.nics.set(h, { egress: r(), ingress: r(), up: true, degradedBps: null, loss: 0, downSince: null, outages: [] });
    }
  }

  get latencyNs(): Ns {
    return this.link.latencyNs;
  }

  /** Send `bytes` from one host to another; `capBps` null means no cap of its own. */
  transfer(from: string, to: string, bytes: number, capBps: number | null): SimEvent<boolean> {
    const done = this.kernel.event<boolean>();
    if (bytes <= 0) return done.succeed(true);
    const out = this.nics.get(from);
    const inn = this.nics.get(to);
    if (!out || !inn) throw new Error(`unknown host in transfer ${from} → ${to}`);
    this.settle();
    const flow: Flow = {
      nics: [out, inn], resources: [out.egress, inn.ingress], capBps: capBps ?? Infinity, totalBits: bytes * 8, remainingBits: bytes * 8, rateBps: 0, done,
      stalledSince: null, heldUntil: null, giveUp: null,
    };
    this.flows.push(flow);
    if (!out.up || !inn.up) this.stall(flow);
    this.reallocate();
    return done;
  }

  /** Stop a transfer whose sender gave up (its event never fires); returns the bytes it had sent. */
  abort(done: SimEvent<boolean>): number {
    const f = this.flows.find((x) => x.done === done);
    if (!f) return 0;
    this.settle();
    f.giveUp?.cancel();
    this.flows = this.flows.filter((x) => x !== f);
    this.reallocate();
    return Math.max(0, f.totalBits - f.remainingBits) / 8;
  }

  /** What a transfer whose event fired false had sent before TCP gave up. */
  sentBeforeBreak(done: SimEvent<boolean>): number {
    return this.brokenSent.get(done) ?? 0;
  }

  /** Cut (`up` false) or restore a host's migration NIC. */
  setUp(host: string, up: boolean): void {
    const nic = this.nic(host);
    if (nic.up === up) return;
    this.settle();
    const now = this.kernel.now;
    nic.up = up;
    if (!up) {
      nic.downSince = now;
      for (const f of this.flows) if (f.nics.includes(nic)) this.stall(f);
    } else {
      const since = nic.downSince ?? now;
      nic.downSince = null;
      const after = resumeAfterStall(now - since);
      if (after !== null) nic.outages.push({ from: since, resume: since + after });
      for (const f of this.flows) {
        if (f.stalledSince === null || !f.nics.every((n) => n.up)) continue;
        const at = resumeAfterStall(now - f.stalledSince);
        if (at !== null) f.heldUntil = f.stalledSince + at;
      }
    }
    this.reallocate();
  }

  /** Degrade a host's NIC to `bandwidthBps` (null: the link's rate) with packet loss `loss`; (null, 0) restores it. */
  degrade(host: string, bandwidthBps: number | null, loss: number): void {
    const nic = this.nic(host);
    this.settle();
    nic.degradedBps = bandwidthBps;
    nic.loss = loss;
    const cap = bandwidthBps === null ? this.link.bandwidthBps : Math.min(bandwidthBps, this.link.bandwidthBps);
    nic.egress.capacityBps = cap;
    nic.ingress.capacityBps = cap;
    this.reallocate();
  }

  /** Record that requests across `host`'s NIC made from `from` got through only at `resume` (a recovered break). */
  addOutage(host: string, from: Ns, resume: Ns): void {
    this.nic(host).outages.push({ from, resume });
  }

  isUp(host: string): boolean {
    return this.nic(host).up;
  }

  /**
   * When a request sent at `t` from one host to the other gets through: `t`, or the end of the
   * cut it fell in (the instant TCP moved again after it). Only cuts already over are known.
   */
  pathResumesAt(a: string, b: string, t: Ns): Ns {
    let at = t;
    for (const nic of [this.nic(a), this.nic(b)]) {
      for (const o of nic.outages) if (t >= o.from && t < o.resume) at = Math.max(at, o.resume);
    }
    return at;
  }

  private nic(host: string): Nic {
    const nic = this.nics.get(host);
    if (!nic) throw new Error(`unknown host ${host}`);
    return nic;
  }

  /** The flow stops moving; TCP gives up on it after TCP_GIVE_UP_NS unless it moves again first. */
  private stall(f: Flow): void {
    f.heldUntil = null;
    if (f.stalledSince !== null) return;
    f.stalledSince = this.kernel.now;
    f.giveUp = this.kernel.schedule(TCP_GIVE_UP_NS, () => {
      this.settle();
      this.flows = this.flows.filter((x) => x !== f);
      this.reallocate();
      this.brokenSent.set(f.done, Math.max(0, f.totalBits - f.remainingBits) / 8);
      f.done.succeed(false);
    });
  }

  private moving(f: Flow): boolean {
    return f.stalledSince === null;
  }

  /** Account for the bits sent since the last change. */
  private settle(): void {
    const now = this.kernel.now;
    const dt = (now - this.lastSettle) / 1e9;
    if (dt > 0) for (const f of this.flows) f.remainingBits -= f.rateBps * dt;
    this.lastSettle = now;
  }

  /** A flow's own cap: its migration's, and under loss the Mathis bound of its path. */
  private capOf(f: Flow): number {
    const loss = 1 - (1 - f.nics[0].loss) * (1 - f.nics[1].loss);
    return Math.min(f.capBps, mathisBps(loss, 2 * this.link.latencyNs));
  }

  /** Max-min fair rates by progressive filling over the moving flows, then schedule the next change. */
  private reallocate(): void {
    const now = this.kernel.now;
    for (const f of this.flows) {
      // a held flow's retransmission is due: it moves again
      if (f.heldUntil !== null && f.heldUntil <= now) {
        f.heldUntil = null;
        f.stalledSince = null;
        f.giveUp?.cancel();
        f.giveUp = null;
      }
      f.rateBps = 0;
    }
    const active = this.flows.filter((f) => this.moving(f));
    const caps = new Map(active.map((f) => [f, this.capOf(f)]));
    const resources = new Set<Resource>();
    for (const f of active) for (const r of f.resources) resources.add(r);
    for (const r of resources) {
      r.residual = r.capacityBps;
      r.unfrozen = 0;
    }
    for (const f of active) for (const r of f.resources) r.unfrozen++;
    let unfrozen = active.slice();
    let level = 0;
    while (unfrozen.length > 0) {
      let delta = Infinity;
      for (const r of resources) if (r.unfrozen > 0) delta = Math.min(delta, r.residual / r.unfrozen);
      for (const f of unfrozen) delta = Math.min(delta, caps.get(f)! - level);
      level += delta;
      for (const r of resources) r.residual -= delta * r.unfrozen;
      const still: Flow[] = [];
      for (const f of unfrozen) {
        const cap = caps.get(f)!;
        const saturated = f.resources.some((r) => r.residual <= r.capacityBps * 1e-12);
        const capped = Number.isFinite(cap) && cap - level <= cap * 1e-12;
        if (saturated || capped) {
          f.rateBps = level;
          for (const r of f.resources) r.unfrozen--;
        } else {
          still.push(f);
        }
      }
      unfrozen = still;
    }
    this.timer?.cancel();
    this.timer = null;
    let next = Infinity;
    for (const f of active) if (f.rateBps > 0) next = Math.min(next, (Math.max(0, f.remainingBits) / f.rateBps) * 1e9);
    for (const f of this.flows) if (f.heldUntil !== null) next = Math.min(next, f.heldUntil - now);
    if (next < Infinity) this.timer = this.kernel.schedule(Math.max(0, Math.ceil(next)), () => this.complete());
  }

  private complete(): void {
    this.settle();
    const finished: Flow[] = [];
    const running: Flow[] = [];
    // a flow is done when less than one ns of its sending is left (time is whole ns)
    for (const f of this.flows) (this.moving(f) && f.rateBps > 0 && f.remainingBits <= f.rateBps * 1e-9 + 1e-6 ? finished : running).push(f);
    this.flows = running;
    this.reallocate();
    for (const f of finished) f.done.succeed(true);
  }
}
