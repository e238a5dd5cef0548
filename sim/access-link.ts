// A full-duplex access link between a node and a switch port: each direction is a FIFO
// that serializes frames at the link's bandwidth and delivers them a latency later.

import type { Kernel } from './kernel.js';
import type { LinkSpec } from '../model/scenario/types.js';
import type { Ns } from '../model/time.js';

/** Ethernet's per-frame overhead on the wire: preamble + SFD (8), FCS (4), inter-frame gap (12). */
const WIRE_OVERHEAD_BYTES = 24;

export class LinkDirection {
  private freeAt: Ns = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly link: LinkSpec,
    private readonly deliver: (frame: Uint8Array) => void,
  ) {}

  send(frame: Uint8Array): void {
    const now = this.kernel.now;
    const start = Math.max(now, this.freeAt);
    const serialization = Math.ceil(((frame.length + WIRE_OVERHEAD_BYTES) * 8 * 1e9) / this.link.bandwidthBps);
    this.freeAt = start + serialization;
    this.kernel.schedule(this.freeAt - now + this.link.latencyNs, () => this.deliver(frame));
  }
}
