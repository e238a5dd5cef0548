// A testbed run from its time 0 to its end: the querier, guests and traffic started, each
// assistance request passed to its guest, the probe told each VM's leased address, and every
// migration started at its time (one VM's in order). The sequence: docs/testbed-wiring.md
// "A run, step by step".

import { sleep } from '../hosts/runtime/process-kit.js';
import { vmCommand, LOGS, msourceCommand, probeCommand } from './commands.js';
import { readContainerFile, writeContainerFile } from './container-process.js';
import { parseLog } from './result.js';
import { inRunOrder, type RunContext } from './run-context.js';
import { migrate } from './run-migration.js';
import { FaultInjector } from './run-faults.js';

/** Time 0: guests and traffic start; migrations at their times; returns the end (CLOCK_MONOTONIC ns). */
export async function runTimeline(r: RunContext): Promise<bigint> {
  const s = r.s;
  r.originNs = process.hrtime.bigint();
  r.emit('origin', {});
  // the switch's general queries keep the sim's phase: the first at time 0 + the interval
  await r.control('switch', 'querier-start', { originNs: String(r.originNs) });
  r.watch.phase = 'running';
  for (const vm of s.vms) r.guests.set(vm.name, await r.start('vm', vm.name, `guest ${vm.name}`, vmCommand(s, vm)));
  if (s.probe) {
    await writeContainerFile(r.net.node('probe'), LOGS.probeTargets, '');
    await r.start('probe', null, 'probe', probeCommand(s));
  }
  for (let i = 0; i < s.multicastSources.length; i++) await r.start('msource', String(i), `msource ${i}`, msourceCommand(s, i));

  // assistance requests → the guest renews (SIGUSR1 to its agent, which passes it to udhcpc)
  const offAssist = r.follower!.onEvent((e) => {
    if (e.kind !== 'assist' || !e.source.startsWith('host:') || typeof e.data.vm !== 'string') return;
    const g = r.guests.get(e.data.vm);
    if (!g) return;
    void g.signal('SIGUSR1').then(
      () => r.emit('assist-signalled', { vm: e.data.vm }),
      (err: unknown) => r.emit('assist-failed', { vm: e.data.vm, error: String(err) }),
    );
  });
  // leases → the probe's targets
  let watching = true;
  const leaseWatch = (async () => {
    while (watching) {
      await refreshLeases(r).catch((e: unknown) => r.log(`reading leases: ${String(e)}`));
      await sleep(200);
    }
  })();

  // the scenario's faults at their times (armed first: a fault and a start at one instant, the fault first)
  const faults = new FaultInjector(r);
  faults.start();

  // migrations: each at its time, one VM's in order
  const chains = new Map<string, Promise<void>>();
  const started = [...r.migrations].sort(inRunOrder).map((m) => {
    const prev = chains.get(m.spec.vm) ?? Promise.resolve();
    const p = prev.then(async () => {
      const due = r.originNs + BigInt(Math.round(m.spec.atNs));
      const wait = Number(due - process.hrtime.bigint()) / 1e6;
      if (wait > 0) await Promise.race([sleep(wait), r.watch.aborted]);
      // a run given up starts nothing more
      if (!r.aborted) await migrate(r, m);
    });
    chains.set(m.spec.vm, p);
    return p;
  });
  const all = Promise.all(started);
  try {
    // a run given up (a signal, the bus lost: run-watch.ts) ends here, now
    if (s.durationNs !== null) {
      const end = r.originNs + BigInt(Math.round(s.durationNs));
      await Promise.race([sleep(Number(end - process.hrtime.bigint()) / 1e6), all.then(() => new Promise<void>(() => undefined)), r.watch.aborted]);
      // migrations still running at the end are reported as they stand when their agents stop
    } else {
      await Promise.race([all, r.watch.aborted]);
      if (!r.aborted) await Promise.race([sleep(1000), r.watch.aborted]); // the last move's traffic settles
    }
    return process.hrtime.bigint();
  } finally {
    watching = false;
    offAssist();
    await leaseWatch;
    await faults.stop();
  }
}

async function refreshLeases(r: RunContext): Promise<void> {
  let changed = false;
  for (const vm of r.s.vms) {
    const text = await readContainerFile(r.net.node('vm', vm.name), LOGS.vm);
    const leased = parseLog(text).lines.filter((l) => l.kind === 'leased' && typeof l.ip === 'string').at(-1);
    if (leased && r.leases.get(vm.name) !== leased.ip) {
      r.leases.set(vm.name, leased.ip as string);
      r.emit('vm-leased', { vm: vm.name, ip: leased.ip });
      changed = true;
    }
  }
  if (changed && r.s.probe) {
    const lines = [...r.leases].map(([n, ip]) => `${n}=${ip}`).join('\n');
    await writeContainerFile(r.net.node('probe'), LOGS.probeTargets, `${lines}\n`);
  }
}
