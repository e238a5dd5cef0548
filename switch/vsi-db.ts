// The VSI type database: what a VSI type (id, version) means on this network — its VLAN, and
// which VM MACs it authorises. A request for an unknown type is refused; an associate that
// takes over a MAC another port holds is honoured only for a MAC its type authorises
// (docs/protocols.md 3.5). The sim fills it from the scenario's VMs; the testbed keeps it in
// Redis (the orchestrator writes it from the same VMs).

export interface VsiType {
  vlan: number;
  /** the VM MACs (lower case) this type authorises; absent: none (no takeover is honoured) */
  macs?: string[];
}

export class VsiTypeDb {
  private readonly types = new Map<string, VsiType>();

  define(id: number, version: number, type: VsiType): void {
    this.types.set(`${id}/${version}`, type);
  }

  get(id: number, version: number): VsiType | null {
    return this.types.get(`${id}/${version}`) ?? null;
  }

  /** Does type (id, version) authorise `mac`? */
  authorises(id: number, version: number, mac: string): boolean {
    return this.get(id, version)?.macs?.includes(mac.toLowerCase()) ?? false;
  }
}
