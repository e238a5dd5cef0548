// One migration of a testbed run, in libvirt's order: the destination pre-associates and
// holds the VM, the source migrates, at the switchover the VM's container is frozen and its
// vNIC moved, the destination released, the VM thawed when it resumes there. The sequence:
// docs/testbed-wiring.md "A migration on the testbed".

import type { MigrationResult } from '../model/result/format.js';
import { migrateMessage, MIGRATION_PORT } from './commands.js';
import type { MigrationState, RunContext } from './run-context.js';

/** One migration, the choreography in docs/testbed-wiring.md. Never throws: the outcome says it. */
export async function migrate(r: RunContext, m: MigrationState): Promise<void> {
  const s = r.s;
  const { spec } = m;
  const vm = s.vms.find((v) => v.name === spec.vm)!;
  const f = r.follower!;
  const src = `host:${spec.from}`;
  const dst = `host:${spec.to}`;
  const vmNode = r.net.node('vm', spec.vm);
  let frozen = false;
  let moved = false;
  r.emit('migration-start', { vm: spec.vm, from: spec.from, to: spec.to, index: spec.index });
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
    const isResult = (e: { source: string; kind: string; data: Record<string, unknown> }) => e.source === src && e.kind === 'migration-result' && e.data.vm === spec.vm;
    // a source agent that dies reports nothing: its death ends the wait (the VM's RAM went with it)
    const result = Promise.race([
      f.waitFor(isResult, 3_600_000, `${spec.vm}'s migration result`, from),
      r.died(`agent:${spec.from}`).then((d): never => {
        throw new Error(`the source host agent ${spec.from} died (exit ${d.code}) before it reported the migration`);
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
      await r.control(dst, 'release', { vm: spec.vm });
      const resumed = await Promise.race([
        f.waitFor((e) => e.source === dst && e.kind === 'incoming-resumed' && e.data.vm === spec.vm, 600_000, `${spec.vm} resumed on ${spec.to}`, from),
        result,
      ]);
      if (resumed.kind === 'incoming-resumed') {
        // the guest's vCPUs run on the destination: its network identity goes on too
        await vmNode.thaw();
        frozen = false;
        r.emit('vm-thawed', { vm: spec.vm, host: spec.to });
        if (vm.announceOnResume !== 'none') await r.guests.get(spec.vm)?.signal('SIGUSR2');
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
      await r.vdp(spec.to, 'deassoc', spec.vm, false, false);
    }
  } catch (e) {
    const error = `orchestrator: ${e instanceof Error ? e.message : String(e)}`;
    // the agent's result stands (what failed came after it: putting the vNIC back …); the error is said
    if (m.result === null || !('outcome' in m.result)) m.result = { error };
    r.log(`${spec.vm} ${spec.from}→${spec.to}: ${error}`);
  } finally {
    if (frozen) await vmNode.thaw().catch(() => undefined);
    r.emit('migration-settled', { vm: spec.vm, index: spec.index });
  }
  // the VM's next destination (if not where it runs now) prepares while it waits its turn
  const chain = r.vmMigrations(spec.vm);
  const next = chain[chain.indexOf(m) + 1];
  if (r.aborted) return;
  const at = m.result !== null && 'outcome' in m.result && m.result.outcome === 'completed' ? spec.to : spec.from;
  if (next && next.spec.to !== at) await r.reserve(next, false).catch((e: unknown) => r.log(`reserving for ${spec.vm}'s next move: ${String(e)}`));
}
