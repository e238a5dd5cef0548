// Scenario loader: YAML text → validated, normalized Scenario (types.ts).
// Three passes, each collecting every error it finds before failing:
//   1. YAML syntax (with duplicate keys), 2. the zod schema (fields on their own),
//   3. cross-field checks (references, capacity, migration order, expect keys, trace files).
// Every error carries file:line:column and the field path, mapped back through the YAML nodes.

import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { type Document, isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { EXPECTABLE_FIELDS, type ExpectableField, type Outcome } from '../result/format.js';
import { describeValue, formatBytes, formatDuration } from '../units.js';
import { defaultMac } from './defaults.js';
import { type RawBound, type RawMigration, type RawScenario, type RawVm, type RawWorkload, scenarioSchema } from './schema.js';
import type {
  Expectation,
  HostSpec,
  MigrationSpec,
  PageTrace,
  Scenario,
  VmSpec,
  WorkloadSpec,
} from './types.js';

export type PathSegment = string | number;

export interface ScenarioErrorInit {
  file: string;
  /** field path such as `vms[0].workload.hotset`; '' for the file as a whole */
  path: string;
  /** what would have been accepted, e.g. "a size such as 1GiB or 512MiB" */
  expected: string;
  /** what was there, already formatted (quoted string, number, "a list") */
  got?: string;
  /** what is wrong, when "expected X, got Y" does not say it (e.g. "vm1 is already on h2 at 2 s") */
  problem?: string;
  line?: number;
  column?: number;
}

/** One problem in a scenario (or trace) file. Its message is `file:line:col: path: ...`. */
export class ScenarioError extends Error {
  readonly file: string;
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly expected: string;
  readonly got?: string;
  readonly problem?: string;

  constructor(init: ScenarioErrorInit, message?: string) {
    super(message ?? formatMessage(init));
    this.name = 'ScenarioError';
    this.file = init.file;
    this.path = init.path;
    this.expected = init.expected;
    if (init.line !== undefined) this.line = init.line;
    if (init.column !== undefined) this.column = init.column;
    if (init.got !== undefined) this.got = init.got;
    if (init.problem !== undefined) this.problem = init.problem;
  }

  /** Every problem found: just this one here; the whole list on ScenarioErrors. */
  get errors(): readonly ScenarioError[] {
    return [this];
  }
}

/** Several problems in one file. Its fields are the first one's; its message has one line each. */
export class ScenarioErrors extends ScenarioError {
  readonly #list: readonly ScenarioError[];

  constructor(list: readonly ScenarioError[]) {
    const first = list[0];
    if (!first) throw new Error('ScenarioErrors needs at least one error');
    super(first, list.map((e) => e.message).join('\n'));
    this.name = 'ScenarioErrors';
    this.#list = list;
  }

  override get errors(): readonly ScenarioError[] {
    return this.#list;
  }
}

function formatMessage(e: ScenarioErrorInit): string {
  const where = e.line !== undefined ? `${e.file}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}` : e.file;
  const body = e.problem
    ? `${e.problem}; expected ${e.expected}`
    : `expected ${e.expected}${e.got !== undefined ? `, got ${e.got}` : ''}`;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${body}`;
}

/** `vms[0].workload.hotset`, `expect["vm1.downtimeMs"].max` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function throwAll(errors: ScenarioError[]): never {
  // source order reads best: files in the order first met, then line (whole-file errors first); sort is stable
  const files = [...new Set(errors.map((e) => e.file))];
  const sorted = [...errors].sort(
    (a, b) =>
      files.indexOf(a.file) - files.indexOf(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  if (sorted.length === 1 && sorted[0]) throw sorted[0];
  throw new ScenarioErrors(sorted);
}

// ---- positions: field path → YAML node → line:column -------------------------

type Range = readonly [number, number, number];

function rangeOf(node: unknown): Range | undefined {
  const r = (node as { range?: Range | null } | null | undefined)?.range;
  return r ?? undefined;
}

interface Located {
  line: number;
  column: number;
}

/** Maps field paths onto the parsed YAML so errors can say where. */
class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  at(offset: number): Located {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * The node at `path`, or the nearest existing parent. `key`: point at the key of the
   * last segment rather than its value (for unknown or misplaced keys).
   */
  locate(path: readonly PathSegment[], key = false): Located | undefined {
    let node: unknown = this.doc.contents;
    let range = rangeOf(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        const keyRange = rangeOf(pair.key);
        const valueRange = rangeOf(pair.value);
        range = last && key ? (keyRange ?? valueRange ?? range) : (valueRange ?? keyRange ?? range);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        range = rangeOf(item) ?? range;
        node = item;
      } else {
        break;
      }
    }
    return range ? this.at(range[0]) : undefined;
  }

  /** The path to the innermost node containing `offset` (for YAML errors such as duplicate keys). */
  pathAt(offset: number): PathSegment[] {
    const path: PathSegment[] = [];
    let node: unknown = this.doc.contents;
    const within = (n: unknown) => {
      const r = rangeOf(n);
      return r !== undefined && offset >= r[0] && offset < r[2];
    };
    for (let depth = 0; depth < 1000 && isCollection(node); depth++) {
      let next: unknown;
      if (isMap(node)) {
        for (const p of node.items) {
          if (within(p.key)) {
            if (isScalar(p.key)) path.push(String(p.key.value));
            return path;
          }
          if (within(p.value)) {
            if (!isScalar(p.key)) return path;
            path.push(String(p.key.value));
            next = p.value;
            break;
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          if (next === undefined && within(item)) {
            path.push(i);
            next = item;
          }
        });
      }
      if (next === undefined) return path;
      node = next;
    }
    return path;
  }
}

/** The raw (pre-schema) value at a path, undefined if absent. */
function rawAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let v = raw;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Object.prototype.hasOwnProperty.call(v, seg) ? (v as Record<PathSegment, unknown>)[seg] : undefined;
  }
  return v;
}

/** Cuts a path after the first scalar: `hosts[0].name` where hosts[0] is the string `h1` is shown as `hosts[0]`. */
function visiblePath(raw: unknown, path: readonly PathSegment[]): PathSegment[] {
  const out: PathSegment[] = [];
  let v = raw;
  for (const seg of path) {
    if (v !== undefined && (v === null || typeof v !== 'object')) break;
    out.push(seg);
    v = rawAt(v, [seg]);
  }
  return out;
}

/** Collects errors against one file; `add` is the one way a check reports. */
class Problems {
  readonly list: ScenarioError[] = [];

  constructor(
    readonly file: string,
    private readonly source: SourceMap,
    private readonly raw: unknown,
  ) {}

  add(
    path: readonly PathSegment[],
    expected: string,
    opts: { problem?: string; got?: string; key?: boolean } = {},
  ): void {
    const shown = visiblePath(this.raw, path);
    const value = rawAt(this.raw, path);
    const init: ScenarioErrorInit = { file: this.file, path: formatPath(shown), expected };
    const where = this.source.locate(shown, opts.key ?? false);
    if (where) {
      init.line = where.line;
      init.column = where.column;
    }
    if (opts.problem !== undefined) init.problem = opts.problem;
    else if (value === undefined && shown.length === path.length && path.length > 0) init.problem = 'missing';
    else init.got = opts.got ?? describeValue(value);
    this.list.push(new ScenarioError(init));
  }

  addError(e: ScenarioError): void {
    this.list.push(e);
  }
}

// ---- entry points ------------------------------------------------------------

/** Reads and loads a scenario file. Throws ScenarioError (ScenarioErrors for several). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError({
      file,
      path: '',
      expected: 'a readable scenario file',
      problem: `could not read the file (${errorText(e)})`,
    });
  }
  return parseScenario(text, file);
}

/** Loads a scenario from its text; `file` names it in errors and anchors relative trace paths. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(doc, lines);

  const syntax = yamlErrors(doc, source, file);
  if (syntax.length > 0) throwAll(syntax);

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
  const parsed = scenarioSchema.safeParse(raw, { error: fallbackExpected });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, problems);
    throwAll(problems.list);
  }

  const scenario = normalize(parsed.data, file, problems);
  if (problems.list.length > 0) throwAll(problems.list);
  return scenario;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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

// ---- schema issues → errors --------------------------------------------------

type Issue = z.core.$ZodIssue;

/** Wording for issues the schema did not phrase itself (it phrases nearly all). */
function fallbackExpected(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type':
      return iss.expected === 'object' ? 'a mapping' : iss.expected === 'array' ? 'a list' : `a ${iss.expected}`;
    case 'invalid_value':
      return `one of ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      return `at least ${String(iss.minimum)}`;
    case 'too_big':
      return `at most ${String(iss.maximum)}`;
    default:
      return 'a valid value';
  }
}

function pathOf(issue: Issue): PathSegment[] {
  return issue.path.filter((s): s is PathSegment => typeof s === 'string' || typeof s === 'number');
}

function reportIssue(issue: Issue, problems: Problems): void {
  const path = pathOf(issue);
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      const known = knownKeys(issue.message);
      const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      problems.add([...path, key], issue.message, {
        problem: `unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}`,
        key: true,
      });
    }
    return;
  }
  problems.add(path, issue.message);
}

/** The key list out of "one of a, b, c (…)" — the schema's unknown-key phrase. */
function knownKeys(phrase: string): string[] {
  const m = /^one of ([^(]*)/.exec(phrase);
  return m?.[1] ? m[1].split(',').map((k) => k.trim()).filter(Boolean) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ---- cross-field checks and normalization ------------------------------------

function normalize(raw: RawScenario, file: string, problems: Problems): Scenario {
  const hosts = normalizeHosts(raw, problems);
  const hostNames = new Set(hosts.map((h) => h.name));
  const vms = raw.vms.map((vm, i) => normalizeVm(vm, i, hostNames, file, problems));
  checkUniqueVms(vms, problems);
  const migrations = normalizeMigrations(raw, vms, hostNames, problems);
  checkCapacity(hosts, vms, migrations, problems);
  const expect = normalizeExpect(raw.expect, vms, migrations, problems);

  return {
    file,
    name: raw.name,
    description: raw.description,
    seed: raw.seed,
    engine: raw.engine,
    fidelity: raw.fidelity,
    durationNs: raw.duration ?? null,
    hosts,
    network: {
      migrationLink: { bandwidthBps: raw.network.migrationLink.bandwidth, latencyNs: raw.network.migrationLink.latency },
      accessLink: { bandwidthBps: raw.network.accessLink.bandwidth, latencyNs: raw.network.accessLink.latency },
    },
    dhcp: raw.dhcp ? { subnet: raw.dhcp.subnet, leaseTimeNs: raw.dhcp.leaseTime } : null,
    multicastSources: raw.multicastSources.map((m) => ({ group: m.group, rate: m.rate, sizeBytes: m.size })),
    probe: raw.probe ? { rate: raw.probe.rate } : null,
    switch: raw.switch
      ? {
          vdp: raw.switch.vdp,
          dhcpRebind: raw.switch.dhcpRebind,
          igmpRebind: raw.switch.igmpRebind,
          ipSourceGuard: raw.switch.ipSourceGuard,
          igmpQueryIntervalNs: raw.switch.igmpQueryInterval,
        }
      : null,
    vms,
    migrations,
    expect,
  };
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length > 0 ? all.join(', ') : '(none)';
}

function normalizeHosts(raw: RawScenario, problems: Problems): HostSpec[] {
  const seen = new Map<string, number>();
  return raw.hosts.map((h, i) => {
    const first = seen.get(h.name);
    if (first !== undefined) {
      problems.add(['hosts', i, 'name'], 'unique host names', {
        problem: `host ${JSON.stringify(h.name)} is listed twice (also hosts[${first}])`,
      });
    } else {
      seen.set(h.name, i);
    }
    return { name: h.name, memoryBytes: h.memory ?? null };
  });
}

function normalizeVm(vm: RawVm, i: number, hosts: Set<string>, file: string, problems: Problems): VmSpec {
  const at = (...rest: PathSegment[]) => ['vms', i, ...rest];
  if (!hosts.has(vm.host)) problems.add(at('host'), `one of the hosts: ${list(hosts)}`);

  const whole = vm.memory % vm.pageSize === 0;
  if (!whole) {
    problems.add(at('memory'), `a multiple of the page size (${formatBytes(vm.pageSize)})`);
  }
  const pageCount = Math.floor(vm.memory / vm.pageSize);

  return {
    name: vm.name,
    host: vm.host,
    memoryBytes: vm.memory,
    pageSize: vm.pageSize,
    pageCount,
    mac: vm.mac ?? defaultMac(i + 1),
    vlan: vm.vlan,
    vsiType: { id: vm.vsiType.id, version: vm.vsiType.version },
    multicast: vm.multicast,
    announceOnResume: vm.announceOnResume,
    zeroPages: vm.zeroPages,
    workload: normalizeWorkload(vm, pageCount, at('workload'), file, problems),
  };
}

function normalizeWorkload(
  vm: RawVm,
  pageCount: number,
  path: PathSegment[],
  file: string,
  problems: Problems,
): WorkloadSpec {
  const w: RawWorkload = vm.workload;
  switch (w.kind) {
    case 'idle':
      return { kind: 'idle' };
    case 'uniform':
    case 'sequential':
      return { kind: w.kind, writeRate: w.writeRate };
    case 'zipf':
      return { kind: 'zipf', writeRate: w.writeRate, skew: w.skew };
    case 'hotset':
      if (w.hotset < vm.pageSize || w.hotset > vm.memory) {
        problems.add(
          [...path, 'hotset'],
          `a size from one page (${formatBytes(vm.pageSize)}) to the VM's memory (${formatBytes(vm.memory)})`,
        );
      }
      return { kind: 'hotset', writeRate: w.writeRate, hotsetBytes: w.hotset };
    case 'trace': {
      const traceFile = nodePath.isAbsolute(w.file) ? w.file : nodePath.join(nodePath.dirname(file), w.file);
      const trace = readTrace(traceFile, pageCount, [...path, 'file'], w.loop, problems);
      return { kind: 'trace', file: traceFile, trace, loop: w.loop };
    }
  }
}

function checkUniqueVms(vms: VmSpec[], problems: Problems): void {
  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  vms.forEach((vm, i) => {
    const sameName = names.get(vm.name);
    if (sameName !== undefined) {
      problems.add(['vms', i, 'name'], 'unique VM names', {
        problem: `VM ${JSON.stringify(vm.name)} is defined twice (also vms[${sameName}])`,
      });
    } else {
      names.set(vm.name, i);
    }
    const sameMac = macs.get(vm.mac);
    if (sameMac !== undefined) {
      const other = vms[sameMac]?.name ?? '';
      problems.add(['vms', i, 'mac'], 'a MAC unique across VMs', {
        problem: `${vm.name}'s MAC ${vm.mac} is also ${other}'s`,
      });
    } else {
      macs.set(vm.mac, i);
    }
  });
}

/** Migration indices in the order they start: by `at`, ties in file order. */
function startOrder(migrations: readonly { atNs: number }[]): number[] {
  return migrations.map((_, i) => i).sort((a, b) => (migrations[a]?.atNs ?? 0) - (migrations[b]?.atNs ?? 0));
}

function normalizeMigrations(
  raw: RawScenario,
  vms: VmSpec[],
  hosts: Set<string>,
  problems: Problems,
): MigrationSpec[] {
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const where = new Map(vms.map((v) => [v.name, v.host]));
  const specs: MigrationSpec[] = raw.migrations.map((m: RawMigration, index) => ({
    index,
    vm: m.vm,
    from: '',
    to: m.to,
    atNs: m.at,
    mode: m.mode,
    downtimeLimitNs: m.downtimeLimit,
    maxRounds: m.maxRounds,
    bandwidthBps: m.bandwidth ?? null,
    deviceStateBytes: m.deviceState,
    autoConverge: m.autoConverge,
  }));

  for (const k of startOrder(specs)) {
    const m = specs[k];
    if (!m) continue;
    const at = (field: string) => ['migrations', k, field];
    if (raw.duration !== undefined && m.atNs >= raw.duration) {
      problems.add(at('at'), `a start before the end of the run (duration ${formatDuration(raw.duration)})`);
    }
    const current = where.get(m.vm);
    if (!vmByName.has(m.vm) || current === undefined) {
      problems.add(at('vm'), `one of the VMs: ${list(vmByName.keys())}`);
      continue;
    }
    m.from = current;
    if (!hosts.has(m.to)) {
      problems.add(at('to'), `one of the hosts: ${list(hosts)}`);
      continue;
    }
    if (m.to === current) {
      problems.add(at('to'), `a host other than ${current}`, {
        problem: `${m.vm} is already on ${current} at ${formatDuration(m.atNs)}`,
      });
      continue;
    }
    where.set(m.vm, m.to);
  }
  return specs;
}

/**
 * Host memory, when given, must hold what is placed on it: first the initial placement
 * (file order), then each migration's destination as it starts (the VM leaves its source then).
 */
function checkCapacity(hosts: HostSpec[], vms: VmSpec[], migrations: MigrationSpec[], problems: Problems): void {
  const capacity = new Map(hosts.map((h) => [h.name, h.memoryBytes]));
  const placed = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const used = (host: string) =>
    (placed.get(host) ?? []).reduce((sum, name) => sum + (vmByName.get(name)?.memoryBytes ?? 0), 0);

  /** Returns false (after reporting) when `vm` does not fit on `host`. */
  const place = (vm: VmSpec, host: string, path: PathSegment[], when: string): boolean => {
    const cap = capacity.get(host);
    const here = placed.get(host);
    if (cap === undefined || here === undefined) return false; // unknown host: reported elsewhere
    if (cap !== null) {
      if (vm.memoryBytes > cap) {
        problems.add(path, `a host with at least ${formatBytes(vm.memoryBytes)} of memory`, {
          problem: `${vm.name} needs ${formatBytes(vm.memoryBytes)} but ${host} has ${formatBytes(cap)}`,
        });
        return false;
      }
      const total = used(host) + vm.memoryBytes;
      if (total > cap) {
        problems.add(path, `VMs on ${host} that fit in its ${formatBytes(cap)}`, {
          problem: `${host} would hold ${formatBytes(total)}${when} (${[...here, vm.name].join(', ')})`,
        });
        return false;
      }
    }
    here.push(vm.name);
    return true;
  };

  vms.forEach((vm, i) => {
    const cap = capacity.get(vm.host);
    const tooBig = cap !== undefined && cap !== null && vm.memoryBytes > cap;
    place(vm, vm.host, ['vms', i, tooBig ? 'memory' : 'host'], '');
  });

  for (const k of startOrder(migrations)) {
    const m = migrations[k];
    const vm = m ? vmByName.get(m.vm) : undefined;
    if (!m || !vm || m.from === '' || !capacity.has(m.to) || m.to === m.from) continue;
    const from = placed.get(m.from);
    const idx = from?.indexOf(vm.name) ?? -1;
    if (from && idx >= 0) from.splice(idx, 1);
    place(vm, m.to, ['migrations', k, 'to'], ` at ${formatDuration(m.atNs)}`);
  }
}

/** Outcome values an `equals` may name; `satisfies` keeps it in step with result.ts. */
const OUTCOMES = ['completed', 'reverted', 'failed'] as const satisfies readonly Outcome[];

const EXPECT_KEY = /^([A-Za-z0-9_-]+)(?:\[(\d+)\])?\.([A-Za-z0-9_]+)$/;

function isExpectable(field: string): field is ExpectableField {
  return Object.prototype.hasOwnProperty.call(EXPECTABLE_FIELDS, field);
}

function normalizeExpect(
  raw: Record<string, RawBound>,
  vms: VmSpec[],
  migrations: MigrationSpec[],
  problems: Problems,
): Expectation[] {
  const vmNames = new Set(vms.map((v) => v.name));
  const counts = new Map<string, number>();
  for (const m of migrations) counts.set(m.vm, (counts.get(m.vm) ?? 0) + 1);
  const out: Expectation[] = [];

  for (const [key, bound] of Object.entries(raw)) {
    const keyPath: PathSegment[] = ['expect', key];
    const m = EXPECT_KEY.exec(key);
    if (!m) {
      problems.add(keyPath, 'a key VM.FIELD or VM[N].FIELD such as vm1.downtimeMs', {
        problem: `bad key ${JSON.stringify(key)}`,
        key: true,
      });
      continue;
    }
    const [, vm = '', n, field = ''] = m;
    if (!vmNames.has(vm)) {
      problems.add(keyPath, `a VM from vms: ${list(vmNames)}`, { problem: `no VM ${JSON.stringify(vm)}`, key: true });
      continue;
    }
    const count = counts.get(vm) ?? 0;
    const migration = n === undefined ? null : Number(n);
    if (count === 0) {
      problems.add(keyPath, 'a VM that is migrated', { problem: `${vm} has no migrations`, key: true });
      continue;
    }
    if (migration !== null && migration >= count) {
      problems.add(keyPath, `an index from 0 to ${count - 1}`, {
        problem: `${vm} has ${count} migration${count === 1 ? '' : 's'}, so there is no ${vm}[${migration}]`,
        key: true,
      });
      continue;
    }
    if (!isExpectable(field)) {
      problems.add(keyPath, `a result field: ${Object.keys(EXPECTABLE_FIELDS).join(', ')}`, {
        problem: `no result field ${JSON.stringify(field)}`,
        key: true,
      });
      continue;
    }
    if (checkBound(key, field, bound, problems)) {
      const e: Expectation = { key, vm, migration, field };
      if (bound.min !== undefined) e.min = bound.min;
      if (bound.max !== undefined) e.max = bound.max;
      if (bound.equals !== undefined) e.equals = bound.equals;
      out.push(e);
    }
  }
  return out;
}

/** The bound fits the field's kind; reports and returns false when not. */
function checkBound(key: string, field: ExpectableField, b: RawBound, problems: Problems): boolean {
  const path: PathSegment[] = ['expect', key];
  const kind = EXPECTABLE_FIELDS[field];
  const hasRange = b.min !== undefined || b.max !== undefined;
  if (!hasRange && b.equals === undefined) {
    problems.add(path, 'at least one of min, max, equals', { problem: 'an empty bound' });
    return false;
  }
  if (hasRange && b.equals !== undefined) {
    problems.add([...path, 'equals'], 'either equals or min/max', { problem: 'equals with min/max' , key: true });
    return false;
  }
  if (hasRange && kind !== 'number') {
    problems.add([...path, b.min !== undefined ? 'min' : 'max'], `equals: ${field} is a ${kind}`, {
      problem: `min/max on a ${kind} field`,
      key: true,
    });
    return false;
  }
  if (b.min !== undefined && b.max !== undefined && b.min > b.max) {
    problems.add([...path, 'min'], `min ≤ max (${b.max})`);
    return false;
  }
  if (b.equals !== undefined) {
    if (typeof b.equals !== kind) {
      problems.add([...path, 'equals'], kind === 'boolean' ? 'true or false' : `a ${kind}`);
      return false;
    }
    if (field === 'outcome' && !(OUTCOMES as readonly unknown[]).includes(b.equals)) {
      problems.add([...path, 'equals'], `one of ${OUTCOMES.join(', ')}`);
      return false;
    }
  }
  return true;
}

// ---- trace files -----------------------------------------------------------------

/** Stop listing a trace file's errors after this many: one cause usually repeats. */
const MAX_TRACE_ERRORS = 10;

function readTrace(
  traceFile: string,
  pageCount: number,
  path: PathSegment[],
  loop: boolean,
  problems: Problems,
): PageTrace {
  let text: string;
  try {
    text = readFileSync(traceFile, 'utf8');
  } catch (e) {
    problems.add(path, 'a readable trace file', { problem: `could not read ${traceFile} (${errorText(e)})` });
    return emptyTrace();
  }
  try {
    const trace = parseTrace(text, traceFile, pageCount, formatPath(path));
    if (loop && trace.spanNs <= 0) {
      problems.add([...path.slice(0, -1), 'loop'], 'loop: false, or a trace whose last time is above 0', {
        problem: `${traceFile} spans no time, so it cannot loop`,
      });
    }
    return trace;
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    for (const err of e.errors) problems.addError(err);
    return emptyTrace();
  }
}

function emptyTrace(): PageTrace {
  return { timesNs: new Float64Array(0), pages: new Uint32Array(0), spanNs: 0 };
}

/**
 * Parses a trace: lines `timeUs page` (whitespace-separated), `#` comments, blank lines.
 * Times are microseconds (decimals allowed), non-decreasing; pages are below `pageCount`.
 * Throws ScenarioError(s) naming the trace file and line; `fieldPath` is the scenario field that named it.
 */
export function parseTrace(text: string, traceFile: string, pageCount: number, fieldPath = ''): PageTrace {
  const times: number[] = [];
  const pages: number[] = [];
  const errors: ScenarioError[] = [];
  const fail = (line: number, column: number, expected: string, got?: string, problem?: string) => {
    const init: ScenarioErrorInit = { file: traceFile, path: fieldPath, expected, line, column };
    if (got !== undefined) init.got = got;
    if (problem !== undefined) init.problem = problem;
    errors.push(new ScenarioError(init));
  };

  const lines = text.split(/\r?\n/);
  let last = 0;
  for (let i = 0; i < lines.length && errors.length < MAX_TRACE_ERRORS; i++) {
    const lineNo = i + 1;
    const content = (lines[i] ?? '').replace(/#.*/, '');
    const fields = [...content.matchAll(/\S+/g)];
    if (fields.length === 0) continue;
    const [timeTok, pageTok] = fields;
    const col = (m: RegExpMatchArray | undefined) => (m?.index ?? 0) + 1;
    if (fields.length !== 2 || !timeTok || !pageTok) {
      fail(lineNo, col(fields[0]), 'a line "timeUs page", such as "1500 42"', JSON.stringify(content.trim()));
      continue;
    }
    if (!/^\d+(\.\d+)?$/.test(timeTok[0])) {
      const neg = /^-\d/.test(timeTok[0]);
      fail(lineNo, col(timeTok), neg ? 'a time in microseconds, not negative' : 'a time in microseconds such as 1500', JSON.stringify(timeTok[0]));
      continue;
    }
    if (!/^\d+$/.test(pageTok[0])) {
      const neg = /^-\d/.test(pageTok[0]);
      fail(lineNo, col(pageTok), neg ? 'a page number, not negative' : 'a whole page number such as 42', JSON.stringify(pageTok[0]));
      continue;
    }
    const ns = Math.round(Number(timeTok[0]) * 1000);
    const page = Number(pageTok[0]);
    if (!Number.isSafeInteger(ns)) {
      fail(lineNo, col(timeTok), 'a time below 2^53 ns', JSON.stringify(timeTok[0]));
      continue;
    }
    if (page >= pageCount || page > 0xffffffff) {
      fail(lineNo, col(pageTok), `a page number below ${pageCount} (the VM's page count)`, pageTok[0]);
      continue;
    }
    if (ns < last) {
      fail(lineNo, col(timeTok), 'times in non-decreasing order', undefined, `time ${timeTok[0]} us is before the previous line's ${last / 1000} us`);
      continue;
    }
    last = ns;
    times.push(ns);
    pages.push(page);
  }
  if (errors.length > 0) throwAll(errors);
  return { timesNs: Float64Array.from(times), pages: Uint32Array.from(pages), spanNs: last };
}
