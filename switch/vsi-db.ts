// The VSI type database: what a VSI type (id, version) means on this network — its VLAN.
// A request for an unknown type is refused. The sim fills it from the scenario's VMs;
// the testbed keeps it in Redis.

export interface VsiType {
  vlan: number;
}

export class VsiTypeDb {
  private readonly types = new Map<string, VsiType>();

  define(id: number, version: number, type: VsiType): void {
    this.types.set(`${id}/${version}`, type);
  }

  get(id: number, version: number): VsiType | null {
    return this.types.get(`${id}/${version}`) ?? null;
  }
}
