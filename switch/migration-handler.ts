// EP2562973A1's rebind at switchover: on an M-bit associate under extended VDP, the VM's
// DHCP binding and IGMP memberships move to its new port on evidence the switch goes and
// gets (leasequery, assistance request, rebind query). What each method does, and the prior
// art without it: docs/architecture.md ("The switch, in both engines").

import type { DhcpSnooping } from './dhcp-snooping.js';
import type { EventLog } from '../model/result/event-log.js';
import type { IgmpSnooping } from './igmp-snooping.js';
import type { LeasequeryClient } from './leasequery-client.js';
import type { Clock } from '../model/time.js';
import type { Vsi } from './vdp-bridge.js';
import type { VdpRepr } from '../wire/vdp.js';

export interface RebindPolicy {
  vdp: 'standard' | 'extended';
  dhcpRebind: 'none' | 'leasequery' | 'assist';
  igmpRebind: 'none' | 'query';
  /** when leasequery gets no answer: `assist` sends the assistance request; none (the default) leaves the loss to be reported */
  dhcpRebindFallback?: 'none' | 'assist';
}

export interface MigrationHandlerDeps {
  clock: Clock;
  log: EventLog;
  snooping: DhcpSnooping;
  igmp: IgmpSnooping;
  leasequery: LeasequeryClient | null;
  portName: (port: number) => string;
  /** where the VSI carrying `mac` is associated now */
  currentPort: (mac: string) => number | null;
  sendVdp: (port: number, vdp: VdpRepr) => void;
  /** query `mac` on `port` for `group` (null: a general query) */
  sendQuery: (port: number, mac: string, group: string | null) => void;
}

export class MigrationHandler {
  constructor(private readonly policy: RebindPolicy, private readonly d: MigrationHandlerDeps) {}

  onAssociate(vsi: Vsi): void {
    if (this.policy.vdp !== 'extended' || !vsi.migratedTo) return;
    for (const mac of vsi.macs) this.rebind(vsi, mac);
  }

  /** The assistance request: the station makes the VM re-request its lease, and the snooped ACK moves the binding. */
  private assist(vsi: Vsi, mac: string, ip: string, cause: 'fallback' | null): void {
    this.d.sendVdp(vsi.port, {
      managerId: vsi.managerId, vsis: [], orgTlvs: [], unknown: [],
      assists: [{ idFormat: vsi.tlv.idFormat, id: vsi.tlv.id, mac, ip, dhcp: true, igmp: false }],
    });
    this.d.log.add({ t: this.d.clock.now(), kind: 'assist-sent', port: this.d.portName(vsi.port), mac, ...(cause ? { cause } : {}) });
  }

  private rebind(vsi: Vsi, mac: string): void {
    const { clock, log, snooping, igmp } = this.d;
    const binding = snooping.binding(mac);
    log.add({ t: clock.now(), kind: 'migration-detected', port: this.d.portName(vsi.port), mac, from: binding ? this.d.portName(binding.port) : null });

    if (binding && binding.port !== vsi.port) {
      if (this.policy.dhcpRebind === 'leasequery' && this.d.leasequery) {
        const vlan = binding.vlan;
        const ip = binding.ip;
        this.d.leasequery.query(mac, ip, (active) => {
          const port = this.d.currentPort(mac);
          if (active && port !== null) snooping.bind(mac, active.ip, vlan, port, active.leaseSeconds, 'leaseactive');
          else if (!active && port === vsi.port && this.policy.dhcpRebindFallback === 'assist') this.assist(vsi, mac, ip, 'fallback');
        });
      } else if (this.policy.dhcpRebind === 'assist') {
        this.assist(vsi, mac, binding.ip, null);
      }
    }

    if (this.policy.igmpRebind === 'query') {
      const groups = igmp.groupsOf(mac);
      if (groups.length === 0) this.d.sendQuery(vsi.port, mac, null);
      for (const g of groups) this.d.sendQuery(vsi.port, mac, g.group);
    }
  }
}
