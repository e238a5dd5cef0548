// Failures the switch's log shows though nobody injected them: a migration whose leasequery
// got no answer. Each becomes an observed fault report (`scheduled: false`) saying what the
// switch did then and what it cost — so a loss is never silent. Both engines call it.

import type { FaultReport, MigrationResult, NetworkResult } from './format.js';

/** One report per migration whose leasequery gave up, in migration order. */
export function unansweredLeasequeries(network: NetworkResult, migrations: MigrationResult[], macOf: (vm: string) => string): FaultReport[] {
  const out: FaultReport[] = [];
  const fallback = network.switch.dhcpRebindFallback === 'assist';
  migrations.forEach((m, i) => {
    if (m.switchoverMs === null || m.outcome !== 'completed') return;
    const mac = macOf(m.vm);
    // the move's window: to this VM's next migration, or the run's end
    const next = migrations.slice(i + 1).find((x) => x.vm === m.vm && x.startMs > m.startMs)?.startMs ?? Infinity;
    const gaveUp = network.events.find((e) => e.kind === 'leasequery-gave-up' && e.mac === mac && e.t >= m.switchoverMs! && e.t < next);
    if (!gaveUp) return;
    const at = `${Math.round(gaveUp.t) / 1000}s`;
    const rebound = m.dhcpRebindMs === null ? `it never moved in the run` : `it moved ${Math.round(m.dhcpRebindMs) / 1000}s after the resume`;
    const drops = m.sourceGuardDrops === null ? '' : `; IP source guard dropped ${m.sourceGuardDrops} of its frames`;
    const effect = fallback
      ? `leasequery for ${m.vm} got no answer (gave up at ${at}); the switch fell back to the assistance request: ${rebound}${drops}`
      : `leasequery for ${m.vm} got no answer (gave up at ${at}) and there is no fallback (switch.dhcpRebindFallback: none): its binding stayed on ${m.from}; ${rebound}${drops}`;
    out.push({ atMs: gaveUp.t, kind: 'leasequery-unanswered', target: m.vm, scheduled: false, effect, lost: [] });
  });
  return out;
}
