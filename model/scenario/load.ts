// Scenario loader: a YAML file → validated, normalized Scenario (types.ts). The one
// validation `validate`, `run` and `check` share: everything an engine would refuse is found
// here, in one pass, before anything runs. Steps, each collecting every problem it finds:
// the file read with a size limit and checked as UTF-8; YAML syntax (with duplicate keys);
// list lengths (limits.ts) before anything is built; the zod schema (schema.ts; issues.ts
// words its errors) — after schema errors the rest runs on the entries the schema could read;
// cross-field checks and trace files (normalize.ts); what the engines cannot run
// (support.ts); the run's estimated memory and work (limits.ts). Errors are ScenarioErrors
// (errors.ts), located by source-map.ts.

import { type Document, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { BoundedReadError, readBounded } from '../read-bounded.js';
import { formatBytes, formatDuration } from '../units.js';
import { errorText, formatPath, type PathSegment, ScenarioError, throwAll } from './errors.js';
import { fallbackExpected, reportIssue } from './issues.js';
import { checkBudgets, LIMITS, type LimitName, limitPhrase } from './limits.js';
import type { Gaps } from './gaps.js';
import { normalize } from './normalize.js';
import { Problems } from './problems.js';
import { type RawScenario, scenarioSchema } from './schema.js';
import { rangeOf, SourceMap } from './source-map.js';
import { unsupported } from './support.js';
import type { Scenario } from './types.js';

export interface LoadOptions {
  /** read trace files outside the scenario file's directory (the CLI's --allow-outside) */
  allowOutside?: boolean;
}

/** Reads and loads a scenario file. Throws ScenarioError (ScenarioErrors for several). */
export function loadScenario(file: string, opts: LoadOptions = {}): Scenario {
  return loadScenarioText(file, opts).scenario;
}

/** Reads and loads a scenario file, and gives the text it loaded (a sweep sets its points' values in it). */
export function loadScenarioText(file: string, opts: LoadOptions = {}): { scenario: Scenario; text: string } {
  const bytes = readScenarioBytes(file);
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // not UTF-8: below
  }
  if (text !== null) return { scenario: parseScenario(text, file, opts), text };
  // say where, and go on with the rest of the file so every problem is listed
  const bad = firstInvalidUtf8(bytes);
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
  const lossy = new TextDecoder('utf-8').decode(bytes);
  return { scenario: parseText(lossy, file, opts, before.length), text: lossy };
}

/** The file's bytes, refusing more than the limit without reading them all (/dev/zero is a file too). */
function readScenarioBytes(file: string): Uint8Array {
  const max = LIMITS.scenarioFileBytes.value;
  try {
    return readBounded(file, max);
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    const p = e.problem;
    if (p.kind === 'unreadable') {
      throw new ScenarioError({ file, path: '', expected: 'a readable scenario file', problem: `could not read the file (${p.why})` });
    }
    throw new ScenarioError({
      file, path: '', expected: `a scenario file of ${limitPhrase('scenarioFileBytes')}`,
      problem: `the file's size is ${p.size === null ? `more than ${formatBytes(max)}` : formatBytes(p.size)}`,
    });
  }
}

/** Byte offset of the first byte that does not start a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    // overlong, surrogate and out-of-range forms
    const c1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    i += n + 1;
  }
  return b.length;
}

/** Loads a scenario from its text; `file` names it in errors and anchors relative trace paths. */
export function parseScenario(text: string, file: string, opts: LoadOptions = {}): Scenario {
  return parseText(text, file, opts, null);
}

/** The lists whose length is limited before anything is built from them. */
const COUNTED: readonly (readonly [string, LimitName])[] = [
  ['hosts', 'hosts'],
  ['vms', 'vms'],
  ['migrations', 'migrations'],
  ['multicastSources', 'multicastSources'],
  ['faults', 'faults'],
  ['expect', 'expectKeys'],
];

/** `notUtf8`: where the file's first non-UTF-8 byte was (a character offset in `text`), if any. */
function parseText(text: string, file: string, opts: LoadOptions, notUtf8: number | null): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(doc, lines);

  const early = yamlErrors(doc, source, file);
  if (notUtf8 !== null) {
    const where = source.at(notUtf8);
    early.push(
      new ScenarioError({
        file,
        path: doc.errors.length === 0 ? formatPath(source.pathAt(notUtf8)) : '',
        expected: 'UTF-8 text',
        problem: 'the bytes here are not UTF-8',
        line: where.line,
        column: where.column,
      }),
    );
  }
  if (doc.errors.length > 0) throwAll(early);
  return fromDocument(doc, source, file, opts, early);
}

/**
 * Loads a scenario from a YAML document already parsed from a file's text with `lines` (a
 * sweep's point: the base's document, cloned, with the point's values set). Errors name the
 * base file's lines where the node came from it, and no line where the sweep set it.
 */
export function parseScenarioDocument(doc: Document, lines: LineCounter, file: string, opts: LoadOptions = {}): Scenario {
  const source = new SourceMap(doc, lines);
  const early = yamlErrors(doc, source, file);
  if (doc.errors.length > 0) throwAll(early);
  return fromDocument(doc, source, file, opts, early);
}

function fromDocument(doc: Document, source: SourceMap, file: string, opts: LoadOptions, early: ScenarioError[]): Scenario {
  let raw: unknown;
  try {
    raw = doc.toJS(); // its default alias limit refuses billion-laughs expansion
  } catch (e) {
    throw new ScenarioError({ file, path: '', expected: 'valid YAML', problem: errorText(e) });
  }

  if (doc.contents === null) {
    throw new ScenarioError({ file, path: '', expected: 'a scenario with name, hosts and vms', problem: 'the file is empty' });
  }

  const problems = new Problems(file, source, raw);
  for (const e of early) problems.addError(e);

  // list lengths first: nothing is built from a list that is too long
  let tooMany = false;
  for (const [key, limit] of COUNTED) {
    const v = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
    const n = Array.isArray(v) ? v.length : v !== null && typeof v === 'object' && key === 'expect' ? Object.keys(v).length : 0;
    if (n > LIMITS[limit].value) {
      tooMany = true;
      problems.add([key], `${key === 'expect' ? 'bounds' : `${key} entries`}, ${limitPhrase(limit)}`, { problem: `${n} given`, key: true });
    }
  }
  if (tooMany || early.some((e) => e.expected !== 'UTF-8 text')) throwAll(problems.list);

  const parsed = scenarioSchema.safeParse(raw, { error: fallbackExpected });
  let data: RawScenario;
  let gaps: Gaps | null = null;
  if (parsed.success) {
    data = parsed.data;
  } else {
    for (const issue of parsed.error.issues) reportIssue(issue, problems);
    const repaired = repair(raw, parsed.error.issues);
    if (!repaired) throwAll(problems.list);
    ({ data, gaps } = repaired);
  }

  const scenario = normalize(data, file, problems, { source: raw, allowOutside: opts.allowOutside ?? false, gaps });
  const skips = { duration: gaps?.dropped.has('duration') ?? false, dhcp: gaps?.dropped.has('dhcp') ?? false };
  for (const u of unsupported(scenario, skips)) problems.add(remap(u.path, gaps), u.expected, { problem: u.message });
  checkScenarioLimits(scenario, problems, gaps);
  if (problems.list.length > 0) throwAll(problems.list);
  return scenario;
}

/** Limits across fields (a field on its own is limited by the schema), then the run's estimate. */
function checkScenarioLimits(s: Scenario, problems: Problems, gaps: Gaps | null): void {
  const total = s.vms.reduce((sum, v) => sum + v.memoryBytes, 0);
  if (total > LIMITS.totalMemory.value) {
    const biggest = s.vms.reduce((b, v, i) => (v.memoryBytes > (s.vms[b]?.memoryBytes ?? 0) ? i : b), 0);
    problems.add(['vms', gaps?.index.vms[biggest] ?? biggest, 'memory'], `VMs of ${limitPhrase('totalMemory')} in all`, {
      problem: `the VMs total ${formatBytes(total)}`,
    });
  }
  let pagesOk = true;
  s.vms.forEach((v, k) => {
    if (v.pageCount > LIMITS.pageCount.value) {
      pagesOk = false;
      problems.add(['vms', gaps?.index.vms[k] ?? k, 'memory'], `${limitPhrase('pageCount')} pages; try a larger pageSize`, {
        problem: `${v.name}'s ${formatBytes(v.memoryBytes)} is ${v.pageCount} pages of ${formatBytes(v.pageSize)}`,
      });
    }
  });
  if (s.dhcp && s.durationNs !== null) {
    const renewals = s.durationNs / (s.dhcp.leaseTimeNs / 2);
    if (renewals > LIMITS.leaseRenewals.value) {
      problems.add(['dhcp', 'leaseTime'], `a lease renewed ${limitPhrase('leaseRenewals')} times in the run; try a longer leaseTime or a shorter duration`, {
        problem: `each VM would renew ${Math.round(renewals)} times (at T1, every ${formatDuration(s.dhcp.leaseTimeNs / 2)}, for ${formatDuration(s.durationNs)})`,
      });
    }
  }
  // the estimate needs the fields it reads: skip it when the schema dropped one of them
  const needed = ['fidelity', 'network', 'duration', 'dhcp', 'switch', 'probe'];
  if (!pagesOk || (gaps && needed.some((k) => gaps.dropped.has(k)))) return;
  checkBudgets(s, { add: (path, expected, opts) => problems.add(remap(path, gaps), expected, opts) });
}

/** A path into the scenario's lists → the same entry's place in the file (the schema may have dropped some). */
function remap(path: readonly PathSegment[], gaps: Gaps | null): PathSegment[] {
  const [list, i, ...rest] = path;
  if (!gaps || typeof i !== 'number' || (list !== 'vms' && list !== 'hosts' && list !== 'multicastSources')) return [...path];
  return [list, gaps.index[list][i] ?? i, ...rest];
}

const LISTS = ['hosts', 'vms', 'migrations', 'multicastSources'] as const;
type ListKey = (typeof LISTS)[number];

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * After schema errors (already reported): the scenario without the entries and top-level
 * fields that had them, parsed again, so the later checks can run on the rest. Null when
 * nothing sensible is left (no hosts or VMs to check against).
 */
function repair(raw: unknown, issues: readonly { code: string; path: readonly PropertyKey[] }[]): { data: RawScenario; gaps: Gaps } | null {
  if (!isRecord(raw)) return null;
  const fixed: Record<string, unknown> = { ...raw };
  const badItems = new Map<ListKey, Set<number>>(LISTS.map((k) => [k, new Set<number>()]));
  const dropped = new Set<string>();
  const badBounds = new Set<string>();
  for (const issue of issues) {
    const [top, second] = issue.path;
    if (top === undefined) {
      if (issue.code !== 'unrecognized_keys') return null;
      continue; // unknown top-level keys: dropped below with every other key not in the schema
    }
    const key = String(top);
    const list = (LISTS as readonly string[]).includes(key) ? (key as ListKey) : null;
    if (list && typeof second === 'number') badItems.get(list)?.add(second);
    else if (list === 'hosts' || list === 'vms') return null;
    else if (key === 'expect' && second !== undefined) badBounds.add(String(second));
    else if (key === 'name') fixed.name = 'unnamed';
    else dropped.add(key);
  }
  const known = new Set(Object.keys(scenarioSchema.shape));
  for (const k of Object.keys(fixed)) if (!known.has(k)) delete fixed[k];
  for (const k of dropped) delete fixed[k];

  const index = { hosts: [] as number[], vms: [] as number[], migrations: [] as number[], multicastSources: [] as number[] };
  const names = (list: ListKey, field: string): Set<string> | null => {
    const out = new Set<string>();
    const items = raw[list];
    for (const i of badItems.get(list) ?? []) {
      const item = Array.isArray(items) ? items[i] : undefined;
      const name = typeof item === 'string' && list === 'hosts' ? item : isRecord(item) ? item[field] : undefined;
      if (typeof name !== 'string') return null;
      out.add(name);
    }
    return out;
  };
  for (const list of LISTS) {
    const items = fixed[list];
    if (!Array.isArray(items)) continue;
    const bad = badItems.get(list) ?? new Set<number>();
    fixed[list] = items.filter((_, i) => {
      if (bad.has(i)) return false;
      index[list].push(i);
      return true;
    });
  }
  if (isRecord(fixed.expect) && badBounds.size > 0) {
    fixed.expect = Object.fromEntries(Object.entries(fixed.expect).filter(([k]) => !badBounds.has(k)));
  }
  const again = scenarioSchema.safeParse(fixed, { error: fallbackExpected });
  if (!again.success) return null;
  const droppedMigrations = names('migrations', 'vm');
  return {
    data: again.data,
    gaps: {
      index,
      dropped,
      droppedHosts: names('hosts', 'name'),
      droppedVms: names('vms', 'name'),
      vmsWithDroppedMigrations: dropped.has('migrations') ? null : droppedMigrations,
      droppedSources: dropped.has('multicastSources') || (badItems.get('multicastSources')?.size ?? 0) > 0,
    },
  };
}

/** YAML syntax errors, duplicate keys, and keys that are not plain scalars (JS objects cannot hold them). */
function yamlErrors(doc: Document, source: SourceMap, file: string): ScenarioError[] {
  const out: ScenarioError[] = [];
  for (const err of doc.errors) {
    const offset = err.pos[0];
    const where = source.at(offset);
    const duplicate = err.code === 'DUPLICATE_KEY';
    // in a document that did not parse, the node around an offset says little; a duplicate key's does
    const path = duplicate ? formatPath(source.pathAt(offset)) : '';
    const problem = duplicate ? 'duplicate key' : (err.message.split('\n')[0] ?? err.message);
    out.push(
      new ScenarioError({
        file,
        path,
        expected: duplicate ? 'each key once per mapping' : 'valid YAML',
        problem,
        line: where.line,
        column: where.column,
      }),
    );
  }
  if (out.length > 0) return out;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) || pair.key === null) return;
      const r = rangeOf(pair.key);
      const where = r ? source.at(r[0]) : undefined;
      out.push(
        new ScenarioError({
          file,
          path: formatPath(r ? source.pathAt(r[0]) : []),
          expected: 'a plain key such as memory',
          problem: 'a key must be a plain name, not a list, mapping or alias',
          ...(where ?? {}),
        }),
      );
    },
  });
  return out;
}
