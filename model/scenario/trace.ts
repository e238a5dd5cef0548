// Page-access trace files (a `trace` workload): `timeUs page` lines. readTrace reads the file
// a scenario names as a stream, within the limits of limits.ts (bytes, line length, writes),
// only from inside the scenario's directory unless allowed, and reports through the loader;
// parseTrace parses a text already read. Errors name the file, the line and what was
// expected — never the file's bytes. Imports neither yaml nor zod: the host agent uses it too.

import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import * as nodePath from 'node:path';
import { formatBytes } from '../units.js';
import { errorText, formatPath, type PathSegment, ScenarioError, throwAll } from './errors.js';
import { LIMITS, limitPhrase } from './limits.js';
import type { PageTrace } from './types.js';

/** Where readTrace reports (the loader's Problems, problems.ts). */
export interface TraceProblems {
  add(path: readonly PathSegment[], expected: string, opts?: { problem?: string }): void;
  addError(e: ScenarioError): void;
}

export interface TraceReadOptions {
  /** the scenario file's directory: the trace must resolve inside it */
  root?: string;
  /** read a trace outside `root` too (the CLI's --allow-outside) */
  allowOutside?: boolean;
}

/** Stop listing a trace file's errors after this many: one cause usually repeats. */
const MAX_TRACE_ERRORS = 10;
const CHUNK_BYTES = 64 * 1024;

/** Whether `file` (resolved, symlinks followed) lies inside `root`. */
function inside(root: string, file: string): boolean {
  const rel = nodePath.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !nodePath.isAbsolute(rel);
}

/** Reads the trace file a workload names (`path`: that field); on a problem it reports and returns an empty trace. */
export function readTrace(
  traceFile: string,
  pageCount: number,
  path: PathSegment[],
  loop: boolean,
  problems: TraceProblems,
  opts: TraceReadOptions = {},
): PageTrace {
  let real: string;
  try {
    real = realpathSync(traceFile);
  } catch (e) {
    problems.add(path, 'a readable trace file', { problem: `could not read ${traceFile} (${errorText(e)})` });
    return emptyTrace();
  }
  if (opts.root !== undefined && !opts.allowOutside) {
    let root = opts.root;
    try {
      root = realpathSync(opts.root);
    } catch {
      // the scenario came from text: compare against the directory as given
    }
    if (!inside(root, real)) {
      problems.add(path, `a trace file inside ${root} (or --allow-outside)`, {
        problem: `${traceFile} is outside the scenario's directory`,
      });
      return emptyTrace();
    }
  }
  const builder = new TraceBuilder(traceFile, pageCount, formatPath(path));
  try {
    streamLines(real, traceFile, builder);
  } catch (e) {
    problems.add(path, 'a readable trace file', { problem: `could not read ${traceFile} (${errorText(e)})` });
    return emptyTrace();
  }
  if (builder.errors.length > 0) {
    for (const err of builder.errors) problems.addError(err);
    return emptyTrace();
  }
  const trace = builder.finish();
  if (loop && trace.spanNs <= 0) {
    problems.add([...path.slice(0, -1), 'loop'], 'loop: false, or a trace whose last time is above 0', {
      problem: `${traceFile} spans no time, so it cannot loop`,
    });
  }
  return trace;
}

/** Feeds the file's lines to `builder`, a chunk at a time, stopping at a limit or the error cap. */
function streamLines(real: string, shown: string, builder: TraceBuilder): void {
  const fd = openSync(real, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error('it is a directory');
    const maxBytes = LIMITS.traceFileBytes.value;
    if (st.isFile() && st.size > maxBytes) {
      builder.fail(0, 0, `a trace file of ${limitPhrase('traceFileBytes')}`, `${shown} is ${formatBytes(st.size)}`);
      return;
    }
    const maxLine = LIMITS.traceLineBytes.value;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const line = Buffer.allocUnsafe(maxLine);
    let lineLength = 0;
    let lineNo = 1;
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        builder.fail(lineNo, 0, `a trace file of ${limitPhrase('traceFileBytes')}`, `${shown} goes on past ${formatBytes(maxBytes)}`);
        return;
      }
      let start = 0;
      while (start < n) {
        const nl = buf.indexOf(10, start);
        const end = nl < 0 || nl >= n ? n : nl;
        const piece = end - start;
        if (lineLength + piece > maxLine) {
          builder.fail(lineNo, 0, `lines of ${limitPhrase('traceLineBytes')}`, `line ${lineNo} is longer`);
          return;
        }
        buf.copy(line, lineLength, start, end);
        lineLength += piece;
        if (end === n) break; // the line goes on in the next chunk
        if (!builder.line(line.subarray(0, lineLength), lineNo)) return;
        lineNo++;
        lineLength = 0;
        start = end + 1;
      }
    }
    if (lineLength > 0) builder.line(line.subarray(0, lineLength), lineNo);
  } finally {
    closeSync(fd);
  }
}

function emptyTrace(): PageTrace {
  return { timesNs: new Float64Array(0), pages: new Uint32Array(0), spanNs: 0 };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses trace lines into growing typed arrays (12 bytes a write), collecting at most
 * MAX_TRACE_ERRORS errors. An error says what was expected and where, not what was there.
 */
class TraceBuilder {
  readonly errors: ScenarioError[] = [];
  private times = new Float64Array(1024);
  private pages = new Uint32Array(1024);
  private count = 0;
  private last = 0;

  constructor(
    private readonly traceFile: string,
    private readonly pageCount: number,
    private readonly fieldPath: string,
  ) {}

  /** Records an error; line 0 = the file as a whole. */
  fail(line: number, column: number, expected: string, problem: string): void {
    this.errors.push(
      new ScenarioError({
        file: this.traceFile,
        path: this.fieldPath,
        expected,
        problem,
        ...(line > 0 ? { line } : {}),
        ...(line > 0 && column > 0 ? { column } : {}),
      }),
    );
  }

  /** One line's bytes (no newline); false once parsing should stop. */
  line(bytes: Uint8Array, lineNo: number): boolean {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      this.fail(lineNo, 0, 'text lines "timeUs page"', `line ${lineNo} is not UTF-8 text`);
      return this.errors.length < MAX_TRACE_ERRORS;
    }
    return this.text(text, lineNo);
  }

  /** One line's text (no newline); false once parsing should stop. */
  text(raw: string, lineNo: number): boolean {
    const content = raw.replace(/#.*/, '');
    const fields = [...content.matchAll(/\S+/g)];
    if (fields.length === 0) return true;
    const [timeTok, pageTok] = fields;
    const col = (m: RegExpMatchArray | undefined) => (m?.index ?? 0) + 1;
    const stop = () => this.errors.length < MAX_TRACE_ERRORS;
    if (fields.length !== 2 || !timeTok || !pageTok) {
      this.fail(lineNo, col(fields[0]), 'a line "timeUs page", such as "1500 42"', `line ${lineNo} has ${fields.length} field${fields.length === 1 ? '' : 's'}`);
      return stop();
    }
    if (!/^\d+(\.\d+)?$/.test(timeTok[0])) {
      const neg = /^-\d/.test(timeTok[0]);
      this.fail(lineNo, col(timeTok), neg ? 'a time in microseconds, not negative' : 'a time in microseconds such as 1500', neg ? 'the time is negative' : 'the time is not a number');
      return stop();
    }
    if (!/^\d+$/.test(pageTok[0])) {
      const neg = /^-\d/.test(pageTok[0]);
      this.fail(lineNo, col(pageTok), neg ? 'a page number, not negative' : 'a whole page number such as 42', neg ? 'the page is negative' : 'the page is not a whole number');
      return stop();
    }
    const ns = Math.round(Number(timeTok[0]) * 1000);
    const page = Number(pageTok[0]);
    if (!Number.isSafeInteger(ns)) {
      this.fail(lineNo, col(timeTok), 'a time below 2^53 ns', 'the time is too large');
      return stop();
    }
    if (page >= this.pageCount || page > 0xffffffff) {
      this.fail(lineNo, col(pageTok), `a page number below ${this.pageCount} (the VM's page count)`, 'the page is beyond the VM');
      return stop();
    }
    if (ns < this.last) {
      this.fail(lineNo, col(timeTok), 'times in non-decreasing order', "the time is before the previous line's");
      return stop();
    }
    if (this.count >= LIMITS.traceWrites.value) {
      this.fail(lineNo, 0, `a trace of ${limitPhrase('traceWrites')} writes`, `line ${lineNo} is one write too many`);
      return false;
    }
    this.last = ns;
    if (this.count === this.times.length) {
      const times = new Float64Array(this.count * 2);
      times.set(this.times);
      this.times = times;
      const pages = new Uint32Array(this.count * 2);
      pages.set(this.pages);
      this.pages = pages;
    }
    this.times[this.count] = ns;
    this.pages[this.count] = page;
    this.count++;
    return true;
  }

  finish(): PageTrace {
    return { timesNs: this.times.slice(0, this.count), pages: this.pages.slice(0, this.count), spanNs: this.last };
  }
}

/**
 * Parses a trace: lines `timeUs page` (whitespace-separated), `#` comments, blank lines.
 * Times are microseconds (decimals allowed), non-decreasing; pages are below `pageCount`.
 * Throws ScenarioError(s) naming the trace file and line; `fieldPath` is the scenario field that named it.
 */
export function parseTrace(text: string, traceFile: string, pageCount: number, fieldPath = ''): PageTrace {
  const builder = new TraceBuilder(traceFile, pageCount, fieldPath);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!builder.text(lines[i] ?? '', i + 1)) break;
  }
  if (builder.errors.length > 0) throwAll(builder.errors);
  return builder.finish();
}
