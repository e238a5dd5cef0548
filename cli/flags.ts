// Values of the commands' flags, checked before anything is loaded or run: a bad one is one
// line naming the flag and the value (exit 2).

import { parseDuration, UnitError } from '../model/units.js';

/** A flag's value that cannot be used; the message names the flag and the value. */
export class FlagError extends Error {}

/** The largest seed: the run's generator takes 32 bits (model/random.ts). */
export const MAX_SEED = 0xffff_ffff;

function shown(v: unknown): string {
  return JSON.stringify(v);
}

/** A flag given once, as text (yargs makes an array of a repeated flag). */
export function single(flag: string, v: unknown): string {
  if (Array.isArray(v)) throw new FlagError(`--${flag} given ${v.length} times: give it once`);
  return String(v);
}

/** `--seed N`: a whole decimal number from 0 to 2^32−1. */
export function parseSeed(v: unknown): number {
  const text = single('seed', v);
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n <= MAX_SEED)) throw new FlagError(`--seed ${shown(text)}: expected a whole number from 0 to ${MAX_SEED} (decimal digits only)`);
  return n;
}

/** Longest single timer Node keeps (ms); longer timeouts are re-armed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `--timeout DURATION`: a duration in the scenario's units (`30s`, `5m`), more than 0; in ms. */
export function parseTimeout(v: unknown): number {
  const text = single('timeout', v);
  let ns: number;
  try {
    ns = parseDuration(text);
  } catch (e) {
    if (e instanceof UnitError) throw new FlagError(`--timeout ${shown(text)}: ${e.message} (units as in a scenario: 30s, 5m, 1h)`);
    throw e;
  }
  if (!(ns > 0)) throw new FlagError(`--timeout ${shown(text)}: expected a duration greater than 0, such as 30s or 5m`);
  return Math.max(1, Math.round(ns / 1e6));
}

/** `--out PATH`: given once and not empty. */
export function parseOut(v: unknown): string {
  const text = single('out', v);
  if (text === '') throw new FlagError('--out "": expected a .json file or a directory');
  return text;
}

/** `--workers N`, `--concurrency N`: a whole decimal number from 1 to `max`. */
export function parseCount(flag: string, v: unknown, max: number): number {
  const text = single(flag, v);
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw new FlagError(`--${flag} ${shown(text)}: expected a whole number from 1 to ${max}`);
  return n;
}

/** `--engine`: given once (yargs checks the choice). */
export function parseEngine(v: unknown): string {
  return single('engine', v);
}
