// The migration NICs: every host has a full-duplex NIC of the migration link's
// bandwidth (an egress and an ingress resource). Concurrent transfers share the NICs
// they cross max-min fairly (progressive filling), each also limited by its own cap —
// so two migrations out of one host each get half, and h1→h2 with h3→h4 run at full rate.
// A transfer's event fires when its last bit has left the wire; propagation latency is
// the caller's to add, because only the caller knows whether it waits for it.

import type { Kernel, SimEvent } from './kernel.js';
import type { Ns, Timer } from '../model/time.js';
import type { LinkSpec } from '../model/scenario/types.js';

interface Resource {
  capacityBps: number;
  residual: number;
  unfrozen: number;
}

interface Flow {
  resources: Resource[];
  capBps: number;
  remainingBits: number;
  rateBps: number;
  done: SimEvent<void>;
}

export class MigrationNics {
  private readonly egress = new Map<string, Resource>();
  private readonly ingress = new Map<string, Resource>();
  private flows: Flow[] = [];
  private lastSettle: Ns = 0;
  private timer: Timer | null = null;

  constructor(
    private readonly kernel: Kernel,
    hosts: string[],
    readonly link: LinkSpec,
  ) {
    for (const h of hosts) {
      this.egress.set(h, { capacityBps: link.bandwidthBps, residual: 0, unfrozen: 0 });
      this.ingress.set(h, { capacityBps: link.bandwidthBps, residual: 0, unfrozen: 0 });
    }
  }

  get latencyNs(): Ns {
    return this.link.latencyNs;
  }

  /** Send `bytes` from one host to another; `capBps` null means no cap of its own. */
  transfer(from: string, to: string, bytes: number, capBps: number | null): SimEvent<void> {
    const done = this.kernel.event<void>();
    if (bytes <= 0) return done.succeed();
    const out = this.egress.get(from);
    const inn = this.ingress.get(to);
    if (!out || !inn) throw new Error(`unknown host in transfer ${from} → ${to}`);
    this.settle();
    this.flows.push({ resources: [out, inn], capBps: capBps ?? Infinity, remainingBits: bytes * 8, rateBps: 0, done });
    this.reallocate();
    return done;
  }

  /** Account for the bits sent since the last change. */
  private settle(): void {
    const now = this.kernel.now;
    const dt = (now - this.lastSettle) / 1e9;
    if (dt > 0) for (const f of this.flows) f.remainingBits -= f.rateBps * dt;
    this.lastSettle = now;
  }

  /** Max-min fair rates by progressive filling, then schedule the next completion. */
  private reallocate(): void {
    const resources = new Set<Resource>();
    for (const f of this.flows) for (const r of f.resources) resources.add(r);
    for (const r of resources) {
      r.residual = r.capacityBps;
      r.unfrozen = 0;
    }
    for (const f of this.flows) for (const r of f.resources) r.unfrozen++;
    let unfrozen = this.flows.slice();
    let level = 0;
    while (unfrozen.length > 0) {
      let delta = Infinity;
      for (const r of resources) if (r.unfrozen > 0) delta = Math.min(delta, r.residual / r.unfrozen);
      for (const f of unfrozen) delta = Math.min(delta, f.capBps - level);
      level += delta;
      for (const r of resources) r.residual -= delta * r.unfrozen;
      const still: Flow[] = [];
      for (const f of unfrozen) {
        const saturated = f.resources.some((r) => r.residual <= r.capacityBps * 1e-12);
        const capped = Number.isFinite(f.capBps) && f.capBps - level <= f.capBps * 1e-12;
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
    for (const f of this.flows) next = Math.min(next, (Math.max(0, f.remainingBits) / f.rateBps) * 1e9);
    if (next < Infinity) this.timer = this.kernel.schedule(Math.ceil(next), () => this.complete());
  }

  private complete(): void {
    this.settle();
    const finished: Flow[] = [];
    const running: Flow[] = [];
    // a flow is done when less than one ns of its sending is left (time is whole ns)
    for (const f of this.flows) (f.remainingBits <= f.rateBps * 1e-9 + 1e-6 ? finished : running).push(f);
    this.flows = running;
    this.reallocate();
    for (const f of finished) f.done.succeed();
  }
}
