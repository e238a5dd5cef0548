// Collects one file's errors: a check names a field path and what it expected, and gets back
// a ScenarioError located through the source map, showing the value that was there.

import { describeValue } from '../units.js';
import { formatPath, type PathSegment, ScenarioError, type ScenarioErrorInit } from './errors.js';
import type { SourceMap } from './source-map.js';

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
export class Problems {
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
