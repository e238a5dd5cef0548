// What the cross-field checks share: what the schema pass dropped (so a check that a dropped
// entry could make wrong is skipped), and the start order of migrations.

/**
 * What the schema pass dropped when it found errors: the list entries it could not read
 * (`index` maps a kept entry to its place in the file) and the top-level keys. A check that
 * could be wrong because of a dropped entry is skipped; the schema already reported it.
 */
export interface Gaps {
  index: { hosts: number[]; vms: number[]; migrations: number[]; multicastSources: number[] };
  /** top-level keys whose value was dropped (`duration`, `dhcp`, …) */
  dropped: Set<string>;
  /** names of dropped hosts / VMs; null: one had no readable name, so any name may be it */
  droppedHosts: Set<string> | null;
  droppedVms: Set<string> | null;
  /** VMs with a dropped migration (null: any VM) */
  vmsWithDroppedMigrations: Set<string> | null;
  droppedSources: boolean;
}

/** Whether `name` may be among a dropped set (null: any name may be). */
export const maybe = (set: Set<string> | null | undefined, name: string): boolean => set === null || (set?.has(name) ?? false);

/** Names for a message, `(none)` when empty. */
export function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length > 0 ? all.join(', ') : '(none)';
}

/** Migration indices in start order (file order among equal starts). */
export function startOrder(migrations: readonly { atNs: number }[]): number[] {
  return migrations.map((_, i) => i).sort((a, b) => (migrations[a]?.atNs ?? 0) - (migrations[b]?.atNs ?? 0));
}
