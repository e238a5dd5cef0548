// The bridge's LLDP/EVB agent (protocols.md 1.4, 3.2): a station (lldpad) enables VDP only
// once it has heard the bridge's EVB TLV, so the switch answers each station LLDPDU with
// its own — chassis, port, TTL, EVB TLV in bridge mode — at most once a second per port.
// ECP and VDP timers are negotiated as the larger of the two sides' values.

import { emitEthernet, ETHERTYPE } from '../wire/ethernet.js';
import { EVB_MODE, emitLldp, type EvbTlv, type LldpRepr } from '../wire/lldp.js';
import { putMac } from '../wire/fields.js';
import type { Clock, Ns } from '../model/time.js';

export const LLDP_NEAREST_BRIDGE = '01:80:c2:00:00:0e';
const NEAREST_CUSTOMER_BRIDGE = '01:80:c2:00:00:00';
const REPLY_HOLDOFF_NS = 1e9;

export interface EvbParams {
  retries: number;
  rte: number;
  rwd: number;
  rka: number;
}

/**
 * What we advertise. RTE 10 (ACK timer 10.24 ms): well above a libpcap port's delay (~1 ms),
 * so stations do not retransmit needlessly, yet short — lldpad sends its next ECPDU only when
 * the ACK timer runs out, so a larger RTE paces every queued request (RTE 14: 164 ms each).
 */
export const BRIDGE_EVB: EvbParams = { retries: 3, rte: 10, rwd: 20, rka: 20 };

export function negotiate(local: EvbParams, station: EvbTlv): EvbParams {
  return {
    retries: Math.max(local.retries, station.retries),
    rte: Math.max(local.rte, station.rte),
    rwd: Math.max(local.rwd, station.rwd),
    rka: Math.max(local.rka, station.rka),
  };
}

export class LldpAgent {
  private readonly lastReply = new Map<number, Ns>();

  constructor(
    private readonly clock: Clock,
    private readonly switchMac: string,
    private readonly portName: (port: number) => string,
    private readonly send: (port: number, frame: Uint8Array) => void,
    private readonly negotiated: (port: number, p: EvbParams) => void,
    private readonly local: EvbParams = BRIDGE_EVB,
  ) {}

  receive(port: number, lldp: LldpRepr, dst: string): void {
    if (!lldp.evb || lldp.evb.mode !== EVB_MODE.STATION) return;
    this.negotiated(port, negotiate(this.local, lldp.evb));
    const now = this.clock.now();
    const last = this.lastReply.get(port);
    if (last !== undefined && now - last < REPLY_HOLDOFF_NS) return;
    this.lastReply.set(port, now);
    this.send(port, this.frame(port, dst === LLDP_NEAREST_BRIDGE ? LLDP_NEAREST_BRIDGE : NEAREST_CUSTOMER_BRIDGE));
  }

  frame(port: number, dst: string): Uint8Array {
    const chassis = new Uint8Array(6);
    putMac(chassis, 0, this.switchMac);
    const evb: EvbTlv = {
      bridge: { bgid: false, rrcap: false, rrctr: false },
      station: { sgid: false, rrreq: false, rrstat: 0 },
      retries: this.local.retries, rte: this.local.rte, mode: EVB_MODE.BRIDGE,
      rolRwd: false, rwd: this.local.rwd, rolRka: false, rka: this.local.rka,
    };
    const lldp: LldpRepr = {
      chassisId: { subtype: 4, value: chassis }, // 4: MAC address
      portId: { subtype: 7, value: new TextEncoder().encode(this.portName(port)) }, // 7: locally assigned
      ttl: 120,
      evb,
      other: [],
    };
    return emitEthernet({ dst, src: this.switchMac, vlan: null, ethertype: ETHERTYPE.LLDP, payload: emitLldp(lldp) });
  }
}
