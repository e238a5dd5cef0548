// The hypervisor's VDP station (lldpad's role): tells the switch about its VMs' vNICs in
// libvirt's order, with the M/S hints under extended VDP (docs/protocols.md 3.3), keeps them
// alive (docs/protocols.md 2.7), and hands a bridge's assistance request to its host
// (docs/wire-formats.md). Shared by both engines: no engine imports.

import { EcpEndpoint, NEAREST_CUSTOMER_BRIDGE, type EcpTimers } from './ecp-endpoint.js';
import type { FrameSink } from './platform.js';
import type { Clock, Timer } from '../model/time.js';
import { ECP_SUBTYPE, parseEcp } from '../wire/ecp.js';
import { emitEthernet, ETHERTYPE, parseEthernet } from '../wire/ethernet.js';
import { putMac } from '../wire/fields.js';
import { emitLldp, EVB_MODE, parseLldp } from '../wire/lldp.js';
import {
  emitVdp,
  FILTER_FORMAT,
  parseVdp,
  requestStatus,
  VSI_ID_FORMAT,
  vsiIdFromMac,
  type AssistRequest,
  type VdpMode,
  type VsiTlv,
} from '../wire/vdp.js';

export interface VsiSpec {
  mac: string;
  vid: number;
  typeId: number;
  typeVersion: number;
}

export interface StationEvents {
  /** the bridge answered a request; error 0 is success */
  response?(mac: string, mode: VdpMode, error: number): void;
  /** the bridge asks the host to make the VM with `mac` re-request its lease (and re-report groups) */
  assist?(req: AssistRequest): void;
  /** the bridge de-associated a VSI on its own (keep-alive timeout) */
  deassociatedByBridge?(mac: string): void;
}

export interface StationConfig {
  mac: string;
  managerId: Uint8Array;
  /** whether to send the 802.1Qbg-2012 migration hints (M-bit/S-bit): `vdp: extended` */
  hints: boolean;
  rka: number;
  ecp: EcpTimers;
}

interface Held {
  spec: VsiSpec;
  mode: Exclude<VdpMode, 'deassoc'>;
  migratedTo: boolean;
  keepAlive: Timer | null;
  /** waiting for the bridge's answer; re-sends when it does not come */
  awaiting: Timer | null;
}

/** RWD: the bridge's resource wait delay exponent (lldpad default). */
const RWD = 20;

/** lldpad's response-wait timer: 1.5 × ((1 + 2R)·10 µs·2^RTE + 10 µs·2^RWD) (protocols.md 2.7). */
export function responseWaitNs(retries: number, rte: number, rwd = RWD): number {
  return 1.5 * ((1 + 2 * retries) * 10_000 * 2 ** rte + 10_000 * 2 ** rwd);
}

export class VdpStation {
  readonly ecp: EcpEndpoint;
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly clock: Clock,
    private readonly config: StationConfig,
    private readonly sink: FrameSink,
    private readonly events: StationEvents = {},
  ) {
    this.ecp = new EcpEndpoint(clock, config.mac, sink, (payload, subtype) => this.fromBridge(payload, subtype), config.ecp);
  }

  /** Announce the station's EVB TLV, so the bridge answers with its own (lldpad waits for that). */
  announce(): void {
    const chassis = new Uint8Array(6);
    putMac(chassis, 0, this.config.mac);
    const lldp = emitLldp({
      chassisId: { subtype: 4, value: chassis },
      portId: { subtype: 3, value: chassis },
      ttl: 120,
      evb: {
        bridge: { bgid: false, rrcap: false, rrctr: false },
        station: { sgid: false, rrreq: false, rrstat: 0 },
        retries: this.config.ecp.maxRetries, rte: this.config.ecp.rte, mode: EVB_MODE.STATION,
        rolRwd: false, rwd: 20, rolRka: false, rka: this.config.rka,
      },
      other: [],
    });
    this.sink(emitEthernet({ dst: NEAREST_CUSTOMER_BRIDGE, src: this.config.mac, vlan: null, ethertype: ETHERTYPE.LLDP, payload: lldp }));
  }

  preAssociate(spec: VsiSpec): void {
    this.request('preassoc', spec, false, false);
  }

  /** `migrated`: this VM arrives by migration (the M-bit, if hints are on). */
  associate(spec: VsiSpec, migrated: boolean): void {
    this.request('assoc', spec, migrated && this.config.hints, false);
  }

  /** `migrated`: the VM left by migration (the S-bit, if hints are on). */
  deassociate(spec: VsiSpec, migrated: boolean): void {
    this.request('deassoc', spec, false, migrated && this.config.hints);
  }

  receive(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!eth.ok) return;
    if (eth.value.ethertype === ETHERTYPE.ECP) {
      const e = parseEcp(eth.value.payload);
      if (e.ok) this.ecp.receive(e.value);
    } else if (eth.value.ethertype === ETHERTYPE.LLDP) {
      const l = parseLldp(eth.value.payload);
      // the bridge's EVB TLV: use the larger of both sides' ECP timers (lldpad's rule)
      if (l.ok && l.value.evb?.mode === EVB_MODE.BRIDGE) {
        this.ecp.timers = {
          maxRetries: Math.max(this.config.ecp.maxRetries, l.value.evb.retries),
          rte: Math.max(this.config.ecp.rte, l.value.evb.rte),
        };
      }
    }
  }

  private request(mode: VdpMode, spec: VsiSpec, migratedTo: boolean, migratedFrom: boolean): void {
    const old = this.held.get(spec.mac);
    old?.keepAlive?.cancel();
    old?.awaiting?.cancel();
    if (mode === 'deassoc') {
      this.held.delete(spec.mac);
      this.send(mode, spec, migratedTo, migratedFrom);
      return;
    }
    const h: Held = { spec, mode, migratedTo, keepAlive: null, awaiting: null };
    this.held.set(spec.mac, h);
    this.sendAndWait(h);
  }

  /**
   * Send (or re-send) a held request and wait for the answer. An answer can be lost for good
   * when ECP gives up, or when a restarted bridge's first ECPDU reuses the sequence number
   * last delivered here and is taken for a duplicate: the re-send recovers, as in lldpad.
   */
  private sendAndWait(h: Held): void {
    this.send(h.mode, h.spec, h.migratedTo, false);
    h.awaiting?.cancel();
    h.awaiting = this.clock.schedule(responseWaitNs(this.ecp.timers.maxRetries, this.ecp.timers.rte), () => {
      h.awaiting = null;
      if (this.held.get(h.spec.mac) === h) this.sendAndWait(h);
    });
  }

  private send(mode: VdpMode, spec: VsiSpec, migratedTo: boolean, migratedFrom: boolean): void {
    const tlv: VsiTlv = {
      mode,
      status: requestStatus({ migratedTo, migratedFrom }),
      typeId: spec.typeId,
      typeVersion: spec.typeVersion,
      idFormat: VSI_ID_FORMAT.MAC,
      id: vsiIdFromMac(spec.mac),
      filterFormat: FILTER_FORMAT.MAC_VID,
      filters: [{ ps: false, pcp: 0, vid: spec.vid, mac: spec.mac, groupId: null }],
    };
    this.ecp.send(ECP_SUBTYPE.VDP, emitVdp({ managerId: this.config.managerId, vsis: [tlv], assists: [], orgTlvs: [], unknown: [] }));
  }

  private fromBridge(payload: Uint8Array, subtype: number): void {
    if (subtype !== ECP_SUBTYPE.VDP) return;
    const v = parseVdp(payload);
    if (!v.ok) return;
    for (const a of v.value.assists) this.events.assist?.(a);
    for (const tlv of v.value.vsis) {
      const mac = tlv.filters.find((f) => f.mac)?.mac;
      if (!mac) continue;
      if (!tlv.status.response) {
        // an unsolicited de-associate from the bridge
        if (tlv.mode === 'deassoc' && this.held.has(mac)) {
          const h = this.held.get(mac)!;
          h.keepAlive?.cancel();
          h.awaiting?.cancel();
          this.held.delete(mac);
          this.events.deassociatedByBridge?.(mac);
        }
        continue;
      }
      this.events.response?.(mac, tlv.mode, tlv.status.error);
      const h = this.held.get(mac);
      if (h && h.mode === tlv.mode) {
        h.awaiting?.cancel();
        h.awaiting = null;
        if (tlv.status.error === 0) this.scheduleKeepAlive(h);
      }
    }
  }

  /** lldpad repeats the request, hints included, every 10 µs·2^RKA (protocols.md 2.3, 2.7). */
  private scheduleKeepAlive(h: Held): void {
    h.keepAlive?.cancel();
    h.keepAlive = this.clock.schedule(10_000 * 2 ** this.config.rka, () => {
      if (this.held.get(h.spec.mac) !== h) return;
      h.keepAlive = null;
      this.sendAndWait(h);
    });
  }
}
