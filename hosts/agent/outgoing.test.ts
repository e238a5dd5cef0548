// Auto-converge's tuning on the testbed's host agent: a scenario's throttleInitial and
// throttleIncrement travel in the orchestrator's `migrate` message (testbed/commands.ts),
// are checked by its schema on the agent's side, and throttle a real guest round by round in
// the hand-computed sequence. Two agents on loopback, one 32 MiB VM.

import { afterEach, describe, expect, it } from 'vitest';
import { HostAgent } from './agent.js';
import type { AgentEvent } from './events.js';
import { OutgoingMigrations } from './outgoing.js';
import { MigrateMsgSchema } from '../control/messages.js';
import { migrateMessage } from '../../testbed/commands.js';
import { parseScenario } from '../../model/scenario/load.js';
import { wireBytes } from '../../model/page-cost.js';
import type { MigrationResult } from '../../model/result/format.js';
import { MiB } from '../../model/scenario/fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A scenario whose one migration has the given extra fields (the VM matches the agent's below). */
function scenarioWith(fields: string) {
  return parseScenario(
    `name: t
hosts: [h1, h2]
network: { migrationLink: { bandwidth: 1Gbit/s } }
vms:
  - { name: vm1, host: h1, memory: 32MiB, workload: { kind: uniform, writeRate: 200000/s } }
migrations:
  - { vm: vm1, to: h2, at: 1s, downtimeLimit: 5ms, maxRounds: 6${fields} }
`,
    'x.yaml',
  );
}

const minimalParams = { downtimeLimitNs: 300e6, maxRounds: 30 };

describe('the migrate message carries the tuning, checked on the agent side', () => {
  it("defaults to QEMU's 20 and 10 when a sender leaves the fields out", () => {
    const msg = MigrateMsgSchema.parse({ type: 'migrate', vm: 'vm1', dest: '127.0.0.1:1', params: minimalParams });
    expect(msg.params).toMatchObject({ autoConverge: false, throttleInitialPct: 20, throttleIncrementPct: 10 });
  });

  it('the orchestrator sends the scenario’s values, and the defaults when the scenario has none', () => {
    const tuned = scenarioWith(', autoConverge: true, throttleInitial: 30%, throttleIncrement: 25%');
    expect(migrateMessage(tuned, tuned.migrations[0]!, '127.0.0.1:1', 0n).params).toMatchObject({ autoConverge: true, throttleInitialPct: 30, throttleIncrementPct: 25 });
    const plain = scenarioWith('');
    expect(migrateMessage(plain, plain.migrations[0]!, '127.0.0.1:1', 0n).params).toMatchObject({ autoConverge: false, throttleInitialPct: 20, throttleIncrementPct: 10 });
  });

  it("refuses values outside QEMU's range 1..99 or not whole, naming the field", () => {
    for (const [field, value] of [['throttleInitialPct', 0], ['throttleInitialPct', 100], ['throttleIncrementPct', 12.5], ['throttleIncrementPct', -10], ['throttleIncrementPct', '25']] as const) {
      const r = MigrateMsgSchema.safeParse({ type: 'migrate', vm: 'vm1', dest: '127.0.0.1:1', params: { ...minimalParams, [field]: value } });
      expect(r.success, `${field}: ${String(value)}`).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual([`params.${field}`]);
    }
  });
});

describe('the agent applies the tuning', () => {
  it('throttleInitial 30 %, throttleIncrement 25 %: the guest is throttled 30, 55, 80, 99 as its rounds fail to converge', async () => {
    const events: AgentEvent[] = [];
    const h1 = new HostAgent('h1', { onEvent: (e) => void events.push(e) });
    const h2 = new HostAgent('h2');
    cleanups.push(() => h1.close(), () => h2.close());
    const port = await h2.listen(0);
    await h1.startVm({ name: 'vm1', memoryBytes: 32 * MiB, pageSize: 4096, zeroPages: 0, workload: { kind: 'uniform', writeRate: 200_000 }, seed: 1 });

    const s = scenarioWith(', autoConverge: true, throttleInitial: 30%, throttleIncrement: 25%');
    const msg = MigrateMsgSchema.parse({ type: 'migrate', ...migrateMessage(s, s.migrations[0]!, `127.0.0.1:${port}`, 0n) });
    const results: Record<string, unknown>[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    const out = new OutgoingMigrations(h1, 'h1', (kind, data) => void (kind === 'migration-result' && results.push(data)), () => ended());
    out.start(msg);
    await done;

    const r = results[0]!.result as MigrationResult;
    expect(r.outcome, r.error ?? '').toBe('completed');
    expect(r.memoryVerified).toBe(true);
    // a round raises the throttle when it dirtied more than half of what it sent (all but the last, which decides the switchover)
    const raises = r.rounds.slice(0, -1).filter((x) => wireBytes(x.dirtyPagesAtEnd, 0, 4096) > x.bytesSent * 0.5).length;
    expect(raises, JSON.stringify(r.rounds)).toBeGreaterThanOrEqual(2);
    const HAND = [30, 55, 80, 99]; // 30, +25, +25, then capped at 99 (80 + 25 > 99)
    const applied = HAND.slice(0, Math.min(raises, HAND.length));
    console.log(`agent, throttle 30/25: ${r.rounds.length} rounds, ${raises} raises, throttle events ${JSON.stringify(events.filter((e) => e.kind === 'throttle').map((e) => e.pct))}`);
    // one `throttle` event per change, in order, and the result's highest throttle
    expect(events.filter((e) => e.kind === 'throttle').map((e) => e.pct)).toEqual(applied);
    expect(r.throttlePct).toBe(applied[applied.length - 1]);
  });
});
