// The sim's fault injector: the scenario's `faults:` applied at their times to the migration
// NICs, the migrations under way, the VMs and the data network — and a report of each. What
// every kind does, and why (QEMU's and libvirt's behaviour): docs/faults.md.

import type { FaultReport } from '../model/result/format.js';
import type { FaultSpec, Scenario } from '../model/scenario/types.js';
import { formatDuration } from '../model/units.js';
import type { Ns } from '../model/time.js';
import { type MigrationContext, stopMigration } from './migration.js';
import type { SimVm } from './migration-record.js';

const secs = (ns: Ns): string => `${Math.round(ns / 1e6) / 1000}s`;

/** libvirt's rule: a peer that answers no keepalive for interval × (count + 1) is dead. */
export function keepaliveTimeoutNs(s: Scenario): Ns {
  return s.network.keepalive.intervalNs * (s.network.keepalive.count + 1);
}

export class FaultInjector {
  readonly reports: FaultReport[] = [];
  private readonly down = new Map<string, string>();

  constructor(
    private readonly ctx: MigrationContext,
    private readonly vms: Map<string, SimVm>,
    private readonly s: Scenario,
  ) {}

  /** Why `host` is down, or null: the migration process asks before it starts. */
  readonly crashed = (host: string): string | null => this.down.get(host) ?? null;

  /** Put every fault on the kernel's queue (before the migrations, so a fault and a start at one instant: the fault first). */
  schedule(): void {
    for (const f of this.s.faults) this.ctx.kernel.schedule(f.atNs, () => this.inject(f));
  }

  private report(f: FaultSpec, target: string | null, effect: string, lost: string[] = []): void {
    this.reports.push({ atMs: f.atNs / 1e6, kind: f.kind, target, scheduled: true, effect, lost });
  }

  private inject(f: FaultSpec): void {
    const { net, lan, kernel } = this.ctx;
    switch (f.kind) {
      case 'host-crash':
        return this.crash(f, f.host);
      case 'link-down': {
        if (this.down.has(f.host)) return this.report(f, f.host, `no effect: ${f.host} is already down`);
        net.setUp(f.host, false);
        kernel.schedule(f.forNs, () => {
          if (!this.down.has(f.host)) net.setUp(f.host, true);
        });
        return this.report(f, f.host, `${f.host}'s migration NIC carries nothing for ${formatDuration(f.forNs)}`);
      }
      case 'link-degrade': {
        net.degrade(f.host, f.bandwidthBps, f.loss);
        kernel.schedule(f.forNs, () => net.degrade(f.host, null, 0));
        const what = [f.bandwidthBps === null ? null : `${f.bandwidthBps / 1e6} Mbit/s`, f.loss > 0 ? `${f.loss * 100}% loss` : null].filter(Boolean).join(', ');
        return this.report(f, f.host, `${f.host}'s migration NIC runs at ${what} for ${formatDuration(f.forNs)}`);
      }
      case 'dhcp-down':
        lan!.dhcpDown(f.forNs);
        return this.report(f, 'dhcp', `the DHCP server answers nothing for ${formatDuration(f.forNs)}`);
      case 'switch-restart':
        lan!.restartSwitch(f.downForNs);
        return this.report(f, 'switch', `the switch lost its state and was gone for ${formatDuration(f.downForNs)}${this.s.switch?.bindingDatabase === 'persistent' ? '; bindings restored from its database' : ''}`);
      case 'cancel':
        return this.cancel(f, f.vm);
      case 'spoofed-associate':
        lan!.spoofAssociate(f.host, f.vm, f.vsiType);
        return this.report(f, f.host, `a station on ${f.host} associated ${f.vm}'s MAC with the M-bit under VSI type ${f.vsiType.id}/${f.vsiType.version}`);
    }
  }

  private cancel(f: FaultSpec, vmName: string): void {
    const vm = this.vms.get(vmName)!;
    const rec = vm.current;
    if (!rec) return this.report(f, vmName, `no effect: ${vmName} was not migrating`);
    const ok = stopMigration(this.ctx, rec, { kind: 'revert', why: `cancelled at ${secs(f.atNs)} (scenario fault)` });
    this.report(f, vmName, ok
      ? `${vmName}'s migration to ${rec.spec.to} cancelled: the VM stays on ${rec.from}`
      : `refused: ${vmName} already runs on ${rec.spec.to} in post-copy, which cannot be cancelled`);
  }

  private crash(f: FaultSpec, host: string): void {
    const { net, lan, kernel } = this.ctx;
    if (this.down.has(host)) return this.report(f, host, `no effect: ${host} is already down`);
    this.down.set(host, `crashed at ${secs(f.atNs)}`);
    net.setUp(host, false);
    lan?.crashHost(host);
    const lost: string[] = [];
    const notes: string[] = [];
    const detectNs = keepaliveTimeoutNs(this.s);
    for (const vm of this.vms.values()) {
      if (vm.lost) continue;
      const rec = vm.current;
      if (rec && rec.from === host) {
        const why = rec.resumeNs === null
          ? `the source ${host} crashed at ${secs(f.atNs)} with the VM running there`
          : `the source ${host} crashed at ${secs(f.atNs)} during post-copy: the pages not yet pulled were only there`;
        stopMigration(this.ctx, rec, { kind: 'lost', why });
        lost.push(vm.spec.name);
      } else if (rec && rec.spec.to === host) {
        if (rec.resumeNs !== null) {
          stopMigration(this.ctx, rec, { kind: 'lost', why: `the destination ${host} crashed at ${secs(f.atNs)} while the VM ran there in post-copy` });
          lost.push(vm.spec.name);
        } else {
          // the source hears nothing more from the destination; libvirt's keepalive gives up on it
          kernel.schedule(detectNs, () => {
            stopMigration(this.ctx, rec, { kind: 'revert', why: `the destination ${host} crashed at ${secs(f.atNs)}; the source gave up on it ${formatDuration(detectNs)} later (keepalive)` });
          });
          notes.push(`${vm.spec.name}'s migration reverts when the keepalive gives up (${formatDuration(detectNs)})`);
        }
      } else if (!rec && vm.host === host) {
        vm.lost = true;
        lan?.lost(vm.spec.name);
        lost.push(vm.spec.name);
      }
    }
    const parts = [`${host} stopped for good`, ...notes];
    if (lost.length > 0) parts.push(`lost: ${lost.join(', ')}`);
    this.report(f, host, parts.join('; '), lost);
  }
}
