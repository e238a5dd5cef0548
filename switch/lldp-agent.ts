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

/**
 * The largest exponent the bridge accepts from a station (protocols.md 3.5); a larger one is
 * clamped to it (and counted). RKA 24: a keep-alive of 168 s; RTE 16: an ECP ACK timer of
 * 655 ms; RWD 24 like RKA; R is a 3-bit field (≤ 7). With all at the maxima the bridge's
 * keep-alive timeout is 1.5 × (15 × 0.655 s + 168 s) ≈ 4.4 min.
 */
export const EVB_MAXIMA: EvbParams = { retries: 7, rte: 16, rwd: 24, rka: 24 };

/** A station's EVB values clamped to EVB_MAXIMA, and which fields were beyond them. */
export function clampEvb(station: EvbParams, max: EvbParams = EVB_MAXIMA): { params: EvbParams; clamped: (keyof EvbParams)[] } {
  const params = { ...station };
  const clamped: (keyof EvbParams)[] = [];
  for (const k of ['retries', 'rte', 'rwd', 'rka'] as const) {
    if (params[k] > max[k]) {
      params[k] = max[k];
      clamped.push(k);
    }
  }
  return { params, clamped };
}

/** Why the agent refused (part of) a station's LLDPDU. */
export type EvbRefusal =
  | { reason: 'foreign-station'; mac: string; station: string }
  | { reason: 'evb-clamped'; mac: string; fields: string };

export function negotiate(local: EvbParams, station: EvbParams): EvbParams {
  return {
    retries: Math.max(local.retries, station.retries),
    rte: Math.max(local.rte, station.rte),
    rwd: Math.max(local.rwd, station.rwd),
    rka: Math.max(local.rka, station.rka),
  };
}

export class LldpAgent {
  private readonly lastReply = new Map<number, Ns>();
  /** port → its station's MAC: configured, else the source of the first station EVB TLV */
  private readonly stations = new Map<number, string>();
  /** set by the switch: a refused or clamped EVB TLV */
  onRefused: (port: number, r: EvbRefusal) => void = () => {};

  constructor(
    private readonly clock: Clock,
    private readonly switchMac: string,
    private readonly portName: (port: number) => string,
    private readonly send: (port: number, frame: Uint8Array) => void,
    private readonly negotiated: (port: number, p: EvbParams) => void,
    private readonly local: EvbParams = BRIDGE_EVB,
  ) {}

  /** Fix the station expected on `port` (otherwise the first EVB TLV's source is taken). */
  expectStation(port: number, mac: string): void {
    this.stations.set(port, mac.toLowerCase());
  }

  station(port: number): string | null {
    return this.stations.get(port) ?? null;
  }

  /** `src`: the LLDPDU's source MAC. Only the port's station negotiates, within EVB_MAXIMA. */
  receive(port: number, lldp: LldpRepr, dst: string, src: string): void {
    if (!lldp.evb || lldp.evb.mode !== EVB_MODE.STATION) return;
    const station = this.stations.get(port);
    if (station === undefined) this.stations.set(port, src);
    else if (station !== src) return this.onRefused(port, { reason: 'foreign-station', mac: src, station });
    const { params, clamped } = clampEvb(lldp.evb);
    if (clamped.length > 0) {
      this.onRefused(port, { reason: 'evb-clamped', mac: src, fields: clamped.map((k) => `${k} ${lldp.evb![k]}>${EVB_MAXIMA[k]}`).join(', ') });
    }
    this.negotiated(port, negotiate(this.local, params));
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
