// IGMP snooping (RFC 4541 practice, timers of RFC 2236/3376 — docs/protocols.md 5.2): which
// ports want which groups, which ports lead to multicast routers. Memberships last the
// Group Membership Interval (260 s) unless refreshed; a leave shortens that to the
// last-member query time. Source lists of IGMPv3 are not tracked (any-source only).

import type { EventLog } from '../model/result/event-log.js';
import type { Clock, Ns } from '../model/time.js';

export const GROUP_MEMBERSHIP_INTERVAL_NS = 260e9;
export const LAST_MEMBER_QUERY_TIME_NS = 2e9; // LMQI 1 s × LMQC 2

interface Member {
  expiresAt: Ns;
  /** reporters behind the port: MAC → IP, so a migrated VM's groups can be found */
  hosts: Map<string, string>;
}

export class IgmpSnooping {
  /** `${vlan}/${group}` → port → member */
  private readonly groups = new Map<string, Map<number, Member>>();
  readonly routerPorts = new Set<number>();

  constructor(
    private readonly clock: Clock,
    private readonly log: EventLog,
    private readonly portName: (port: number) => string,
  ) {}

  report(port: number, vlan: number, group: string, mac: string, ip: string): void {
    const now = this.clock.now();
    const k = `${vlan}/${group}`;
    let ports = this.groups.get(k);
    if (!ports) this.groups.set(k, (ports = new Map()));
    let m = ports.get(port);
    if (!m || m.expiresAt <= now) {
      m = { expiresAt: 0, hosts: new Map() };
      ports.set(port, m);
      this.log.add({ t: now, kind: 'igmp-join', port: this.portName(port), group, vlan, mac });
    }
    m.expiresAt = now + GROUP_MEMBERSHIP_INTERVAL_NS;
    m.hosts.set(mac, ip);
  }

  /** A leave: the membership ends after the last-member query time unless someone reports again. */
  leave(port: number, vlan: number, group: string, mac: string): void {
    const m = this.groups.get(`${vlan}/${group}`)?.get(port);
    if (!m) return;
    m.hosts.delete(mac);
    m.expiresAt = Math.min(m.expiresAt, this.clock.now() + LAST_MEMBER_QUERY_TIME_NS);
  }

  isMember(port: number, vlan: number, group: string): boolean {
    const m = this.groups.get(`${vlan}/${group}`)?.get(port);
    return m !== undefined && m.expiresAt > this.clock.now();
  }

  /** Ports that get a datagram for `group`: members and router ports, not the one it came in on. */
  outPorts(vlan: number, group: string, inPort: number): number[] {
    const now = this.clock.now();
    const out = new Set<number>(this.routerPorts);
    const ports = this.groups.get(`${vlan}/${group}`);
    if (ports) for (const [p, m] of ports) if (m.expiresAt > now) out.add(p);
    out.delete(inPort);
    return [...out];
  }

  /** Groups a host (by MAC) has reported, wherever it is. */
  groupsOf(mac: string): { vlan: number; group: string; ip: string }[] {
    const now = this.clock.now();
    const found: { vlan: number; group: string; ip: string }[] = [];
    for (const [k, ports] of this.groups) {
      for (const m of ports.values()) {
        const ip = m.hosts.get(mac);
        if (ip !== undefined && m.expiresAt > now) {
          const [vlan, group] = k.split('/') as [string, string];
          found.push({ vlan: Number(vlan), group, ip });
          break;
        }
      }
    }
    return found;
  }

  /** (VLAN, group)s with memberships, expired ones not yet swept included */
  get groupCount(): number {
    return this.groups.size;
  }

  /** Drop expired memberships (run at each general query), logging them. */
  sweep(): void {
    const now = this.clock.now();
    for (const [k, ports] of this.groups) {
      for (const [p, m] of ports) {
        if (m.expiresAt <= now) {
          ports.delete(p);
          const [vlan, group] = k.split('/') as [string, string];
          this.log.add({ t: now, kind: 'igmp-leave', port: this.portName(p), group, vlan: Number(vlan), cause: 'expired' });
        }
      }
      if (ports.size === 0) this.groups.delete(k);
    }
  }
}
