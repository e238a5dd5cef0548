// The sweep file (docs/sweeps.md): `sweep` (its name), `base` (a scenario file, relative to
// the sweep file), `vary` (field path → list of values; every combination is a point) and
// `seeds` (a count, seeds 1..N, or a list). Read as untrusted input: bounded in size, every
// problem one line `file:line:col: field: what is wrong`, collected in one pass.

import { dirname, resolve } from 'node:path';
import { BoundedReadError, readBounded } from '../read-bounded.js';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { KeyError, type KeyPath, parseKey } from './keys.js';

/** Bounds on a sweep, each with why. */
export const SWEEP_LIMITS = {
  fileBytes: { value: 256 * 1024, why: 'a sweep file lists fields and values, never data' },
  keys: { value: 16, why: 'each varied field multiplies the points' },
  valuesPerKey: { value: 1000, why: 'a figure has at most a few hundred points on an axis' },
  seeds: { value: 10_000, why: 'a 95 % interval narrows as 1/√n: 10,000 seeds is 1 % of one seed\'s spread' },
  runs: { value: 200_000, why: 'points × seeds; each run is a ~1.5 KB line of the journal, read back whole by --resume and kept in memory for the CSVs' },
} as const;

export type SweepValue = string | number | boolean;

export interface VariedField {
  /** the key as written in the file */
  key: string;
  path: KeyPath;
  values: SweepValue[];
}

export interface SweepFile {
  /** the sweep's name: it names results/<sweep>/ */
  name: string;
  /** the sweep file as given */
  file: string;
  /** the base scenario's path, resolved against the sweep file's directory */
  base: string;
  /** `base` as written */
  baseAsWritten: string;
  vary: VariedField[];
  /** the seeds each point runs with; null: the base scenario's own seed, once */
  seeds: number[] | null;
  /** the file's bytes as text, for the resume check */
  text: string;
}

export class SweepFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SweepFileError';
  }
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const MAX_SEED = 0xffff_ffff;

function readSweepText(file: string): string {
  const max = SWEEP_LIMITS.fileBytes.value;
  let bytes: Buffer;
  try {
    bytes = readBounded(file, max);
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    const p = e.problem;
    throw new SweepFileError([
      p.kind === 'unreadable'
        ? `${file}: could not read the sweep file (${p.code === 'EISDIR' ? 'it is a directory' : (p.code ?? p.why)})`
        : `${file}: the sweep file is larger than ${max / 1024} KiB (${SWEEP_LIMITS.fileBytes.why})`,
    ]);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SweepFileError([`${file}: the sweep file is not UTF-8 text`]);
  }
}

export function loadSweepFile(file: string): SweepFile {
  return parseSweepFile(readSweepText(file), file);
}

/** Parses a sweep file's text; `file` names it in errors and anchors `base`. */
export function parseSweepFile(text: string, file: string): SweepFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: Node | null | undefined, field: string, what: string) => {
    const pos = node?.range ? lines.linePos(node.range[0]) : null;
    problems.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${field ? `${field}: ` : ''}${what}`);
  };
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw new SweepFileError(problems);
  const root = doc.contents;
  if (!isMap(root)) throw new SweepFileError([`${file}: expected a mapping with sweep, base, vary and seeds`]);

  const known = new Set(['sweep', 'base', 'vary', 'seeds', 'description']);
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!known.has(k)) at(pair.key as Node, k, `unknown key; expected one of ${[...known].join(', ')}`);
  }
  const field = (k: string) => root.get(k, true) as Node | undefined;

  const nameNode = field('sweep');
  let name = '';
  if (!isScalar(nameNode) || typeof nameNode.value !== 'string' || !NAME.test(nameNode.value) || nameNode.value.length > 100) {
    at(nameNode, 'sweep', 'expected a name of lower-case letters, digits and dashes (at most 100), such as bw-vs-limit: it names results/<sweep>/');
  } else name = nameNode.value;

  const baseNode = field('base');
  let base = '';
  let baseAsWritten = '';
  if (!isScalar(baseNode) || typeof baseNode.value !== 'string' || baseNode.value === '') {
    at(baseNode, 'base', 'expected the path of a scenario file, relative to this sweep file, such as ../quickstart.yaml');
  } else {
    baseAsWritten = baseNode.value;
    base = resolve(dirname(file), baseNode.value);
  }

  const vary: VariedField[] = [];
  const varyNode = field('vary');
  if (!isMap(varyNode) || varyNode.items.length === 0) {
    at(varyNode, 'vary', 'expected a mapping of field paths to lists of values, such as { migrations[0].downtimeLimit: [30ms, 300ms] }');
  } else if (varyNode.items.length > SWEEP_LIMITS.keys.value) {
    at(varyNode, 'vary', `expected at most ${SWEEP_LIMITS.keys.value} fields (${SWEEP_LIMITS.keys.why}); got ${varyNode.items.length}`);
  } else {
    for (const pair of varyNode.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      let path: KeyPath | null = null;
      try {
        path = parseKey(key);
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
        at(keyNode, `vary.${key}`, e.message);
      }
      const list = pair.value as Node | null;
      if (!isSeq(list) || list.items.length === 0) {
        at(list ?? keyNode, `vary.${key}`, 'expected a non-empty list of values, such as [1Gbit/s, 10Gbit/s]');
        continue;
      }
      if (list.items.length > SWEEP_LIMITS.valuesPerKey.value) {
        at(list, `vary.${key}`, `expected at most ${SWEEP_LIMITS.valuesPerKey.value} values (${SWEEP_LIMITS.valuesPerKey.why}); got ${list.items.length}`);
        continue;
      }
      const values: SweepValue[] = [];
      const seen = new Set<string>();
      for (const [i, item] of list.items.entries()) {
        const v = isScalar(item) ? item.value : undefined;
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          at(item as Node, `vary.${key}[${i}]`, 'expected a single value (text, number or true/false), not a list, mapping or null');
          continue;
        }
        if (typeof v === 'number' && !Number.isFinite(v)) {
          at(item as Node, `vary.${key}[${i}]`, 'expected a finite number');
          continue;
        }
        if (seen.has(JSON.stringify(v))) at(item as Node, `vary.${key}[${i}]`, `${JSON.stringify(v)} is listed twice: each value is a point`);
        seen.add(JSON.stringify(v));
        values.push(v);
      }
      if (path && vary.some((f) => f.key === key)) at(keyNode, `vary.${key}`, 'listed twice');
      if (path) vary.push({ key, path, values });
    }
  }

  const seedsNode = field('seeds');
  let seeds: number[] | null = null;
  const seedWords = `a count N (seeds 1..N, at most ${SWEEP_LIMITS.seeds.value}) or a list of seeds from 0 to ${MAX_SEED}`;
  if (seedsNode !== undefined) {
    if (isScalar(seedsNode) && Number.isInteger(seedsNode.value) && (seedsNode.value as number) >= 1 && (seedsNode.value as number) <= SWEEP_LIMITS.seeds.value) {
      seeds = Array.from({ length: seedsNode.value as number }, (_, i) => i + 1);
    } else if (isSeq(seedsNode) && seedsNode.items.length >= 1 && seedsNode.items.length <= SWEEP_LIMITS.seeds.value) {
      const list = seedsNode.items.map((n) => (isScalar(n) ? n.value : undefined));
      if (list.every((s) => Number.isInteger(s) && (s as number) >= 0 && (s as number) <= MAX_SEED) && new Set(list).size === list.length) seeds = list as number[];
      else at(seedsNode, 'seeds', `expected ${seedWords}, each once`);
    } else at(seedsNode, 'seeds', `expected ${seedWords}`);
  }

  const runs = vary.reduce((n, f) => n * f.values.length, 1) * (seeds?.length ?? 1);
  if (problems.length === 0 && runs > SWEEP_LIMITS.runs.value) {
    at(varyNode, 'vary', `the sweep has ${runs} runs (points × seeds); at most ${SWEEP_LIMITS.runs.value} (${SWEEP_LIMITS.runs.why})`);
  }
  if (problems.length > 0) throw new SweepFileError(problems);
  return { name, file, base, baseAsWritten, vary, seeds, text };
}
