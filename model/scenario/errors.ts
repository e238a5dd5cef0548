// The loader's error type: ScenarioError is one problem in a scenario (or trace) file, named
// by file:line:column and field path; ScenarioErrors is several found in one pass. Every
// pass reports through these; nothing here reads YAML or knows the schema.

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

export function throwAll(errors: ScenarioError[]): never {
  // source order reads best: files in the order first met, then line (whole-file errors first); sort is stable
  const files = [...new Set(errors.map((e) => e.file))];
  const sorted = [...errors].sort(
    (a, b) =>
      files.indexOf(a.file) - files.indexOf(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  if (sorted.length === 1 && sorted[0]) throw sorted[0];
  throw new ScenarioErrors(sorted);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
