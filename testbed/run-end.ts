// The end of a testbed run: every process stopped (traffic and guests first, then everyone on
// the bus; without the bus, the bus's processes are killed), the stream (or, the bus lost,
// what the follower had read of it) and the containers' logs read into the run's result, and
// the topology taken down — at once and twice over for a run given up. The sequence:
// docs/testbed-wiring.md "A run, step by step" and "When things fail".

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasNetwork } from '../model/scenario/support.js';
import type { RunResult } from '../model/result/format.js';
import { readEvents, saveEvents, saveStream } from '../hosts/control/event-stream.js';
import { controlMessage } from '../hosts/control/messages.js';
import { quitRedis } from '../hosts/control/redis-bus.js';
import { LOGS } from './commands.js';
import { readContainerFile } from './container-process.js';
import { hostLeftovers } from './link.js';
import { LABEL, type TestbedNode } from './node.js';
import { parseLog, testbedResult, type LogLine } from './result.js';
import type { RunContext } from './run-context.js';

const LOCAL_ROLES = ['probe', 'msource', 'vm', 'dhcp'];

/**
 * What a scheduled host-crash froze goes now: the crashed host's agent is killed (the signal
 * waits in the frozen process; it dies as it thaws, before it runs again, and its links stay
 * cut), and the lost VMs' network identities thaw, to stop as the others do.
 */
export async function endCrashes(r: RunContext): Promise<void> {
  for (const host of r.crashed.keys()) {
    const agent = r.procs.find((p) => p.node.role === 'host' && p.node.name === host);
    await agent?.signal('SIGKILL').catch(() => undefined);
    await r.net.node('host', host).thaw().catch((e: unknown) => r.log(`thawing crashed ${host}: ${String(e)}`));
  }
  for (const vm of r.lostVms.keys()) await r.net.node('vm', vm).thaw().catch((e: unknown) => r.log(`thawing lost ${vm}: ${String(e)}`));
}

export async function stopAll(r: RunContext): Promise<void> {
  await endCrashes(r);
  // traffic and guests first (they are not on Redis), then everyone on the bus
  const local = r.procs.filter((p) => LOCAL_ROLES.includes(p.node.role));
  await Promise.all(local.map((p) => p.stop(10_000)));
  await r.bus!.publishControl(controlMessage('stop', {}));
  const onBus = r.procs.filter((p) => !local.includes(p));
  const exits = await Promise.all(onBus.map(async (p) => ({ p, exit: await p.stop(30_000) })));
  // a crashed host's agent was killed on purpose (endCrashes)
  const lost = exits.filter((x) => x.exit.code !== 0 && !r.watch.isIntended(x.p) && !(x.p.node.role === 'host' && r.crashed.has(x.p.node.name ?? '')));
  if (lost.length > 0) r.log(`stopped with a non-zero status: ${lost.map((x) => `${x.p.label} ${x.exit.code}`).join(', ')}`);
}

/** The bus is gone: traffic and guests stop (their logs are flushed), the bus's processes are killed (their events could not go anywhere). */
export async function stopWithoutBus(r: RunContext): Promise<void> {
  await endCrashes(r);
  const local = r.procs.filter((p) => LOCAL_ROLES.includes(p.node.role));
  await Promise.all(local.map((p) => p.stop(3000).catch(() => undefined)));
  await Promise.all(r.procs.filter((p) => !local.includes(p) && p.running).map((p) => p.signal('SIGKILL').catch(() => undefined)));
}

/** A container's log, or null if it cannot be read (the container died with it). */
async function logOf(node: TestbedNode, path: string): Promise<LogLine[]> {
  try {
    return parseLog(await readContainerFile(node, path)).lines;
  } catch {
    return [];
  }
}

export async function collect(r: RunContext, endNs: bigint, wallStart: number): Promise<RunResult> {
  const s = r.s;
  const abort = r.aborted;
  const busLost = abort?.kind === 'bus-lost' ? { lastAnswerNs: abort.lastAnswerNs, detectedNs: abort.detectedNs } : null;
  let events = r.follower!.events;
  if (!busLost) {
    r.emit('run-end', {});
    await r.sink!.close();
    events = await readEvents(r.redis!, r.run);
  }
  const vmLogs = new Map<string, LogLine[]>();
  for (const vm of s.vms) vmLogs.set(vm.name, await logOf(r.net.node('vm', vm.name), LOGS.vm));
  const probeLog = s.probe ? await logOf(r.net.node('probe'), LOGS.probe) : null;
  const sourceLogs: LogLine[][] = [];
  for (let i = 0; i < s.multicastSources.length; i++) sourceLogs.push(await logOf(r.net.node('msource', String(i)), LOGS.msource));
  if (r.o.eventsFile) {
    await mkdir(resolve(r.o.eventsFile, '..'), { recursive: true });
    if (busLost) await saveEvents(events, r.o.eventsFile);
    else await saveStream(r.redis!, r.run, r.o.eventsFile);
  }
  return testbedResult(s, {
    originNs: r.originNs, endNs, events, vmLogs, probeLog, sourceLogs, seed: r.seed, wallStart,
    migrations: r.migrations.map((m) => m.result ?? { error: busLost ? 'not started: the control bus (Redis) was lost' : 'the run ended before this migration reported' }),
    faults: { deaths: [...r.watch.deaths], busLost, crashes: [...r.crashes] },
    scheduledFaults: [...r.scheduledFaults],
  }, hasNetwork(s));
}

export async function tearDown(r: RunContext): Promise<void> {
  r.busWatch?.stop();
  if (r.aborted !== null) return tearDownNow(r);
  await Promise.all(r.procs.filter((p) => p.running).map((p) => p.stop(5000).catch(() => undefined)));
  await r.follower?.stop().catch(() => undefined);
  if (r.sink) await r.sink.close().catch(() => undefined);
  if (r.redis) await quitRedis(r.redis);
  if (!r.o.keepTopology) await removeTopology(r);
}

async function removeTopology(r: RunContext): Promise<void> {
  try {
    await r.net.removeTopology();
  } catch (e) {
    r.log(`removing the topology failed (run \`migsim testbed down\`): ${String(e)}`);
  }
}

/**
 * A run given up (a signal, the bus lost): no goodbyes — the containers go, and every process
 * with them; then whatever the cut-short phase made meanwhile (a container, a veth) once it
 * has stopped (at most 3 s), so nothing stays behind.
 */
async function tearDownNow(r: RunContext): Promise<void> {
  await r.follower?.stop().catch(() => undefined);
  r.redis?.disconnect();
  if (r.o.keepTopology && r.aborted?.kind !== 'signal') return;
  await removeTopology(r);
  await r.watch.settle(3000);
  const left = await r.net.docker.listContainers({ all: true, filters: { label: [`${LABEL.migsim}=1`, LABEL.topology] } }).catch(() => []);
  if (left.length > 0 || (await hostLeftovers().catch(() => [])).length > 0) await removeTopology(r);
}
