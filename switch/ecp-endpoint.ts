// One end of an ECP link (802.1Qbg-2012 clause 43, as lldpad implements it — docs/protocols.md
// 1.3). Used by the switch on each port and by the hosts' VDP stations alike:
//  - transmit: stop-and-wait, one ECPDU outstanding; retransmit the same frame (same seq)
//    every 10 µs·2^RTE until ACKed, at most `maxRetries` times, then drop it and move on;
//  - receive: ACK every request; deliver only a new one (a request with the sequence
//    number last delivered is a duplicate: ACK again, deliver nothing).

import { emitEcp, type EcpRepr } from '../wire/ecp.js';
import { emitEthernet, ETHERTYPE } from '../wire/ethernet.js';
import type { FrameSink } from './platform.js';
import type { Clock, Timer } from '../model/time.js';

/** ECPDUs go to the Nearest Customer Bridge group address (protocols.md 1.1). */
export const NEAREST_CUSTOMER_BRIDGE = '01:80:c2:00:00:00';

export interface EcpTimers {
  /** R: retransmissions before giving up */
  maxRetries: number;
  /** RTE: the ACK timer is 10 µs × 2^RTE */
  rte: number;
}

/** lldpad's defaults: R 3, RTE 8 (2.56 ms). */
export const ECP_DEFAULTS: EcpTimers = { maxRetries: 3, rte: 8 };

export function ackTimeoutNs(rte: number): number {
  return 10_000 * 2 ** rte;
}

export interface EcpStats {
  sent: number;
  retransmits: number;
  givenUp: number;
  received: number;
  duplicates: number;
  staleAcks: number;
}

interface Pending {
  subtype: number;
  payload: Uint8Array;
}

export class EcpEndpoint {
  private queue: Pending[] = [];
  private outstanding: { seq: number; frame: Uint8Array; tries: number; timer: Timer } | null = null;
  private nextSeq = 1;
  private lastDelivered: number | null = null;
  readonly stats: EcpStats = { sent: 0, retransmits: 0, givenUp: 0, received: 0, duplicates: 0, staleAcks: 0 };
  timers: EcpTimers;

  constructor(
    private readonly clock: Clock,
    private readonly ownMac: string,
    private readonly sink: FrameSink,
    private readonly deliver: (payload: Uint8Array, subtype: number) => void,
    timers: EcpTimers = ECP_DEFAULTS,
  ) {
    this.timers = { ...timers };
  }

  /** Queue a payload for reliable, in-order delivery. */
  send(subtype: number, payload: Uint8Array): void {
    this.queue.push({ subtype, payload });
    if (!this.outstanding) this.transmitNext();
  }

  get busy(): boolean {
    return this.outstanding !== null || this.queue.length > 0;
  }

  receive(ecp: EcpRepr): void {
    if (ecp.op === 'ack') {
      if (!this.outstanding || ecp.seq !== this.outstanding.seq) {
        this.stats.staleAcks++;
        return;
      }
      this.outstanding.timer.cancel();
      this.outstanding = null;
      this.transmitNext();
      return;
    }
    this.stats.received++;
    this.sink(this.frame({ op: 'ack', subtype: ecp.subtype, seq: ecp.seq, payload: new Uint8Array(0) }));
    if (this.lastDelivered === ecp.seq) {
      this.stats.duplicates++;
      return;
    }
    this.lastDelivered = ecp.seq;
    this.deliver(ecp.payload, ecp.subtype);
  }

  private transmitNext(): void {
    const next = this.queue.shift();
    if (!next) return;
    const seq = this.nextSeq;
    this.nextSeq = seq === 0xffff ? 1 : seq + 1; // 0 is skipped on wrap
    const frame = this.frame({ op: 'request', subtype: next.subtype, seq, payload: next.payload });
    this.outstanding = { seq, frame, tries: 0, timer: this.armTimer() };
    this.stats.sent++;
    this.sink(frame);
  }

  private armTimer(): Timer {
    return this.clock.schedule(ackTimeoutNs(this.timers.rte), () => this.onTimeout());
  }

  private onTimeout(): void {
    const o = this.outstanding;
    if (!o) return;
    if (o.tries >= this.timers.maxRetries) {
      this.stats.givenUp++;
      this.outstanding = null;
      this.transmitNext();
      return;
    }
    o.tries++;
    this.stats.retransmits++;
    o.timer = this.armTimer();
    this.sink(o.frame);
  }

  private frame(ecp: EcpRepr): Uint8Array {
    return emitEthernet({ dst: NEAREST_CUSTOMER_BRIDGE, src: this.ownMac, vlan: null, ethertype: ETHERTYPE.ECP, payload: emitEcp(ecp) });
  }
}
