// Which associated VSI holds each MAC (its host port and VLAN), and from that which VLANs a
// host port is a member of: a host port carries a VLAN only while a VSI in it is associated
// there. The switch's VDP side writes it; its forwarding side reads it.

export interface VsiPlace {
  port: number;
  vlan: number;
}

export class VsiMembership {
  /** MAC of an associated VSI → where and in which VLAN */
  private readonly byMac = new Map<string, VsiPlace>();
  /** host port → VLAN → number of VSIs in it */
  private readonly vlans = new Map<number, Map<number, number>>();

  /** Where the VSI carrying `mac` is associated now. */
  of(mac: string): VsiPlace | null {
    return this.byMac.get(mac) ?? null;
  }

  /** `mac` is associated on `port` in `vlan` (moving it if it was elsewhere). */
  associate(mac: string, port: number, vlan: number): void {
    const prev = this.byMac.get(mac);
    if (prev && prev.port !== port) this.count(prev.port, prev.vlan, -1);
    if (!prev || prev.port !== port) this.count(port, vlan, +1);
    this.byMac.set(mac, { port, vlan });
  }

  /** `mac` is de-associated from `port` (nothing if it is associated elsewhere now). */
  deassociate(mac: string, port: number): void {
    const cur = this.byMac.get(mac);
    if (!cur || cur.port !== port) return;
    this.byMac.delete(mac);
    this.count(port, cur.vlan, -1);
  }

  /** Whether host port `port` carries `vlan`. */
  carries(port: number, vlan: number): boolean {
    return (this.vlans.get(port)?.get(vlan) ?? 0) > 0;
  }

  private count(port: number, vlan: number, delta: number): void {
    let m = this.vlans.get(port);
    if (!m) this.vlans.set(port, (m = new Map()));
    m.set(vlan, (m.get(vlan) ?? 0) + delta);
  }
}
