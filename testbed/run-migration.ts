// One migration of a testbed run, in libvirt's order: the destination pre-associates and
// holds the VM, the source migrates, at the switchover the VM's container is frozen and its
// vNIC moved, the destination released, the VM thawed when it resumes there. A migration can
// be aborted from outside (a cancel, its timeout, a crashed destination: requestAbort) until
// the destination runs the VM, and is lost with a crashed source. The sequence:
// docs/testbed-wiring.md "A migration on the testbed"; the faults: docs/faults.md.

import { failedMigration, type MigrationResult } from '../model/result/format.js';
import { migrateMessage, MIGRATION_PORT } from './commands.js';
import { timeoutReason } from '../model/result/fault-words.js';
import type { MigrationState, RunContext } from './run-context.js';

/** What an abort did: accepted (the migration reverts), or why not. */
export interface AbortAnswer {
  accepted: boolean;
  why: string | null;
}

/** Calls `fn` at CLOCK_MONOTONIC `dueNs`, never before (a timer may fire a fraction of a ms early); returns a canceller. */
export function timerAt(dueNs: bigint, fn: () => void): () => void {
  let t: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = Number(dueNs - process.hrtime.bigint()) / 1e6;
    if (left > 0) t = setTimeout(arm, Math.ceil(left));
    else fn();
  };
  arm();
  return () => clearTimeout(t);
}

/** The VM's migration under way (preparing or migrating), if any. */
export function currentMigration(r: RunContext, vm: string): MigrationState | null {
  return r.migrations.find((m) => m.spec.vm === vm && (m.phase === 'preparing' || m.phase === 'migrating')) ?? null;
}

/**
 * Asks the source to give `m` up (libvirt's domjobabort). Before its `migrate` is sent the
 * abort is kept and sent right after it. The source refuses once the destination runs the VM.
 */
export async function requestAbort(r: RunContext, m: MigrationState, reason: string): Promise<AbortAnswer> {
  if (m.phase === 'waiting' || m.phase === 'settled') return { accepted: false, why: 'it was not migrating' };
  if (m.abortReason !== null) return { accepted: true, why: null };
  m.abortReason = reason;
  if (m.phase === 'preparing') return { accepted: true, why: null };
  return sendAbort(r, m, reason);
}

async function sendAbort(r: RunContext, m: MigrationState, reason: string): Promise<AbortAnswer> {
  const src = `host:${m.from}`;
  const from = r.follower!.mark();
  await r.control(src, 'abort', { vm: m.spec.vm, reason });
  const e = await r.expect(src, (e) => e.kind === 'migration-abort' && e.data.vm === m.spec.vm, 5000, `${m.from}'s answer to the abort of ${m.spec.vm}'s migration`, from);
  return { accepted: e.data.accepted === true, why: typeof e.data.why === 'string' ? e.data.why : null };
}

/** Why this migration cannot start, or null. */
function notStartable(r: RunContext, m: MigrationState): string | null {
  const { spec } = m;
  const srcDown = r.crashed.get(m.from);
  if (srcDown && !r.lostVms.has(spec.vm)) return `${m.from} is down (${srcDown})`;
  const lost = r.lostVms.get(spec.vm);
  if (lost) return `${spec.vm} was lost before this migration should start (${lost})`;
  if (m.from === spec.to) return `${spec.vm} is already on ${spec.to} (an earlier migration did not complete)`;
  const down = r.crashed.get(spec.to);
  if (down) return `${spec.to} is down (${down}): the destination cannot be reached`;
  return null;
}

/** One migration, the choreography in docs/testbed-wiring.md. Never throws: the outcome says it. */
export async function migrate(r: RunContext, m: MigrationState): Promise<void> {
  const s = r.s;
  // the source is where the VM is now (the scenario's `from` assumes every earlier move completed)
  m.from = r.hostOf(m.spec.vm);
  const spec = { ...m.spec, from: m.from };
  const vm = s.vms.find((v) => v.name === spec.vm)!;
  const f = r.follower!;
  const src = `host:${spec.from}`;
  const dst = `host:${spec.to}`;
  const vmNode = r.net.node('vm', spec.vm);
  const startNs = process.hrtime.bigint();
  let frozen = false;
  let moved = false;
  let cancelTimer = (): void => undefined;
  r.emit('migration-start', { vm: spec.vm, from: spec.from, to: spec.to, index: spec.index });
  const refused = notStartable(r, m);
  if (refused !== null) {
    m.result = failedMigration(spec.vm, spec.from, spec.to, spec.mode, refused, Number(startNs - r.originNs) / 1e6);
    m.phase = 'settled';
    r.emit('migration-settled', { vm: spec.vm, index: spec.index });
    return;
  }
  m.phase = 'preparing';
  // the migration's own timeout, from its start: aborted unless the destination runs the VM by then
  if (spec.timeoutNs !== null) {
    cancelTimer = timerAt(startNs + BigInt(Math.round(spec.timeoutNs)), () => {
      void requestAbort(r, m, timeoutReason(spec)).catch((e: unknown) => r.log(`aborting ${spec.vm}'s migration at its timeout: ${String(e)}`));
    });
  }
  try {
    for (const h of [spec.from, spec.to]) {
      const dead = r.watch.deaths.find((d) => d.component === `agent:${h}`);
      if (dead) throw new Error(`not started: the host agent of ${h} died${dead.container ? ` with its container ${dead.container}` : ''} before it`);
    }
    await r.vdp(spec.to, 'preassoc', r.vmJson(vm), false);
    // the destination resumes the VM only once released, and associates it (M-bit with
    // hints) at that instant; the source de-associates (S-bit) when it hears of the resume
    await r.control(dst, 'hold', { vm: spec.vm, timeoutMs: 3_600_000, associate: { migrated: true } });
    const from = f.mark();
    await r.control(src, 'migrate', { ...migrateMessage(s, spec, `${r.mgmt.get(spec.to)}:${MIGRATION_PORT}`, r.originNs), deassocOnResume: true });
    m.phase = 'migrating';
    // an abort asked for while it was being prepared goes now
    if (m.abortReason !== null) void sendAbort(r, m, m.abortReason).catch((e: unknown) => r.log(`aborting ${spec.vm}'s migration: ${String(e)}`));
    const isResult = (e: { source: string; kind: string; data: Record<string, unknown> }) => e.source === src && e.kind === 'migration-result' && e.data.vm === spec.vm;
    // a source agent that dies reports nothing: its death ends the wait (the VM's RAM went
    // with it); so does a crash of its host (scheduled: frozen, it reports nothing either)
    const result = Promise.race([
      f.waitFor(isResult, 3_600_000, `${spec.vm}'s migration result`, from),
      r.died(`agent:${spec.from}`).then((d): never => {
        throw new Error(`the source host agent ${spec.from} died (exit ${d.code}) before it reported the migration`);
      }),
      m.onLost.then((): never => {
        throw new Lost(m.lost!.reason);
      }),
    ]);
    result.catch(() => undefined);

    // the switchover: freeze the guest's network identity, move its vNIC, let it resume there
    const sw = await Promise.race([
      f.waitFor((e) => e.source === src && e.kind === 'switchover' && e.data.vm === spec.vm, 3_600_000, `${spec.vm}'s switchover`, from),
      result,
    ]);
    if (sw.kind === 'switchover') {
      await vmNode.freeze();
      frozen = true;
      r.emit('vm-frozen', { vm: spec.vm });
      await r.net.moveVnic(spec.vm, spec.to);
      moved = true;
      r.emit('vnic-moved', { vm: spec.vm, from: spec.from, to: spec.to });
      // a migration being aborted is not let go on at the destination
      if (m.abortReason === null && !r.crashed.has(spec.to)) {
        await r.control(dst, 'release', { vm: spec.vm });
        const resumed = await Promise.race([
          f.waitFor((e) => e.source === dst && e.kind === 'incoming-resumed' && e.data.vm === spec.vm, 600_000, `${spec.vm} resumed on ${spec.to}`, from),
          result,
        ]);
        if (resumed.kind === 'incoming-resumed') {
          m.resumed = true;
          // the guest's vCPUs run on the destination: its network identity goes on too
          await vmNode.thaw();
          frozen = false;
          r.emit('vm-thawed', { vm: spec.vm, host: spec.to });
          if (vm.announceOnResume !== 'none') await r.guests.get(spec.vm)?.signal('SIGUSR2');
        }
      }
    }
    const res = await result;
    const mr = res.data.result as MigrationResult;
    m.result = mr;
    if (mr.outcome === 'completed') {
      // the destination runs the VM only after its verdict: a next move must wait for that
      await Promise.race([
        f.waitFor((e) => e.source === dst && e.kind === 'vm-arrived' && e.data.vm === spec.vm, 60_000, `${spec.vm} running on ${spec.to}`, from),
        r.died(`agent:${spec.to}`),
      ]);
    }
    if (mr.outcome !== 'completed' && moved && !r.aborted) {
      // the VM goes on at the source: its vNIC comes back, the destination drops its reservation
      await r.net.moveVnic(spec.vm, spec.from);
      moved = false;
      if (!r.crashed.has(spec.to)) await r.vdp(spec.to, 'deassoc', spec.vm, false, false);
    }
  } catch (e) {
    if (e instanceof Lost) {
      // the VM ran on the crashed source: gone with it, at the crash
      const lost = m.lost!;
      const atMs = Number(lost.atNs - r.originNs) / 1e6;
      const fm = failedMigration(spec.vm, spec.from, spec.to, spec.mode, lost.reason, Number(startNs - r.originNs) / 1e6);
      // numbers the format keeps as numbers: their 0 is not a measurement (the source reported nothing)
      const unmeasured = { ...fm.unmeasured, memoryVerified: lost.reason, pagesSent: lost.reason, bytesSent: lost.reason, rounds: lost.reason };
      m.result = { ...fm, vmLost: true, gaveUpMs: atMs, unmeasured };
      frozen = false; // its network identity stays frozen: the VM is gone
    } else {
      const error = `orchestrator: ${e instanceof Error ? e.message : String(e)}`;
      // the agent's result stands (what failed came after it: putting the vNIC back …); the error is said
      if (m.result === null || !('outcome' in m.result)) m.result = { error };
      r.log(`${spec.vm} ${spec.from}→${spec.to}: ${error}`);
    }
  } finally {
    cancelTimer();
    m.phase = 'settled';
    if (frozen) await vmNode.thaw().catch(() => undefined);
    r.emit('migration-settled', { vm: spec.vm, index: spec.index });
  }
  // the VM's next destination (if not where it runs now) prepares while it waits its turn
  const chain = r.vmMigrations(spec.vm);
  const next = chain[chain.indexOf(m) + 1];
  if (r.aborted || m.lost) return;
  const at = m.result !== null && 'outcome' in m.result && m.result.outcome === 'completed' ? spec.to : spec.from;
  if (next && next.spec.to !== at && !r.crashed.has(next.spec.to)) await r.reserve(next, false).catch((e: unknown) => r.log(`reserving for ${spec.vm}'s next move: ${String(e)}`));
}

/** The wait for a result ended by a crash of the source host. */
class Lost extends Error {}
