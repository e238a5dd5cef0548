// Test support for the network actors (used only by sim/net/*.test.ts, whose clock is
// sim/clock.ts ManualClock, the sim kernel): a hub that hands every frame to every other
// endpoint a fixed latency later and keeps a log of what was sent. No switch: the actors'
// own address filters decide what they take.

import type { FrameSink } from '../../switch/platform.js';
import type { Clock, Ns } from '../../model/time.js';
import { DHCP_MIN_LEN, DHCP_OPT } from '../../wire/dhcp.js';
import { readInbound, type Inbound } from './frames.js';

export interface Sent {
  t: Ns;
  from: string;
  frame: Uint8Array;
}

/** A shared segment: every frame goes to every other endpoint `latencyNs` later, unless `drop` says otherwise. */
export class Hub {
  readonly log: Sent[] = [];
  private readonly ends: { name: string; receive: (frame: Uint8Array) => void }[] = [];
  drop: ((s: Sent) => boolean) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly latencyNs: Ns = 0,
  ) {}

  /** Connect an endpoint; the sink it sends with. */
  connect(name: string, receive: (frame: Uint8Array) => void): FrameSink {
    this.ends.push({ name, receive });
    return (frame) => this.send(name, frame);
  }

  send(from: string, frame: Uint8Array): void {
    const s: Sent = { t: this.clock.now(), from, frame };
    this.log.push(s);
    if (this.drop?.(s)) return;
    this.clock.schedule(this.latencyNs, () => {
      for (const e of this.ends) if (e.name !== from) e.receive(frame);
    });
  }

  /** What `from` sent, decoded (frames the codecs reject are left out). */
  sentBy(from: string, since: Ns = 0): (Inbound & { t: Ns })[] {
    const out: (Inbound & { t: Ns })[] = [];
    for (const s of this.log) {
      if (s.from !== from || s.t < since) continue;
      const d = readInbound(s.frame);
      if (d) out.push({ ...d, t: s.t });
    }
    return out;
  }
}

/** The option codes of a DHCP message in wire order (Pad skipped, End stops), to check exactly what was sent. */
export function dhcpOptionCodes(payload: Uint8Array): number[] {
  const codes: number[] = [];
  let i = DHCP_MIN_LEN; // the options follow the fixed part and the cookie
  while (i < payload.length) {
    const c = payload[i]!;
    if (c === DHCP_OPT.PAD) {
      i++;
      continue;
    }
    if (c === DHCP_OPT.END) break;
    codes.push(c);
    i += 2 + (payload[i + 1] ?? 0);
  }
  return codes;
}
