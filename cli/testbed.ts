// `migsim testbed up [SCENARIO] | down [--images] | status [--json]`: the Docker testbed's
// lifecycle, registered by cli/main.ts, and a testbed run that Ctrl-C or SIGTERM stops. What
// each does and the exit statuses: docs/testbed-wiring.md "Lifecycle and cleanup" and "When
// things fail".

import { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './exit.js';
import { ComposeError, ENGINE_HINT, isEngineDown, TopologyConflict } from '../testbed/errors.js';
import type { Argv } from 'yargs';
import { ScenarioError } from '../model/scenario/errors.js';
import { loadScenario } from '../model/scenario/load.js';
import type { Scenario } from '../model/scenario/types.js';
import type { TestbedNetwork } from '../testbed/network.js';
import type { TestbedStatus } from '../testbed/clean.js';
import type { RunResult } from '../model/result/format.js';
import type { TestbedRunOptions } from '../testbed/run-context.js';


async function guarded(setStatus: (code: number) => void, fn: () => Promise<number>): Promise<void> {
  try {
    setStatus(await fn());
  } catch (e) {
    let code = EXIT_FAILED;
    let msg = e instanceof Error ? e.message : String(e);
    if (e instanceof ScenarioError) {
      msg = e.errors.map((x) => x.message).join('\n');
      code = EXIT_BAD_INPUT;
    } else if (e instanceof ComposeError || e instanceof TopologyConflict) {
      code = EXIT_BAD_INPUT;
    } else if (isEngineDown(e)) {
      msg = `${ENGINE_HINT} (${msg})`;
      code = EXIT_BAD_INPUT;
    }
    process.stderr.write(`migsim: testbed: ${msg}\n`);
    setStatus(code);
  }
}

/** The testbed's network, loaded only when a testbed command runs (it brings in Docker's client). */
async function testbedNetwork(): Promise<TestbedNetwork> {
  const { TestbedNetwork } = await import('../testbed/network.js');
  return new TestbedNetwork();
}

async function cmdUp(file: string | undefined): Promise<number> {
  let scenario: Scenario | undefined;
  if (file !== undefined) scenario = loadScenario(file);
  const tb = await testbedNetwork();
  const r = await tb.up(scenario);
  process.stdout.write(`image ${r.image}\n`);
  for (const c of r.changes) process.stdout.write(`${c}\n`);
  const what = scenario ? `base and the ${scenario.name} topology` : 'base (image, mgmt network, redis)';
  process.stdout.write(
    r.changes.length === 0
      ? `testbed up: nothing to do, the ${what} ${scenario ? 'were' : 'was'} up already (run ${r.runId})\n`
      : `testbed up: ${what} ready (run ${r.runId})\n`,
  );
  return EXIT_OK;
}

async function cmdDown(images: boolean): Promise<number> {
  const tb = await testbedNetwork();
  const r = await tb.down({ images });
  const parts: [string, string[]][] = [
    ['containers', r.containers],
    ['networks', r.networks],
    ['host interfaces', r.interfaces],
    ['images', r.images],
  ];
  let any = false;
  for (const [what, names] of parts) {
    if (names.length === 0) continue;
    any = true;
    process.stdout.write(`removed ${names.length} ${what}: ${names.join(' ')}\n`);
  }
  process.stdout.write(any ? 'testbed down: done\n' : 'testbed down: nothing to remove\n');
  return EXIT_OK;
}

function formatStatus(s: TestbedStatus): string {
  const lines: string[] = [];
  lines.push(
    s.engine.answers ? `engine: answers (Docker ${s.engine.version})` : `engine: does not answer (${s.engine.error}); ${ENGINE_HINT.replace('no Docker engine answers; ', '')}`,
  );
  if (!s.engine.answers) {
    if (s.hostInterfaces.length > 0) lines.push(`host interfaces: ${s.hostInterfaces.join(' ')}`);
    return lines.join('\n');
  }
  lines.push(`images: ${s.images.length === 0 ? 'none' : s.images.map((i) => `${i.tag} (${Math.round(i.sizeBytes / 1e6)} MB)`).join(', ')}`);
  lines.push(`networks: ${s.networks.length === 0 ? 'none' : s.networks.map((n) => `${n.name}${n.internal ? ' (internal)' : ''}`).join(', ')}`);
  if (s.containers.length === 0) lines.push('containers: none');
  else {
    lines.push(`containers: ${s.containers.length}`);
    const w = Math.max(...s.containers.map((c) => c.name.length));
    for (const c of s.containers) {
      const ifs = c.interfaces.map((i) => `${i.name}${i.up ? '' : '(down)'}`).join(' ');
      lines.push(`  ${c.name.padEnd(w)}  ${c.state.padEnd(8)} run ${c.run}${c.scenario ? ` ${c.scenario}` : ''}${ifs ? `  [${ifs}]` : ''}`);
    }
  }
  lines.push(`host interfaces: ${s.hostInterfaces.length === 0 ? 'none' : s.hostInterfaces.join(' ')}`);
  return lines.join('\n');
}

async function cmdStatus(json: boolean): Promise<number> {
  const s = await (await testbedNetwork()).status();
  process.stdout.write(json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s) + '\n');
  return EXIT_OK;
}

/**
 * Registers `testbed up|down|status` on `y` (the builder of cli/main.ts's `testbed` command).
 * `setStatus` receives the exit status (cli/main.ts's rules).
 */
export function testbedCommand(y: Argv, setStatus: (code: number) => void = (c) => void (process.exitCode = c)): Argv {
  return y
    .command(
      'up [scenario]',
      'build or reuse the image, start the mgmt network and redis, and with a SCENARIO its containers and veth wiring (idempotent)',
      (b) => b.positional('scenario', { type: 'string', describe: 'scenario file whose topology to bring up' }),
      (a) => guarded(setStatus, () => cmdUp(a.scenario as string | undefined)),
    )
    .command(
      'down',
      'remove every migsim container, network and veth (also a crashed run\'s); --images also the images',
      (b) => b.option('images', { type: 'boolean', default: false, describe: 'also remove the migsim/base image tags' }),
      (a) => guarded(setStatus, () => cmdDown(a.images === true)),
    )
    .command(
      'status',
      'list migsim containers, networks, veths and images, and whether the engine answers',
      (b) => b.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      (a) => guarded(setStatus, () => cmdStatus(a.json === true)),
    )
    .demandCommand(1, 'name a testbed command: up, down or status');
}

/**
 * `migsim run|check … --engine testbed` for one scenario: SIGINT or SIGTERM stops the run and
 * removes what it made (the engine rejects with TestbedInterrupted, the signal and how long
 * the removal took). A second signal while that goes on changes nothing: the handlers stay
 * until the process exits, so the removal is never cut short.
 */
export async function runTestbedStoppable(s: Scenario, o: TestbedRunOptions): Promise<RunResult> {
  // loaded only for a testbed run (Docker, Redis)
  const { runTestbed } = await import('../testbed/engine.js');
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!stop.signal.aborted) stop.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runTestbed(s, { ...o, signal: stop.signal });
  } finally {
    if (!stop.signal.aborted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
