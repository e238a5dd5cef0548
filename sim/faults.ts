// The sim's fault injector: the scenario's `faults:` applied at their times to the migration
// NICs, the migrations under way, the VMs and the data network — and a report of each. What
// every kind does, and why (QEMU's and libvirt's behaviour): docs/faults.md.

import type { FaultReport } from '../model/result/format.js';
import type { FaultSpec, Scenario } from '../model/scenario/types.js';
import { type MigrationContext, stopMigration } from './migration.js';
import type { SimVm } from './migration-record.js';
import { keepaliveTimeoutNs } from '../model/scenario/faults.js';
import { alreadyDownEffect, cancelEffect, cancelReason, crashDetectReason, crashEffect, destinationCrashReason, dhcpDownEffect, linkDegradeEffect, linkDownEffect, secs, sourceCrashReason, spoofEffect, switchRestartEffect } from '../model/result/fault-words.js';

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
        if (this.down.has(f.host)) return this.report(f, f.host, alreadyDownEffect(f.host));
        net.setUp(f.host, false);
        kernel.schedule(f.forNs, () => {
          if (!this.down.has(f.host)) net.setUp(f.host, true);
        });
        return this.report(f, f.host, linkDownEffect(f.host, f.forNs));
      }
      case 'link-degrade': {
        net.degrade(f.host, f.bandwidthBps, f.loss);
        kernel.schedule(f.forNs, () => net.degrade(f.host, null, 0));
        return this.report(f, f.host, linkDegradeEffect(f.host, f.bandwidthBps, f.loss, f.forNs));
      }
      case 'dhcp-down':
        lan!.dhcpDown(f.forNs);
        return this.report(f, 'dhcp', dhcpDownEffect(f.forNs));
      case 'switch-restart':
        lan!.restartSwitch(f.downForNs);
        return this.report(f, 'switch', switchRestartEffect(f.downForNs, this.s.switch?.bindingDatabase === 'persistent'));
      case 'cancel':
        return this.cancel(f, f.vm);
      case 'spoofed-associate':
        lan!.spoofAssociate(f.host, f.vm, f.vsiType);
        return this.report(f, f.host, spoofEffect(f.host, f.vm, f.vsiType));
    }
  }

  private cancel(f: FaultSpec, vmName: string): void {
    const vm = this.vms.get(vmName)!;
    const rec = vm.current;
    if (!rec) return this.report(f, vmName, cancelEffect(vmName, null, false, null));
    const ok = stopMigration(this.ctx, rec, { kind: 'revert', why: cancelReason(f) });
    this.report(f, vmName, cancelEffect(vmName, { to: rec.spec.to, from: rec.from }, ok, ok ? null : 'in post-copy, which cannot be cancelled'));
  }

  private crash(f: FaultSpec, host: string): void {
    const { net, lan, kernel } = this.ctx;
    if (this.down.has(host)) return this.report(f, host, alreadyDownEffect(host));
    this.down.set(host, `crashed at ${secs(f.atNs)}`);
    net.setUp(host, false);
    lan?.crashHost(host);
    const lost: string[] = [];
    const reverting: string[] = [];
    const detectNs = keepaliveTimeoutNs(this.s);
    for (const vm of this.vms.values()) {
      if (vm.lost) continue;
      const rec = vm.current;
      if (rec && rec.from === host) {
        stopMigration(this.ctx, rec, { kind: 'lost', why: sourceCrashReason(host, f.atNs, rec.resumeNs !== null) });
        lost.push(vm.spec.name);
      } else if (rec && rec.spec.to === host) {
        if (rec.resumeNs !== null) {
          stopMigration(this.ctx, rec, { kind: 'lost', why: destinationCrashReason(host, f.atNs) });
          lost.push(vm.spec.name);
        } else {
          // the source hears nothing more from the destination; libvirt's keepalive gives up on it
          kernel.schedule(detectNs, () => {
            stopMigration(this.ctx, rec, { kind: 'revert', why: crashDetectReason(host, f.atNs, detectNs) });
          });
          reverting.push(vm.spec.name);
        }
      } else if (!rec && vm.host === host) {
        vm.lost = true;
        lan?.lost(vm.spec.name);
        lost.push(vm.spec.name);
      }
    }
    this.report(f, host, crashEffect(host, detectNs, reverting, lost), lost);
  }
}
