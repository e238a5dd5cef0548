// The end of a testbed run: every process stopped (traffic and guests first, then everyone on
// the bus), the stream and the containers' logs read into the run's result, and the
// topology taken down. The sequence: docs/testbed-wiring.md "A run, step by step".

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasNetwork } from '../model/scenario/support.js';
import type { RunResult } from '../model/result/format.js';
import { readEvents, saveStream } from '../hosts/control/event-stream.js';
import { controlMessage } from '../hosts/control/messages.js';
import { quitRedis } from '../hosts/control/redis-bus.js';
import { LOGS } from './commands.js';
import { readContainerFile } from './container-process.js';
import { parseLog, testbedResult, type LogLine } from './result.js';
import type { RunContext } from './run-context.js';

export async function stopAll(r: RunContext): Promise<void> {
  // traffic and guests first (they are not on Redis), then everyone on the bus
  const local = r.procs.filter((p) => ['probe', 'msource', 'vm', 'dhcp'].includes(p.node.role));
  await Promise.all(local.map((p) => p.stop(10_000)));
  await r.bus!.publishControl(controlMessage('stop', {}));
  const onBus = r.procs.filter((p) => !local.includes(p));
  const exits = await Promise.all(onBus.map(async (p) => ({ p, exit: await p.stop(30_000) })));
  const lost = exits.filter((x) => x.exit.code !== 0);
  if (lost.length > 0) r.log(`stopped with a non-zero status: ${lost.map((x) => `${x.p.label} ${x.exit.code}`).join(', ')}`);
}

export async function collect(r: RunContext, endNs: bigint, wallStart: number): Promise<RunResult> {
  const s = r.s;
  r.emit('run-end', {});
  await r.sink!.close();
  const events = await readEvents(r.redis!, r.run);
  const vmLogs = new Map<string, LogLine[]>();
  for (const vm of s.vms) vmLogs.set(vm.name, parseLog(await readContainerFile(r.net.node('vm', vm.name), LOGS.vm)).lines);
  const probeLog = s.probe ? parseLog(await readContainerFile(r.net.node('probe'), LOGS.probe)).lines : null;
  const sourceLogs: LogLine[][] = [];
  for (let i = 0; i < s.multicastSources.length; i++) sourceLogs.push(parseLog(await readContainerFile(r.net.node('msource', String(i)), LOGS.msource)).lines);
  if (r.o.eventsFile) {
    await mkdir(resolve(r.o.eventsFile, '..'), { recursive: true });
    await saveStream(r.redis!, r.run, r.o.eventsFile);
  }
  return testbedResult(s, {
    originNs: r.originNs, endNs, events, vmLogs, probeLog, sourceLogs, seed: r.seed, wallStart,
    migrations: r.migrations.map((m) => m.result ?? { error: 'the run ended before this migration reported' }),
  }, hasNetwork(s));
}

export async function tearDown(r: RunContext): Promise<void> {
  await Promise.all(r.procs.filter((p) => p.running).map((p) => p.stop(5000).catch(() => undefined)));
  await r.follower?.stop().catch(() => undefined);
  if (r.sink) await r.sink.close().catch(() => undefined);
  if (r.redis) await quitRedis(r.redis);
  if (!r.o.keepTopology) {
    try {
      await r.net.removeTopology();
    } catch (e) {
      r.log(`removing the topology failed (run \`migsim testbed down\`): ${String(e)}`);
    }
  }
}
