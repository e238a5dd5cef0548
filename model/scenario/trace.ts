// Page-access trace files (a `trace` workload): parseTrace reads the text — `timeUs page`
// lines — into a PageTrace; readTrace reads the file a scenario names and reports through the
// loader. Imports neither yaml nor zod: the host agent parses traces with it too.

import { readFileSync } from 'node:fs';
import { errorText, formatPath, type PathSegment, ScenarioError, type ScenarioErrorInit, throwAll } from './errors.js';
import type { PageTrace } from './types.js';

/** Where readTrace reports (the loader's Problems, problems.ts). */
export interface TraceProblems {
  add(path: readonly PathSegment[], expected: string, opts?: { problem?: string }): void;
  addError(e: ScenarioError): void;
}

/** Stop listing a trace file's errors after this many: one cause usually repeats. */
const MAX_TRACE_ERRORS = 10;

/** Reads the trace file a workload names (`path`: that field); on a problem it reports and returns an empty trace. */
export function readTrace(
  traceFile: string,
  pageCount: number,
  path: PathSegment[],
  loop: boolean,
  problems: TraceProblems,
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
