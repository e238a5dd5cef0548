// The host agent's migrations out of this host while they run: each started from its
// `migrate` message, its abort handle (the `abort` message: a cancel or a timeout), and its
// `migration-result` event when it ends. docs/control-protocol.md "To a host agent".

import { failedMigration } from '../../model/result/format.js';
import type { MigrateMsg } from '../control/messages.js';
import type { HostAgent, MigrationParams } from './agent.js';
import { MigrationCancel } from './migration-cancel.js';
import { type SenderResult, toMigrationResult } from './migration-result.js';

type Emit = (kind: string, data: Record<string, unknown>) => void;

export class OutgoingMigrations {
  private readonly running = new Set<Promise<void>>();
  private readonly cancels = new Map<string, MigrationCancel>();

  constructor(
    private readonly agent: HostAgent,
    private readonly host: string,
    private readonly emit: Emit,
    /** told when a VM's migration out of here has ended, whatever the outcome */
    private readonly ended: (vm: string) => void,
  ) {}

  get size(): number {
    return this.running.size;
  }

  start(m: MigrateMsg): void {
    const originNs = m.originNs === undefined ? 0 : Number(m.originNs);
    const to = m.destHost ?? m.dest;
    const startNs = Number(process.hrtime.bigint());
    const p = m.params;
    const failed = (mode: 'precopy' | 'stopcopy' | 'postcopy', why: string): void =>
      this.emit('migration-result', { vm: m.vm, from: this.host, to, result: failedMigration(m.vm, this.host, to, mode, why, (startNs - originNs) / 1e6), ns: null });
    if (p.mode === 'postcopy') return failed('postcopy', 'postcopy is not run by the testbed host agent (precopy and stopcopy are)');
    const cancel = new MigrationCancel();
    this.cancels.set(m.vm, cancel);
    const params: MigrationParams = {
      cancel,
      mode: p.mode, downtimeLimitNs: p.downtimeLimitNs, maxRounds: p.maxRounds, bandwidthBps: p.bandwidthBps,
      linkBandwidthBps: p.linkBandwidthBps, deviceStateBytes: p.deviceStateBytes, autoConverge: p.autoConverge,
      throttleInitialPct: p.throttleInitialPct, throttleIncrementPct: p.throttleIncrementPct,
      ...(p.replyTimeoutMs !== undefined ? { replyTimeoutMs: p.replyTimeoutMs } : {}),
    };
    const run = (async () => {
      let r: SenderResult;
      try {
        r = await this.agent.migrateVm(m.vm, m.dest, params);
      } catch (e) {
        return failed(p.mode, (e as Error).message);
      }
      this.emit('migration-result', {
        vm: m.vm, from: this.host, to, result: toMigrationResult(r, { from: this.host, to, originNs }),
        ns: { startNs: r.startNs, switchoverNs: r.switchoverNs, resumeNs: r.resumeNs, resumeAckNs: r.resumeAckNs, endNs: r.endNs },
        streamBytes: r.streamBytes, mismatches: r.mismatches, firstMismatch: r.firstMismatch,
      });
    })();
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.cancels.get(m.vm) === cancel) this.cancels.delete(m.vm);
      this.ended(m.vm);
    });
  }

  /** The `abort` message: accepted while the destination does not run the VM yet; a `migration-abort` event says which. */
  abort(vm: string, reason: string): void {
    const c = this.cancels.get(vm);
    // accepted: the migration reverts (its migration-result follows); refused: nothing to abort
    const accepted = c ? c.abort(reason) : false;
    this.emit('migration-abort', { vm, accepted, reason, why: accepted ? null : c ? 'the destination already runs the VM' : 'no migration of it is running here' });
  }

  /** Wait (bounded by the caller) for every migration under way to end. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.running]);
  }
}
