// Host capacity: the VMs placed on a host with a memory size must fit in it, at the start and
// after every migration that moves a VM there.

import { formatBytes, formatDuration } from '../units.js';
import type { HostSpec, MigrationSpec, VmSpec } from './types.js';
import type { Problems } from './problems.js';
import type { PathSegment } from './errors.js';
import { type Gaps, startOrder } from './gaps.js';

/**
 * Host memory, when given, must hold what is placed on it: first the initial placement
 * (file order), then each migration's destination as it starts (the VM leaves its source then).
 * One error per host: where it first overflows, with its memory, the total and the VMs.
 */
export function checkCapacity(
  hosts: HostSpec[],
  vms: VmSpec[],
  migrations: MigrationSpec[],
  problems: Problems,
  gaps: Gaps | null,
  vmAt: (i: number) => number,
): void {
  const capacity = new Map(hosts.map((h) => [h.name, h.memoryBytes]));
  const placed = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const reported = new Set<string>();
  const used = (host: string) =>
    (placed.get(host) ?? []).reduce((sum, name) => sum + (vmByName.get(name)?.memoryBytes ?? 0), 0);
  const each = (host: string) =>
    (placed.get(host) ?? []).map((name) => `${name} ${formatBytes(vmByName.get(name)?.memoryBytes ?? 0)}`).join(', ');

  /** Places `vm` on `host` (it is there, fitting or not) and reports the host's first overflow. */
  const place = (vm: VmSpec, host: string, path: () => PathSegment[], when: string): void => {
    const cap = capacity.get(host);
    const here = placed.get(host);
    if (cap === undefined || here === undefined) return; // unknown host: reported elsewhere
    here.push(vm.name);
    if (cap === null || reported.has(host)) return;
    if (vm.memoryBytes > cap) {
      reported.add(host);
      problems.add(path(), `a host with at least ${formatBytes(vm.memoryBytes)} of memory`, {
        problem: `${vm.name} needs ${formatBytes(vm.memoryBytes)} but ${host} has ${formatBytes(cap)}`,
      });
      return;
    }
    const total = used(host);
    if (total > cap) {
      reported.add(host);
      problems.add(path(), `VMs on ${host} that fit in its ${formatBytes(cap)}`, {
        problem: `${host} has ${formatBytes(cap)} but would hold ${formatBytes(total)}${when} (${each(host)})`,
      });
    }
  };

  // the initial placement is one moment: a host is judged on all the VMs that start on it
  const initial = new Map<string, number>();
  vms.forEach((vm, k) => {
    const here = placed.get(vm.host);
    if (here === undefined) return;
    here.push(vm.name);
    initial.set(vm.host, k);
  });
  for (const [host, names] of placed) {
    const cap = capacity.get(host);
    if (cap === null || cap === undefined || names.length === 0) continue;
    const big = names.map((n) => vmByName.get(n)).findIndex((v) => v !== undefined && v.memoryBytes > cap);
    if (big >= 0) {
      const vm = vmByName.get(names[big] ?? '');
      const k = vms.findIndex((v) => v === vm);
      if (vm && k >= 0) {
        reported.add(host);
        problems.add(['vms', vmAt(k), 'memory'], `a host with at least ${formatBytes(vm.memoryBytes)} of memory`, {
          problem: `${vm.name} needs ${formatBytes(vm.memoryBytes)} but ${host} has ${formatBytes(cap)}`,
        });
      }
      continue;
    }
    const total = used(host);
    if (total > cap) {
      reported.add(host);
      // point at the VM that overflows it, in file order
      let sum = 0;
      let k = initial.get(host) ?? 0;
      for (const [j, v] of vms.entries()) {
        if (v.host !== host) continue;
        sum += v.memoryBytes;
        if (sum > cap) {
          k = j;
          break;
        }
      }
      problems.add(['vms', vmAt(k), 'host'], `VMs on ${host} that fit in its ${formatBytes(cap)}`, {
        problem: `${host} has ${formatBytes(cap)} but would hold ${formatBytes(total)} (${each(host)})`,
      });
    }
  }

  // a dropped migration would change where its VM is: the moves after the first such are not judged
  if (gaps && (gaps.vmsWithDroppedMigrations === null || gaps.vmsWithDroppedMigrations.size > 0)) return;
  for (const k of startOrder(migrations)) {
    const m = migrations[k];
    const vm = m ? vmByName.get(m.vm) : undefined;
    if (!m || !vm || m.from === '' || !capacity.has(m.to) || m.to === m.from) continue;
    const from = placed.get(m.from);
    const idx = from?.indexOf(vm.name) ?? -1;
    if (!from || idx < 0) continue; // a migration that is refused (overlap) moves nothing
    from.splice(idx, 1);
    place(vm, m.to, () => ['migrations', m.index, 'to'], ` at ${formatDuration(m.atNs)}`);
  }
}

