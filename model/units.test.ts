import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  UnitError,
  formatBandwidth,
  formatBytes,
  formatDuration,
  formatElapsed,
  formatPercent,
  formatRate,
  parseBandwidth,
  parseDuration,
  parsePercent,
  parseRate,
  parseSize,
} from './units.js';

/** The UnitError a parser throws for `input`. */
function unitError(parse: (v: unknown) => number, input: unknown): UnitError {
  try {
    parse(input);
  } catch (e) {
    if (e instanceof UnitError) return e;
    throw e;
  }
  throw new Error(`${JSON.stringify(input)} parsed`);
}

describe('parseSize', () => {
  it.each([
    ['1B', 1],
    ['1KiB', 1024],
    ['1MiB', 1024 ** 2],
    ['1GiB', 1073741824],
    ['1TiB', 1024 ** 4],
    ['1KB', 1000],
    ['1kB', 1000],
    ['1MB', 1e6],
    ['1GB', 1e9],
    ['1TB', 1e12],
    ['4KiB', 4096],
    ['64MiB', 67108864],
    ['1 GiB', 1073741824],
    ['1.5KiB', 1536],
    ['1.1KB', 1100],
    ['0B', 0],
    ['1200B', 1200],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('rejects an unknown unit with the phrase the loader shows', () => {
    const e = unitError(parseSize, '1 gigs');
    expect(e.expected).toBe('a size such as 1GiB or 512MiB');
    expect(e.message).toBe('expected a size such as 1GiB or 512MiB, got "1 gigs"');
  });

  it('rejects a bare number, as a number or a string', () => {
    expect(unitError(parseSize, 1024).expected).toMatch(/bare number has no unit/);
    expect(unitError(parseSize, '1024').expected).toMatch(/bare number has no unit/);
  });

  it('rejects negatives, bits, case slips, fractions of a byte and overflow', () => {
    expect(unitError(parseSize, '-1GiB').expected).toMatch(/not negative/);
    expect(unitError(parseSize, '1Gb').expected).toMatch(/Gb is bits: write GB or GiB/);
    expect(unitError(parseSize, '8b').expected).toMatch(/b is bits/);
    expect(unitError(parseSize, '1gib').expected).toMatch(/case-sensitive: did you mean GiB/);
    expect(unitError(parseSize, '0.5B').expected).toMatch(/whole number of bytes/);
    expect(unitError(parseSize, '99999999TiB').expected).toMatch(/below 8 PiB/);
  });

  it.each([[''], ['GiB'], ['1 2GiB'], ['1  GiB'], ['1e3B'], [null], [undefined], [true], [{}], [[]], ['0x10B']])(
    'rejects %j',
    (input) => {
      expect(() => parseSize(input)).toThrow(UnitError);
    },
  );
});

describe('parseBandwidth', () => {
  it.each([
    ['1bit/s', 1],
    ['1Kbit/s', 1e3],
    ['1kbit/s', 1e3],
    ['1Mbit/s', 1e6],
    ['1Gbit/s', 1e9],
    ['10Gbit/s', 1e10],
    ['1 Gbit/s', 1e9],
    ['1B/s', 8],
    ['1KB/s', 8e3],
    ['1MB/s', 8e6],
    ['1GB/s', 8e9],
    ['1KiB/s', 8192],
    ['1MiB/s', 8 * 1024 ** 2],
    ['1GiB/s', 8 * 1024 ** 3],
    ['2.5Gbit/s', 2.5e9],
  ])('%s is %d bit/s', (text, bps) => {
    expect(parseBandwidth(text)).toBe(bps);
  });

  it('refuses Gb/s and Gbps as ambiguous, saying what to write', () => {
    const e = unitError(parseBandwidth, '10Gb/s');
    expect(e.expected).toMatch(/Gb\/s is ambiguous: write Gbit\/s for bits or GB\/s for bytes/);
    expect(e.message).toContain('got "10Gb/s"');
    expect(unitError(parseBandwidth, '10Gbps').expected).toMatch(/ambiguous/);
    expect(unitError(parseBandwidth, '10Mb/s').expected).toMatch(/Mbit\/s/);
  });

  it('rejects negative, bare and unknown', () => {
    expect(unitError(parseBandwidth, '-1Gbit/s').expected).toMatch(/not negative/);
    expect(unitError(parseBandwidth, 1000).expected).toMatch(/bare number/);
    expect(unitError(parseBandwidth, '1000').expected).toMatch(/bare number/);
    expect(unitError(parseBandwidth, '1 Gigabit').expected).toBe('a bandwidth such as 1Gbit/s or 100MB/s');
    expect(unitError(parseBandwidth, '1gbit/s').expected).toMatch(/did you mean Gbit\/s/);
  });
});

describe('parseRate', () => {
  it.each([
    ['20000/s', 20000],
    ['0/s', 0],
    ['1.5/s', 1.5],
    ['1000 /s', 1000],
  ])('%s is %d per second', (text, rate) => {
    expect(parseRate(text)).toBe(rate);
  });

  it.each([['20000'], [20000], ['-1/s'], ['20000/m'], ['1.5k/s'], ['fast']])('rejects %j', (input) => {
    expect(unitError(parseRate, input).expected).toMatch(/^a rate such as 1000\/s/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1ns', 1],
    ['100us', 100_000],
    ['100µs', 100_000],
    ['300ms', 300_000_000],
    ['2s', 2e9],
    ['1.5s', 1.5e9],
    ['2m', 120e9],
    ['1h', 3600e9],
    ['125s', 125e9],
    ['0s', 0],
    ['1 ms', 1e6],
    ['1.4ns', 1],
    ['1.6ns', 2],
    ['0.0001us', 0],
  ])('%s is %d ns', (text, ns) => {
    const got = parseDuration(text);
    expect(got).toBe(ns);
    expect(Number.isInteger(got)).toBe(true);
  });

  it('rejects bare numbers, negatives, unknown units, overflow', () => {
    expect(unitError(parseDuration, 5).expected).toMatch(/bare number/);
    expect(unitError(parseDuration, '5').expected).toMatch(/bare number/);
    expect(unitError(parseDuration, '-1s').expected).toMatch(/not negative/);
    expect(unitError(parseDuration, '5min').expected).toMatch(/write m for minutes/);
    expect(unitError(parseDuration, '5 sec').expected).toMatch(/write s for seconds/);
    expect(unitError(parseDuration, '5 days').expected).toBe('a duration such as 300ms or 1.5s');
    expect(unitError(parseDuration, '999999999h').expected).toMatch(/below 104 days/);
    expect(unitError(parseDuration, '1S').expected).toMatch(/did you mean s/);
  });
});

describe('parsePercent', () => {
  it.each([
    ['5%', 0.05],
    ['0%', 0],
    ['100%', 1],
    ['12.5 %', 0.125],
  ])('%s is %d', (text, f) => {
    expect(parsePercent(text)).toBeCloseTo(f, 12);
  });

  it.each([['0.5'], [0.5], ['-5%'], ['5 percent']])('rejects %j', (input) => {
    expect(unitError(parsePercent, input).expected).toMatch(/^a percentage such as 5%/);
  });
});

describe('formatting', () => {
  it.each([
    [1073741824, '1 GiB'],
    [4096, '4 KiB'],
    [67108864, '64 MiB'],
    [1536, '1.5 KiB'],
    [1e9, '1 GB'],
    [1200, '1.2 KB'],
    [512, '512 B'],
    [0, '0 B'],
  ])('formatBytes(%d) = %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });

  it.each([
    [300e6, '300 ms'],
    [1.5e9, '1.5 s'],
    [100_000, '100 us'],
    [3600e9, '1 h'],
    [125e9, '125 s'],
    [1, '1 ns'],
    [0, '0 s'],
  ])('formatDuration(%d) = %s', (ns, s) => {
    expect(formatDuration(ns)).toBe(s);
  });

  it.each([
    [10e9, '10 Gbit/s'],
    [1e9, '1 Gbit/s'],
    [800e6, '800 Mbit/s'],
    [2.5e9, '2.5 Gbit/s'],
    [8, '8 bit/s'],
  ])('formatBandwidth(%d) = %s', (bps, s) => {
    expect(formatBandwidth(bps)).toBe(s);
  });

  it('formats rates and percentages', () => {
    expect(formatRate(20000)).toBe('20000/s');
    expect(formatPercent(0.05)).toBe('5%');
  });

  it('durations and bandwidths parse back to within rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (n) => {
        const tol = Math.max(1, n * 1e-3);
        expect(Math.abs(parseDuration(formatDuration(n)) - n)).toBeLessThanOrEqual(tol);
        expect(Math.abs(parseBandwidth(formatBandwidth(n)) - n)).toBeLessThanOrEqual(tol);
      }),
    );
  });

  it('round sizes parse back exactly; others read rounded', () => {
    const units = [1, 1000, 1024, 1e6, 1024 ** 2, 1e9, 1024 ** 3];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(...units), (k, u) => {
        expect(parseSize(formatBytes(k * u))).toBe(k * u);
      }),
    );
    expect(formatBytes(1536001)).toBe('1536.001 KB');
    expect(formatBytes(15360001)).toBe('14.648 MiB');
  });
});

describe('formatElapsed: a measured duration in the largest sensible unit', () => {
  const ms = 1e6;
  const sec = 1e9;
  it.each([
    [0, '0 ms'],
    [0.001 * ms, '0.001 ms'],
    [0.150798 * ms, '0.15 ms'],
    [9.092276 * ms, '9.09 ms'],
    [261.832608 * ms, '261.8 ms'],
    [999.96 * ms, '1.00 s'], // rounds up into the next unit, not "1000.0 ms"
    [9406.463904 * ms, '9.41 s'],
    [59.5 * sec, '59.5 s'],
    [59.96 * sec, '1 m 0 s'],
    [109.786 * sec, '1 m 50 s'],
    [511.387650726 * sec, '8 m 31 s'],
    [3599.6 * sec, '1 h 0 m'],
    [(2 * 3600 + 5 * 60 + 20) * sec, '2 h 5 m'],
    // 667041.1366 s = 7 d (604800 s) + 62241 s = 17 h 17 min
    [667041.1366 * sec, '7 d 17 h'],
    // 667041136.6 s (the table printed it in seconds) = 7720 d + 33136.6 s = 9.2 h
    [667041136.6 * sec, '7720 d 9 h'],
    [-1.5 * sec, '-1.50 s'],
  ])('formatElapsed(%d) = %s', (ns, text) => {
    expect(formatElapsed(ns)).toBe(text);
  });

  it('each step reads in whole units of the next one down', () => {
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 400 * 86400 }), (secs) => {
        const text = formatElapsed(secs * sec);
        const m = /^(\d+) (d|h|m) (\d+) (h|m|s)$/.exec(text);
        expect(m).not.toBeNull();
        const [big, small] = [Number(m![1]), Number(m![3])];
        const steps: Record<string, readonly [number, number]> = { d: [86400, 3600], h: [3600, 60], m: [60, 1] };
        const [unit, sub] = steps[m![2]!]!;
        expect(small).toBeLessThan(unit / sub);
        // within half the smaller unit of the value
        expect(Math.abs(big * unit + small * sub - secs)).toBeLessThanOrEqual(sub / 2);
      }),
    );
  });
});
