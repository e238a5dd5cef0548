// The testbed's fault injector: the scenario's `faults:` done for real at their run-clock
// times — a cancel (the source agent told to abort), a host crash (its container frozen and
// cut off, the keepalive timeout acted on), link faults (ip link, tc netem), a DHCP outage,
// a switch restart, a spoofed associate — each reported with `scheduled: true` as the sim's
// FaultInjector does. Semantics: docs/faults.md; the words: model/result/fault-words.ts.

import type { FaultSpec } from '../model/scenario/types.js';
import { effectiveSwitch } from '../model/scenario/addressing.js';
import { alreadyDownEffect, cancelEffect, cancelReason, crashDetectReason, crashEffect, destinationCrashReason, dhcpDownEffect, secs, sourceCrashReason, switchRestartEffect, spoofEffect, linkDegradeEffect, linkDownEffect } from '../model/result/fault-words.js';
import { keepaliveTimeoutNs } from '../model/scenario/faults.js';
import { addLoss, cutEgress, cutIngress, lossDrops, removeLoss, restoreEgress, setLink, shape, unshape } from './net-faults.js';
import { SETUP_TIMEOUT_MS, type RunContext } from './run-context.js';
import { currentMigration, requestAbort, timerAt } from './run-migration.js';
import { HOST_UPLINK, portJointName, portLinkName } from './topo.js';

/** A host container's interface on the management network: its migration NIC (the page stream's TCP). */
export const MIGRATION_IF = 'eth0';

export class FaultInjector {
  private readonly timers: (() => void)[] = [];
  private readonly inflight = new Set<Promise<void>>();
  /** what puts a fault's effect back at the end of its `for` (or at the run's end, if sooner) */
  private readonly undo = new Map<number, { cancel: () => void; fn: () => Promise<void> }>();

  constructor(private readonly r: RunContext) {}

  /** Arms every fault at its time (call at time 0, before the migrations are scheduled). */
  start(): void {
    for (const f of this.r.s.faults) {
      const due = this.r.originNs + BigInt(Math.round(f.atNs));
      this.timers.push(timerAt(due, () => this.run(f)));
    }
  }

  /** Stops arming; waits (bounded) for injections under way, and for what they put back. */
  async stop(): Promise<void> {
    for (const cancel of this.timers) cancel();
    // the run ends before a fault's `for` did: its effect is put back now
    for (const [id, u] of this.undo) {
      u.cancel();
      this.undo.delete(id);
      this.track(u.fn());
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((res) => (timer = setTimeout(res, 15_000)))]);
    clearTimeout(timer);
  }

  /** Something to wait for before the run ends (a link to restore …), tracked like an injection. */
  track(p: Promise<void>): void {
    const q = p.catch((e: unknown) => {
      this.r.faultFailures.push(String(e instanceof Error ? e.message : e));
    });
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private run(f: FaultSpec): void {
    if (this.r.aborted) return;
    const atNs = process.hrtime.bigint();
    this.track(
      this.inject(f, atNs).catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        this.report(f, atNs, null, `not injected: ${msg}`);
        throw new Error(`faults[${f.index}] (${f.kind}) at ${Number(atNs - this.r.originNs) / 1e9} s could not be injected: ${msg}`);
      }),
    );
  }

  /** The fault's entry in the result: at the instant it was injected (run clock). */
  report(f: FaultSpec, atNs: bigint, target: string | null, effect: string, lost: string[] = []): void {
    const atMs = Math.round(Number(atNs - this.r.originNs) / 1e3) / 1e3;
    this.r.scheduledFaults.push({ atMs, kind: f.kind, target, scheduled: true, effect, lost });
    this.r.emit('fault-injected', { index: f.index, fault: f.kind, target, effect, lost });
  }

  /** `fn` at `atNs + forNs`: the end of the fault's `for` (at the run's end, if sooner, unless `onlyInTime`). */
  private later(f: FaultSpec, atNs: bigint, forNs: number, fn: () => Promise<void>, onlyInTime = false): void {
    const cancel = timerAt(atNs + BigInt(Math.round(forNs)), () => {
      this.undo.delete(f.index);
      this.track(fn().then(() => this.r.emit('fault-ended', { index: f.index, fault: f.kind })));
    });
    this.undo.set(f.index, { cancel, fn: onlyInTime ? () => Promise.resolve() : fn });
  }

  /**
   * The switch process stops abruptly (SIGKILL: every table, association and pending
   * leasequery is gone with it), after its counters are read with a `stats` request; `downFor`
   * later a new one starts on the same ports and, once ready, sends its startup queries at once
   * (`querier-start` with an origin one interval back: EdgeSwitch.start(now)).
   */
  private async restartSwitch(f: FaultSpec & { kind: 'switch-restart' }, atNs: bigint): Promise<void> {
    const r = this.r;
    const old = [...r.procs].reverse().find((p) => p.node.role === 'switch' && p.running);
    if (!old || r.isDead('switch')) return this.report(f, atNs, 'switch', 'no effect: the switch process is not running');
    const mark = r.follower!.mark();
    await r.control('switch', 'stats', {});
    const stats = await r.expect('switch', (e) => e.kind === 'switch-stats', 2000, "the switch's counters before its restart", mark).catch(() => null);
    r.watch.intendEnd(old);
    let back!: () => void;
    r.switchBack = new Promise<void>((res) => (back = res));
    await old.signal('SIGKILL');
    await old.exited;
    r.emit('switch-killed', { stats: stats?.data ?? null });
    const persistent = r.s.switch?.bindingDatabase === 'persistent';
    this.report(f, atNs, 'switch', switchRestartEffect(f.downForNs, persistent));
    this.later(f, atNs, f.downForNs, async () => {
      try {
        const from = r.follower!.mark();
        await r.start('switch', null, 'switch', r.switchCommand!);
        await r.expect('switch', (e) => e.kind === 'switch-ready', SETUP_TIMEOUT_MS, 'the restarted switch ready', from);
        const interval = BigInt(Math.round(effectiveSwitch(r.s).igmpQueryIntervalNs));
        await r.control('switch', 'querier-start', { originNs: String(process.hrtime.bigint() - interval) });
        r.emit('switch-restarted', {});
      } finally {
        r.switchBack = null;
        back();
      }
    }, true);
  }

  private async hostPid(host: string): Promise<number> {
    return this.r.net.node('host', host).pid();
  }

  /**
   * A host stops for good, as a crashed server does: no RST, no FIN, nothing. Its links are
   * cut first (nothing leaves its migration NIC or uplink, nothing reaches it: the switch's
   * side of its link drops what goes to it, and the link stays up, as a hung server's NIC
   * does), then its container is frozen. Its peers learn of it only as libvirt's do: the
   * orchestrator, in the source's libvirt's place, gives a migration to it up when the
   * keepalive would (interval × (count + 1) after the crash). docs/faults.md.
   */
  private async crash(f: FaultSpec & { kind: 'host-crash' }, host: string, atNs: bigint): Promise<void> {
    const r = this.r;
    if (r.crashed.has(host)) return this.report(f, atNs, host, alreadyDownEffect(host));
    r.crashed.set(host, `crashed at ${secs(f.atNs)}`);
    const node = r.net.node('host', host);
    const pid = await node.pid();
    const swPid = await r.net.node('switch').pid();
    await cutEgress(pid, MIGRATION_IF);
    await cutIngress(pid, MIGRATION_IF);
    await cutEgress(pid, HOST_UPLINK);
    await cutEgress(swPid, portLinkName(host));
    await node.freeze();
    r.emit('host-crashed', { host });
    const detectNs = keepaliveTimeoutNs(r.s);
    const lost: string[] = [];
    const reverting: string[] = [];
    for (const vm of r.s.vms) {
      if (r.lostVms.has(vm.name)) continue;
      const m = currentMigration(r, vm.name);
      if (m && m.from === host) {
        m.markLost(sourceCrashReason(host, f.atNs), atNs);
        lost.push(vm.name);
      } else if (m && m.spec.to === host && m.resumed) {
        m.markLost(destinationCrashReason(host, f.atNs), atNs);
        lost.push(vm.name);
      } else if (m && m.spec.to === host) {
        // the source hears nothing more from the destination; libvirt's keepalive gives up on it
        const reason = crashDetectReason(host, f.atNs, detectNs);
        this.timers.push(timerAt(atNs + BigInt(Math.round(detectNs)), () => {
          this.track(requestAbort(r, m, reason).then(() => undefined));
        }));
        reverting.push(vm.name);
      } else if (!m && r.hostOf(vm.name) === host) {
        lost.push(vm.name);
      }
    }
    for (const vm of lost) {
      r.lostVms.set(vm, `${host} crashed at ${secs(f.atNs)} with it`);
      // its network identity falls silent with the host
      await r.net.node('vm', vm).freeze().catch((e: unknown) => r.log(`freezing lost ${vm}: ${String(e)}`));
    }
    r.crashes.push({ host, atNs, lost: [...lost] });
    this.report(f, atNs, host, crashEffect(host, detectNs, reverting, lost), lost);
  }

  private async inject(f: FaultSpec, atNs: bigint): Promise<void> {
    switch (f.kind) {
      case 'cancel': {
        const m = currentMigration(this.r, f.vm);
        if (!m) return this.report(f, atNs, f.vm, cancelEffect(f.vm, null, false, null));
        const a = await requestAbort(this.r, m, cancelReason(f));
        return this.report(f, atNs, f.vm, cancelEffect(f.vm, { to: m.spec.to, from: m.from }, a.accepted, a.why));
      }
      case 'host-crash':
        return this.crash(f, f.host, atNs);
      case 'switch-restart':
        return this.restartSwitch(f, atNs);
      case 'spoofed-associate': {
        // the station on `host` claims the VM's MAC as migrated there, under the given VSI type
        const vm = this.r.s.vms.find((v) => v.name === f.vm)!;
        await this.r.control(`host:${f.host}`, 'vdp', { op: 'assoc', vm: this.r.vmJson(vm), migrated: true, seed: this.r.seed, asType: f.vsiType });
        return this.report(f, atNs, f.host, spoofEffect(f.host, f.vm, f.vsiType));
      }
      case 'dhcp-down': {
        // the dhcp port's link in the switch container carries nothing either way: dhcpd hears
        // nothing and answers nothing (requests sent meanwhile are lost, not answered late)
        const pid = await this.r.net.node('switch').pid();
        const devs = [portLinkName('dhcp'), portJointName('dhcp')];
        for (const d of devs) await cutEgress(pid, d);
        this.later(f, atNs, f.forNs, async () => {
          for (const d of devs) await restoreEgress(pid, d);
        });
        return this.report(f, atNs, 'dhcp', dhcpDownEffect(f.forNs));
      }
      case 'link-down': {
        if (this.r.crashed.has(f.host)) return this.report(f, atNs, f.host, alreadyDownEffect(f.host));
        const pid = await this.hostPid(f.host);
        await setLink(pid, MIGRATION_IF, false);
        this.later(f, atNs, f.forNs, () => (this.r.crashed.has(f.host) ? Promise.resolve() : setLink(pid, MIGRATION_IF, true)));
        return this.report(f, atNs, f.host, linkDownEffect(f.host, f.forNs));
      }
      case 'link-degrade': {
        const pid = await this.hostPid(f.host);
        // never above the link's own rate
        const bps = f.bandwidthBps === null ? null : Math.min(f.bandwidthBps, this.r.s.network.migrationLink.bandwidthBps);
        if (bps !== null) await shape(pid, MIGRATION_IF, bps);
        // loss both ways: what arrives here, and what arrives from here at every other host
        const peers: { pid: number; match: string[] }[] = [];
        if (f.loss > 0) {
          peers.push({ pid, match: ['-i', MIGRATION_IF] });
          const ip = this.r.mgmt.get(f.host);
          for (const h of this.r.s.hosts) {
            if (h.name === f.host || !ip) continue;
            peers.push({ pid: await this.hostPid(h.name), match: ['-s', ip] });
          }
          for (const p of peers) await addLoss(p.pid, p.match, f.loss);
        }
        this.later(f, atNs, f.forNs, async () => {
          if (bps !== null) await unshape(pid, MIGRATION_IF);
          let dropped = 0;
          for (const p of peers) dropped += await lossDrops(p.pid);
          if (peers.length > 0) this.r.emit('loss-dropped', { index: f.index, host: f.host, packets: dropped });
          for (const p of peers) await removeLoss(p.pid, p.match, f.loss);
        });
        return this.report(f, atNs, f.host, linkDegradeEffect(f.host, f.bandwidthBps, f.loss, f.forNs));
      }
      default: {
        const never: never = f;
        throw new Error(`the testbed does not inject ${(never as FaultSpec).kind} faults`);
      }
    }
  }
}
