// Plumbing shared by the testbed's process entry points (the switch process, the host
// agent, the VM's identity, dhcpd's wrapper, the multicast source, the probe): argument
// errors and numbers, timeouts, and "am I the script node was started with".

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: the entry point prints it with its usage and exits 2. */
export class UsageError extends Error {}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** `--name value` options only (no positionals, no unknown options); a bad one is a UsageError. */
export function parseOptions<const O extends OptionSpecs>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A decimal number in [min, max] (an integer if asked), or a UsageError naming the option. */
export function numberArg(
  v: string | undefined,
  name: string,
  dflt: number,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (opts.integer && !Number.isInteger(n))) {
    const range = opts.max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} ${v}: expected ${opts.integer ? 'an integer' : 'a number'} ${range}`);
  }
  return n;
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration given as seconds (`2.5`) or with a unit (`500ms`, `2s`, `1m`, `1h`); null if absent. */
export function durationArgMs(v: string | undefined, name: string): number | null {
  if (v === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new UsageError(`--${name} ${v}: expected a duration such as 500ms, 2s, 1m, 1h or 2.5 (seconds)`);
  return Number(m[1]) * DURATION_UNIT_MS[m[2] ?? 's']!;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How a traffic process ends: `finish(reason)` from its own logic, or SIGTERM / SIGINT.
 * `finished` resolves with the first reason; the signal handlers come off then.
 */
export function endOnSignal(): { finish: (reason: string) => void; finished: Promise<string> } {
  let finish!: (reason: string) => void;
  const finished = new Promise<string>((r) => (finish = r));
  const onSignal = (sig: NodeJS.Signals): void => finish(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  void finished.then(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
  return { finish, finished };
}

/** Whether the module at `url` (import.meta.url) is the script node was started with. */
export function isEntryPoint(url: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

/** A stderr logger that prints at most one line per `intervalMs`, with the count of those it skipped. */
export function rateLimitedStderr(prefix: string, intervalMs = 1000): (e: unknown) => void {
  let last = 0;
  let skipped = 0;
  return (e) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      skipped++;
      return;
    }
    const more = skipped > 0 ? ` (+${skipped} more since the last report)` : '';
    skipped = 0;
    last = now;
    process.stderr.write(`${prefix}: ${e instanceof Error ? e.message : String(e)}${more}\n`);
  };
}


/** A long-running component stays up through a stray exception: counted, reported (rate-limited), survived. */
export interface Survive<A> {
  /** the stderr prefix, from the parsed arguments */
  label: (args: A) => string;
  stats: { uncaught: number };
}

/**
 * Parse the arguments (a UsageError prints `usage` and exits 2), run, exit with its status.
 * With `survive`, uncaught exceptions and unhandled rejections are counted and reported
 * instead of ending the process.
 */
export async function runMain<A>(parse: (argv: string[]) => A, usage: string, run: (args: A) => Promise<number>, survive?: Survive<A>): Promise<void> {
  let args: A;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (survive) {
    const report = rateLimitedStderr(`${survive.label(args)}: uncaught`);
    process.on('uncaughtException', (e) => {
      survive.stats.uncaught++;
      report(e.stack ?? e);
    });
    process.on('unhandledRejection', (e) => {
      survive.stats.uncaught++;
      report(e instanceof Error ? (e.stack ?? e) : e);
    });
  }
  process.exit(await run(args));
}
