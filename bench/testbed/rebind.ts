// Leasequery rebind latency (dhcpRebindMs) over many migrations of a small guest on the
// real ISC dhcpd: p50, p99, max and the moves never rebound.

import { writeFileSync } from 'node:fs';
import type { RunResult } from '../../model/result/format.js';
import { loadScenario } from '../../model/scenario/load.js';
import { runTestbed } from '../../testbed/engine.js';
import { TestbedNetwork } from '../../testbed/network.js';
import { type Row } from '../report.js';
import { fmt, log, median, percentile, quick, removeOwnTopology } from './kit.js';

export async function rebind(): Promise<Row[]> {
  let s = loadScenario('bench/testbed/rebind-200.yaml');
  if (quick) {
    const ms = s.migrations.slice(0, 20);
    s = { ...s, migrations: ms, durationNs: ms.at(-1)!.atNs + 5e9 };
  }
  const net = new TestbedNetwork({ log });
  let r: RunResult;
  try {
    log(`rebind: ${s.migrations.length} migrations, ${(s.durationNs ?? 0) / 1e9} s`);
    r = await runTestbed(s, { log, eventsFile: '/tmp/migsim-bench-testbed-rebind.events.ndjson' });
  } finally {
    await removeOwnTopology(net, s);
  }
  writeFileSync('/tmp/migsim-bench-testbed-rebind.json', JSON.stringify(r, null, 1));
  const ms = r.migrations;
  const completed = ms.filter((m) => m.outcome === 'completed').length;
  const values = ms.map((m) => m.dhcpRebindMs);
  const got = values.filter((v): v is number => v !== null);
  const nulls = values.length - got.length;
  const zeros = got.filter((v) => v === 0).length;
  // from the switch's log: the move (switchover) → the binding on the destination port, and
  // the leasequery's round trip, each within the move's window (up to the next move's start)
  const ev = r.network?.events ?? [];
  const mac = s.vms[0]!.mac;
  const moveToBound: number[] = [];
  const rtt: number[] = [];
  ms.forEach((m, i) => {
    if (m.switchoverMs === null) return;
    const until = s.migrations[i + 1]?.atNs !== undefined ? s.migrations[i + 1]!.atNs / 1e6 : r.durationMs;
    const win = ev.filter((e) => e.t >= m.switchoverMs! && e.t < Math.max(until, m.endMs ?? 0) && e.mac === mac);
    const bound = win.find((e) => e.kind === 'binding-moved' && e.to === m.to);
    if (bound) moveToBound.push(bound.t - m.switchoverMs);
    const sent = win.find((e) => e.kind === 'leasequery-sent');
    const reply = sent && win.find((e) => e.kind === 'leasequery-reply' && e.t >= sent.t);
    if (sent && reply) rtt.push(reply.t - sent.t);
  });
  const lag = ms.map((m, i) => m.startMs - s.migrations[i]!.atNs / 1e6);
  const totals = ms.map((m) => m.totalTimeMs).filter((x): x is number => x !== null);
  const downtimes = ms.map((m) => m.downtimeMs).filter((x): x is number => x !== null);
  return [
    {
      name: `Leasequery rebind (vdp extended, dhcpRebind leasequery): dhcpRebindMs over ${ms.length} migrations of a 16 MiB guest, 1 Gbit/s, every 600 ms`,
      measured: got.length > 0 ? `p50 ${fmt(percentile(got, 0.5))} ms, p99 ${fmt(percentile(got, 0.99))} ms, max ${fmt(Math.max(...got))} ms` : 'no value',
      target: 'none (tracked); every move rebound',
      ok: nulls === 0 && completed === ms.length,
      detail: `${nulls} null (never rebound in its window), ${zeros} of ${got.length} bound before the guest resumed (0); ${completed}/${ms.length} completed; ` +
        `switchover → binding moved p50 ${fmt(median(moveToBound))} ms, p99 ${fmt(percentile(moveToBound, 0.99))} ms (${moveToBound.length} seen); ` +
        `leasequery round trip p50 ${fmt(median(rtt))} ms, p99 ${fmt(percentile(rtt, 0.99))} ms; ` +
        `downtime p50 ${fmt(median(downtimes), 1)} ms, p99 ${fmt(percentile(downtimes, 0.99), 1)} ms; migration total p50 ${fmt(median(totals), 0)} ms, max ${fmt(Math.max(...totals), 0)} ms; ` +
        `start behind schedule by up to ${fmt(Math.max(...lag), 0)} ms`,
    },
  ];
}

// ---- the run ------------------------------------------------------------------------------

