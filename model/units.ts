// Unit parsing and formatting. Every parser takes what the YAML gave (any type),
// returns a number in the base unit, or throws a UnitError saying what was expected.
// Base units: bytes, bits per second, events per second, integer nanoseconds, fraction 0..1.

/** A quantity that did not parse. `expected` is the phrase the loader shows after "expected". */
export class UnitError extends Error {
  readonly expected: string;
  readonly got: unknown;
  constructor(expected: string, got: unknown) {
    super(`expected ${expected}, got ${describeValue(got)}`);
    this.name = 'UnitError';
    this.expected = expected;
    this.got = got;
  }
}

/** How a value reads in an error message: strings quoted, containers by kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nothing (null)';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

export const SIZE_EXPECTED = 'a size such as 1GiB or 512MiB';
export const BANDWIDTH_EXPECTED = 'a bandwidth such as 1Gbit/s or 100MB/s';
export const RATE_EXPECTED = 'a rate such as 1000/s';
export const DURATION_EXPECTED = 'a duration such as 300ms or 1.5s';
export const PERCENT_EXPECTED = 'a percentage such as 5%';

const KIB = 1024;

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KiB: KIB,
  MiB: KIB ** 2,
  GiB: KIB ** 3,
  TiB: KIB ** 4,
  KB: 1e3,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
};

const BANDWIDTH_UNITS: Readonly<Record<string, number>> = {
  'bit/s': 1,
  'Kbit/s': 1e3,
  'kbit/s': 1e3,
  'Mbit/s': 1e6,
  'Gbit/s': 1e9,
  'Tbit/s': 1e12,
  'B/s': 8,
  'KB/s': 8e3,
  'kB/s': 8e3,
  'MB/s': 8e6,
  'GB/s': 8e9,
  'KiB/s': 8 * KIB,
  'MiB/s': 8 * KIB ** 2,
  'GiB/s': 8 * KIB ** 3,
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A non-negative decimal, an optional space, a unit. The sign is captured to explain rejections. */
const QUANTITY = /^\s*([+-]?)(\d+(?:\.\d+)?|\.\d+)\s?(\S.*?)?\s*$/;

interface Quantity {
  negative: boolean;
  value: number;
  unit: string;
}

function splitQuantity(v: unknown, expected: string): Quantity {
  if (typeof v === 'number') {
    throw new UnitError(`${expected} (a bare number has no unit)`, v);
  }
  if (typeof v !== 'string') throw new UnitError(expected, v);
  const m = QUANTITY.exec(v);
  if (!m) throw new UnitError(expected, v);
  const unit = m[3] ?? '';
  if (unit === '') throw new UnitError(`${expected} (a bare number has no unit)`, v);
  return { negative: m[1] === '-', value: Number(m[2]), unit };
}

/** A hint for a unit that is not in `table`: a case slip, or a bit/byte ambiguity. */
function unitHint(unit: string, table: Readonly<Record<string, number>>): string | null {
  const sameLetters = Object.keys(table).filter((u) => u.toLowerCase() === unit.toLowerCase());
  if (sameLetters.length > 0) return `units are case-sensitive: did you mean ${sameLetters.join(' or ')}?`;
  return null;
}

function lookup(q: Quantity, table: Readonly<Record<string, number>>, expected: string, got: unknown, extraHint?: (unit: string) => string | null): number {
  const mult = table[q.unit];
  if (mult === undefined) {
    const hint = extraHint?.(q.unit) ?? unitHint(q.unit, table);
    throw new UnitError(hint ? `${expected} (${hint})` : expected, got);
  }
  if (q.negative) throw new UnitError(`${expected} (not negative)`, got);
  return q.value * mult;
}

/** Rounds to an integer when within float noise of one (1.1KB is 1100 bytes). */
function nearInteger(x: number): number | null {
  const r = Math.round(x);
  return Math.abs(x - r) <= 1e-12 * Math.max(1, Math.abs(x)) ? r : null;
}

/** Bytes. `1GiB`, `512 MiB`, `1.5KB`; a bare number is rejected: its unit would be a guess. */
export function parseSize(v: unknown): number {
  const q = splitQuantity(v, SIZE_EXPECTED);
  const bytes = lookup(q, SIZE_UNITS, SIZE_EXPECTED, v, (unit) => {
    const m = /^([KkMGT]?)b$/.exec(unit);
    if (!m) return null;
    const p = (m[1] ?? '').toUpperCase();
    return p ? `${unit} is bits: write ${p}B or ${p}iB` : 'b is bits: write B for bytes';
  });
  const whole = nearInteger(bytes);
  if (whole === null) throw new UnitError(`${SIZE_EXPECTED} (a whole number of bytes)`, v);
  if (!Number.isSafeInteger(whole)) throw new UnitError(`${SIZE_EXPECTED} (below 8 PiB)`, v);
  return whole;
}

/** Bits per second. Bits as `Gbit/s`, bytes as `GB/s` / `GiB/s`; `Gb/s` and `Gbps` are refused as ambiguous. */
export function parseBandwidth(v: unknown): number {
  const q = splitQuantity(v, BANDWIDTH_EXPECTED);
  const bps = lookup(q, BANDWIDTH_UNITS, BANDWIDTH_EXPECTED, v, (unit) => {
    const m = /^([KkMGT]?)(?:b\/s|bps|Bps)$/.exec(unit);
    if (m) {
      const p = (m[1] ?? '').toUpperCase();
      return `${unit} is ambiguous: write ${p}bit/s for bits or ${p}B/s for bytes per second`;
    }
    return null;
  });
  if (!Number.isFinite(bps)) throw new UnitError(BANDWIDTH_EXPECTED, v);
  return bps;
}

/** Events per second: `20000/s`. */
export function parseRate(v: unknown): number {
  const q = splitQuantity(v, RATE_EXPECTED);
  const rate = lookup(q, { '/s': 1 }, RATE_EXPECTED, v);
  if (!Number.isFinite(rate)) throw new UnitError(RATE_EXPECTED, v);
  return rate;
}

/** Integer nanoseconds, rounded to the nearest: `100us`, `1.5s`, `2m`, `1h`. */
export function parseDuration(v: unknown): number {
  const q = splitQuantity(v, DURATION_EXPECTED);
  const ns = lookup(q, DURATION_UNITS, DURATION_EXPECTED, v, (unit) => {
    if (unit === 'min') return 'write m for minutes';
    if (unit === 'sec') return 'write s for seconds';
    return null;
  });
  const rounded = Math.round(ns);
  if (!Number.isSafeInteger(rounded)) throw new UnitError(`${DURATION_EXPECTED} (below 104 days)`, v);
  return rounded;
}

/** A fraction 0..: `5%` is 0.05. The `%` is required so 0.5 and 50 cannot be confused. */
export function parsePercent(v: unknown): number {
  const q = splitQuantity(v, PERCENT_EXPECTED);
  return lookup(q, { '%': 0.01 }, PERCENT_EXPECTED, v);
}

// ---- formatting for humans -------------------------------------------------

/** Up to three decimals, trailing zeros dropped. */
function trim(x: number): string {
  return String(Number(x.toFixed(3)));
}

function exactTo3(q: number): boolean {
  return nearInteger(q * 1000) !== null;
}

/**
 * Picks the unit that reads best: an integer under 1000 (1024 for binary units),
 * else the largest unit giving an exact short number (< 10000, ≤ 3 decimals),
 * else the largest unit ≥ 1, rounded to 3 decimals. `units` is ordered largest first.
 */
function formatIn(x: number, units: ReadonlyArray<readonly [string, number]>, smallest: string): string {
  if (x === 0) return `0 ${smallest}`;
  if (!Number.isFinite(x)) return String(x);
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  const fits = units.filter(([, u]) => a / u >= 1);
  for (const [name, u] of fits) {
    const q = a / u;
    const limit = name.includes('i') ? 1024 : 1000;
    if (nearInteger(q) !== null && q < limit) return `${sign}${trim(q)} ${name}`;
  }
  for (const [name, u] of fits) {
    if (a / u < 10000 && exactTo3(a / u)) return `${sign}${trim(a / u)} ${name}`;
  }
  const [name, u] = fits[0] ?? units[units.length - 1] ?? [smallest, 1];
  return `${sign}${trim(a / u)} ${name}`;
}

const SIZE_ORDER: ReadonlyArray<readonly [string, number]> = [
  ['TiB', KIB ** 4],
  ['TB', 1e12],
  ['GiB', KIB ** 3],
  ['GB', 1e9],
  ['MiB', KIB ** 2],
  ['MB', 1e6],
  ['KiB', KIB],
  ['KB', 1e3],
  ['B', 1],
];

const DURATION_ORDER: ReadonlyArray<readonly [string, number]> = [
  ['h', 3600e9],
  ['m', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['ns', 1],
];

const BANDWIDTH_ORDER: ReadonlyArray<readonly [string, number]> = [
  ['Tbit/s', 1e12],
  ['Gbit/s', 1e9],
  ['Mbit/s', 1e6],
  ['Kbit/s', 1e3],
  ['bit/s', 1],
];

/** `1 GiB`, `1.5 KiB`, `1 GB`; round sizes parse back exactly with parseSize, others are rounded for reading. */
export function formatBytes(bytes: number): string {
  return formatIn(bytes, SIZE_ORDER, 'B');
}

/** `300 ms`, `1.5 s`, `1 h`; parses back with parseDuration (to 3 decimals of the unit shown). */
export function formatDuration(ns: number): string {
  return formatIn(ns, DURATION_ORDER, 's');
}

/**
 * A measured duration for reading, in the largest sensible unit: `0 ms`; ms below 1 s
 * (`9.09 ms`, `261.8 ms`); s below a minute (`9.41 s`, `59.5 s`); then two whole units:
 * `1 m 50 s`, `2 h 5 m`, `7 d 17 h` (rounded to the smaller one). Unlike formatDuration it is
 * not meant to parse back: it is the result table's.
 */
export function formatElapsed(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns < 0) return `-${formatElapsed(-ns)}`;
  if (ns === 0) return '0 ms';
  const ms = ns / 1e6;
  // each branch is chosen by the value as it would print, so 999.96 ms reads 1.00 s
  if (ms < 0.005) return `${Number(ms.toPrecision(2))} ms`;
  if (Number(ms.toFixed(2)) < 10) return `${ms.toFixed(2)} ms`;
  if (Number(ms.toFixed(1)) < 1000) return `${ms.toFixed(1)} ms`;
  const sec = ns / 1e9;
  if (Number(sec.toFixed(2)) < 10) return `${sec.toFixed(2)} s`;
  if (Number(sec.toFixed(1)) < 60) return `${sec.toFixed(1)} s`;
  const S = Math.round(sec);
  if (S < 3600) return `${Math.floor(S / 60)} m ${S % 60} s`;
  const M = Math.round(sec / 60);
  if (M < 24 * 60) return `${Math.floor(M / 60)} h ${M % 60} m`;
  const H = Math.round(sec / 3600);
  return `${Math.floor(H / 24)} d ${H % 24} h`;
}

/** `10 Gbit/s`, `800 Mbit/s`; parses back with parseBandwidth (to 3 decimals of the unit shown). */
export function formatBandwidth(bps: number): string {
  return formatIn(bps, BANDWIDTH_ORDER, 'bit/s');
}

/** `20000/s` */
export function formatRate(perSecond: number): string {
  return `${trim(perSecond)}/s`;
}

/** `5%` from 0.05 */
export function formatPercent(fraction: number): string {
  return `${trim(fraction * 100)}%`;
}
