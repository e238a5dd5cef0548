// A hand-made run result for the report's tests (timeline.test.ts, run-page.test.ts): vm1
// moved h1 → h2 in two live rounds with the switch's log of an extended-VDP leasequery and IGMP
// query rebind, a keep-alive, another VM's events, and the VM's next move back at 20 s.

import { failedMigration, type MigrationResult, type RunResult } from '../model/result/format.js';

export const MAC = '02:00:00:00:01:01';
export const OTHER = '02:00:00:00:02:02';

export function move(over: Partial<MigrationResult>): MigrationResult {
  return {
    ...failedMigration('vm1', 'h1', 'h2', 'precopy', '', 1000),
    outcome: 'completed', error: null, switchover: 'converged', switchoverMs: 1300, resumeMs: 1310, endMs: 1310, totalTimeMs: 310, downtimeMs: 10,
    rounds: [
      { index: 0, pagesSent: 100, bytesSent: 410_400, durationMs: 200, dirtyPagesAtEnd: 30, startMs: 1000 },
      { index: 1, pagesSent: 30, bytesSent: 123_120, durationMs: 100, dirtyPagesAtEnd: 5, startMs: 1200 },
    ],
    stopCopy: { pagesSent: 5, bytesSent: 20_520, durationMs: 9, startMs: 1300 },
    dhcpRebindMs: 2, igmpRebindMs: 90, sourceGuardDrops: 4, multicastGapMs: 120, multicastLost: 11, serviceInterruptionMs: 20,
    networkTimes: { sourceGuardFirstDropMs: 1311, sourceGuardLastDropMs: 1312, multicastGapStartMs: 1295, serviceInterruptionStartMs: 1302 },
    ...over,
  };
}

export const ev = (t: number, kind: string, f: Record<string, unknown>) => ({ t, kind, ...f });
export const vdp = (t: number, port: string, mode: string, mac: string, bits: { migratedTo?: boolean; migratedFrom?: boolean } = {}) =>
  ev(t, 'vdp-request', { port, mode, vsi: mac, mac, vid: 0, migratedTo: bits.migratedTo ?? false, migratedFrom: bits.migratedFrom ?? false });

export function result(migrations: MigrationResult[], events: ReturnType<typeof ev>[], macs: Record<string, string> | null = { vm1: MAC, vm2: OTHER }): RunResult {
  return {
    version: 1, scenario: 't', description: '', file: 't.yaml', engine: 'sim', fidelity: 'pages', seed: 1, migsim: '0', durationMs: 60_000,
    migrations, expectations: [], faults: [], wallClock: { startedAt: '', elapsedMs: 0 },
    network: {
      switch: { vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query', ipSourceGuard: true, igmpQueryIntervalMs: 60_000, rebindQueryMaxRespMs: 100, bindingDatabase: 'none', dhcpRebindFallback: 'none' },
      counters: {}, events, ...(macs ? { macs } : {}),
    },
  };
}

export const EVENTS = [
  vdp(0, 'h1', 'assoc', MAC), // the VM's creation on h1: not this move's
  vdp(1000, 'h2', 'preassoc', MAC),
  vdp(1000, 'h2', 'preassoc', OTHER), // another VM
  vdp(1310, 'h2', 'assoc', MAC, { migratedTo: true }),
  ev(1310, 'fdb-move', { mac: MAC, vlan: 10, from: 'h1', to: 'h2', cause: 'vdp' }),
  ev(1310, 'leasequery-sent', { mac: MAC, by: 'mac', ip: null, attempt: 1 }),
  ev(1310, 'igmp-query-sent', { port: 'h2', group: '239.1.1.1', to: MAC, maxRespMs: 100 }),
  vdp(1310, 'h1', 'deassoc', MAC, { migratedFrom: true }),
  ev(1311, 'leasequery-sent', { mac: MAC, by: 'mac', ip: null, attempt: 2 }),
  ev(1312, 'leasequery-reply', { mac: MAC, reply: 'DHCPLEASEACTIVE', ip: '10.0.0.5' }),
  ev(1312, 'binding-moved', { mac: MAC, ip: '10.0.0.5', from: 'h1', to: 'h2', evidence: 'leaseactive' }),
  ev(1400, 'igmp-join', { port: 'h2', group: '239.1.1.1', vlan: 10, mac: MAC }),
  ev(1401, 'igmp-join', { port: 'h2', group: '239.1.1.1', vlan: 10, mac: OTHER }), // another VM's
  vdp(11_310, 'h2', 'assoc', MAC, { migratedTo: true }), // keep-alive
  vdp(20_000, 'h1', 'preassoc', MAC), // the next migration's
  vdp(20_300, 'h1', 'assoc', MAC, { migratedTo: true }),
];
