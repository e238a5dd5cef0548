// The VDP bridge role (802.1Qbg-2012 clause 41, as lldpad's bridge side answers —
// docs/protocols.md 3.4): per port and VSI, pre-associate / associate / de-associate; every
// request is answered by echoing its VSI TLV with status 0x40 | error; a VSI whose station
// stops sending keep-alives is de-associated by the bridge (status 0, no ACK bit).

import { toHex } from '../wire/fields.js';
import {
  FILTER_FORMAT,
  VDP_ERROR,
  formatVsiId,
  responseStatus,
  requestStatus,
  type VdpFilter,
  type VdpMode,
  type VdpRepr,
  type VsiTlv,
} from '../wire/vdp.js';
import type { EventLog } from '../model/result/event-log.js';
import type { Clock, Timer } from '../model/time.js';
import type { VsiTypeDb } from './vsi-db.js';

/** The bridge's keep-alive timeout: 1.5 × ((1 + 2R)·10 µs·2^RTE + 10 µs·2^RKA) (protocols.md 2.7). */
export function keepAliveTimeoutNs(retries: number, rte: number, rka: number): number {
  return 1.5 * ((1 + 2 * retries) * 10_000 * 2 ** rte + 10_000 * 2 ** rka);
}

export interface Vsi {
  port: number;
  key: string;
  /** human form of the VSI ID (UUID, MAC …) for logs */
  name: string;
  managerId: Uint8Array;
  mode: Exclude<VdpMode, 'deassoc'>;
  tlv: VsiTlv;
  vlan: number;
  macs: string[];
  migratedTo: boolean;
  timer: Timer | null;
}

export interface VdpBridgeHooks {
  /** a VSI became associated (new, or from pre-associate); `vsi.migratedTo`: the request carried the M-bit */
  associated(vsi: Vsi): void;
  deassociated(vsi: Vsi, cause: 'request' | 'timeout'): void;
  /** the port that holds `mac` now (an association or a DHCP binding), or null */
  holder(mac: string): number | null;
  /** an associate was refused: it would take `mac` from `from`, and its type does not authorise that MAC */
  refused(port: number, mac: string, from: number, vsi: string): void;
}

export interface VdpPortTimers {
  retries: number;
  rte: number;
  rka: number;
}

export class VdpBridge {
  /** port → VSI key → state */
  private readonly vsis = new Map<number, Map<string, Vsi>>();
  private readonly timers = new Map<number, VdpPortTimers>();

  constructor(
    private readonly clock: Clock,
    private readonly types: VsiTypeDb,
    private readonly log: EventLog,
    private readonly portName: (port: number) => string,
    private readonly send: (port: number, vdp: VdpRepr) => void,
    private readonly hooks: VdpBridgeHooks,
    /** until a station's EVB TLV says otherwise: the switch's own advertised values */
    private readonly defaults: VdpPortTimers,
  ) {}

  /** The timers negotiated with the station on `port` (from its EVB TLV). */
  setTimers(port: number, t: VdpPortTimers): void {
    this.timers.set(port, t);
  }

  vsisOn(port: number): Vsi[] {
    return [...(this.vsis.get(port)?.values() ?? [])];
  }

  /** The associated VSI carrying `mac`, wherever it is. */
  findByMac(mac: string): Vsi | null {
    for (const port of this.vsis.values()) {
      for (const v of port.values()) if (v.mode === 'assoc' && v.macs.includes(mac)) return v;
    }
    return null;
  }

  handle(port: number, vdp: VdpRepr): void {
    for (const tlv of vdp.vsis) {
      if (tlv.status.response) continue; // a station does not answer the bridge with VSI TLVs
      this.request(port, vdp.managerId, tlv);
    }
  }

  private request(port: number, managerId: Uint8Array, tlv: VsiTlv): void {
    const key = `${toHex(managerId)}/${tlv.idFormat}/${toHex(tlv.id)}`;
    const name = formatVsiId(tlv.idFormat, tlv.id);
    const firstMac = tlv.filters.find((f) => f.mac)?.mac ?? null;
    this.log.add({
      t: this.clock.now(), kind: 'vdp-request', port: this.portName(port), mode: tlv.mode, vsi: name,
      mac: firstMac, vid: tlv.filters[0]?.vid ?? null,
      migratedTo: tlv.status.migratedTo, migratedFrom: tlv.status.migratedFrom,
    });
    const table = this.table(port);
    const existing = table.get(key);

    if (tlv.mode === 'deassoc') {
      if (existing) this.remove(existing, 'request');
      this.reply(port, managerId, tlv, tlv.filters, VDP_ERROR.SUCCESS);
      return;
    }

    const checked = this.checkFilters(tlv);
    if (typeof checked === 'number') {
      this.reply(port, managerId, tlv, tlv.filters, checked);
      return;
    }
    const { filters, vlan } = checked;
    if (tlv.mode === 'assoc') {
      // taking over a MAC another port holds (a migration, hinted or not) needs the type's
      // authorisation for that MAC: else error 5 with Keep, nothing moves (protocols.md 3.5)
      for (const f of filters) {
        if (f.mac === null) continue;
        const from = this.hooks.holder(f.mac);
        if (from === null || from === port || this.types.authorises(tlv.typeId, tlv.typeVersion, f.mac)) continue;
        this.hooks.refused(port, f.mac, from, name);
        this.reply(port, managerId, tlv, tlv.filters, VDP_ERROR.INVALID_VID_GROUP_MAC, true);
        return;
      }
    }
    const wasAssociated = existing?.mode === 'assoc';
    const vsi: Vsi = existing ?? {
      port, key, name, managerId, mode: tlv.mode, tlv, vlan, macs: [], migratedTo: false, timer: null,
    };
    vsi.mode = tlv.mode;
    vsi.tlv = { ...tlv, filters };
    vsi.vlan = vlan;
    vsi.macs = filters.flatMap((f) => (f.mac ? [f.mac] : []));
    vsi.migratedTo = tlv.status.migratedTo;
    table.set(key, vsi);
    this.armKeepAlive(vsi);
    this.reply(port, managerId, tlv, filters, VDP_ERROR.SUCCESS);
    // a keep-alive (the same mode again) changes nothing; becoming associated does
    if (tlv.mode === 'assoc' && !wasAssociated) this.hooks.associated(vsi);
  }

  /** Validate filters against the type database; fill VID 0 with the type's VLAN. Returns an error code on failure. */
  private checkFilters(tlv: VsiTlv): { filters: VdpFilter[]; vlan: number } | number {
    const type = this.types.get(tlv.typeId, tlv.typeVersion);
    if (!type) return VDP_ERROR.OTHER_FAILURE;
    if (tlv.filters.length === 0) return VDP_ERROR.INVALID_FORMAT;
    // we advertise no group-ID support (BGID off), so only VID and MAC/VID filters
    if (tlv.filterFormat !== FILTER_FORMAT.VID && tlv.filterFormat !== FILTER_FORMAT.MAC_VID) return VDP_ERROR.INVALID_FORMAT;
    const filters: VdpFilter[] = [];
    for (const f of tlv.filters) {
      if (f.vid !== 0 && f.vid !== type.vlan) return VDP_ERROR.INVALID_VID_GROUP_MAC;
      if (f.mac !== null && (parseInt(f.mac.slice(0, 2), 16) & 1) === 1) return VDP_ERROR.INVALID_VID_GROUP_MAC;
      filters.push({ ...f, vid: type.vlan });
    }
    return { filters, vlan: type.vlan };
  }

  private reply(port: number, managerId: Uint8Array, req: VsiTlv, filters: VdpFilter[], error: number, keep = false): void {
    this.log.add({ t: this.clock.now(), kind: 'vdp-response', port: this.portName(port), mode: req.mode, vsi: formatVsiId(req.idFormat, req.id), error });
    const tlv: VsiTlv = { ...req, status: responseStatus(error, { keep }), filters };
    this.send(port, { managerId, vsis: [tlv], assists: [], orgTlvs: [], unknown: [] });
  }

  private armKeepAlive(vsi: Vsi): void {
    vsi.timer?.cancel();
    const t = this.timers.get(vsi.port) ?? this.defaults;
    vsi.timer = this.clock.schedule(keepAliveTimeoutNs(t.retries, t.rte, t.rka), () => {
      this.log.add({ t: this.clock.now(), kind: 'vdp-timeout', port: this.portName(vsi.port), vsi: vsi.name });
      // unsolicited de-associate: status 0, no ACK bit (lldpad vdp22br_deassoc)
      const tlv: VsiTlv = { ...vsi.tlv, mode: 'deassoc', status: requestStatus({}) };
      this.send(vsi.port, { managerId: vsi.managerId, vsis: [tlv], assists: [], orgTlvs: [], unknown: [] });
      vsi.timer = null;
      this.remove(vsi, 'timeout');
    });
  }

  private remove(vsi: Vsi, cause: 'request' | 'timeout'): void {
    vsi.timer?.cancel();
    this.table(vsi.port).delete(vsi.key);
    this.hooks.deassociated(vsi, cause);
  }

  private table(port: number): Map<string, Vsi> {
    let t = this.vsis.get(port);
    if (!t) this.vsis.set(port, (t = new Map()));
    return t;
  }
}
