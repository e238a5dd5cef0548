// A sweep's output directory and its journal: sweep.json says which sweep made it (a
// fingerprint of the sweep file, the base scenario and the migsim version); runs.ndjson gets
// one line per finished run, appended as it finishes, so an interrupted sweep loses nothing
// and `--resume` runs only what is missing. The journal is read back as untrusted input.

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BoundedReadError, readBounded } from '../model/read-bounded.js';
import type { RunRecord } from '../model/sweep/points-table.js';
import type { SweepPlan } from '../model/sweep/points.js';
import { VERSION } from '../model/version.js';

/** A journal that cannot be used; the message is one line naming the file and what is wrong. */
export class JournalError extends Error {}

/** A file of the sweep's directory that could not be written; the message names it and why. */
export class SweepWriteError extends Error {
  /** nothing of the sweep ran yet (the directory could not be made) */
  before = false;
}

/** Why a file-system call failed, short: its errno code (ENOSPC, EACCES …) or its message. */
export function fsReason(e: unknown): string {
  return (e as NodeJS.ErrnoException | null)?.code ?? (e instanceof Error ? e.message : String(e));
}

const MANIFEST = 'sweep.json';
const JOURNAL = 'runs.ndjson';
/** Longest journal line read back (a run of 10,000 migrations is ~30 MB of rows). */
const MAX_LINE = 64 << 20;
/** Largest journal read back: one string of it must fit V8's limit (~512 MiB); ~300,000 runs of one migration. */
const MAX_JOURNAL = 500 << 20;
/** Largest sweep.json read back (it is a few hundred bytes). */
const MAX_MANIFEST = 1 << 20;

export function fingerprint(plan: SweepPlan): string {
  const h = createHash('sha256');
  h.update(VERSION).update('\0').update(plan.sweep.text).update('\0').update(plan.baseText);
  return h.digest('hex');
}

/** results/<sweep>/<timestamp>/ — a new directory for a new sweep. */
export function newRunDir(root: string, name: string, stamp: string): string {
  const dir = join(root, name, stamp);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const err = new SweepWriteError(`${dir}: the sweep's directory could not be made (${fsReason(e)})`);
    err.before = true;
    throw err;
  }
  return dir;
}

/** The newest directory of a sweep under root (timestamps sort as text), or null. */
export function latestRunDir(root: string, name: string): string | null {
  const parent = join(root, name);
  if (!existsSync(parent)) return null;
  const dirs = readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(parent, d.name, MANIFEST)));
  const last = dirs.map((d) => d.name).sort().pop();
  return last === undefined ? null : join(parent, last);
}

export function writeManifest(dir: string, plan: SweepPlan): void {
  const m = {
    sweep: plan.sweep.name,
    file: plan.sweep.file,
    base: plan.sweep.baseAsWritten,
    migsim: VERSION,
    fingerprint: fingerprint(plan),
    points: plan.points.length,
    seeds: plan.seeds,
    runs: plan.points.length * plan.seeds.length,
  };
  try {
    writeFileSync(join(dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
  } catch (e) {
    const err = new SweepWriteError(`${join(dir, MANIFEST)}: could not be written (${fsReason(e)})`);
    err.before = true;
    throw err;
  }
}

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const record = z.union([
  z.strictObject({ point: z.number().int().min(0), seed: z.number().int().min(0), rows: z.array(z.record(z.string(), cell)) }),
  z.strictObject({ point: z.number().int().min(0), seed: z.number().int().min(0), error: z.string() }),
]);

/**
 * The runs already in `dir`'s journal, checked against the plan: a directory of another
 * sweep, or a line that is not a run of this plan, is a JournalError. A torn last line (a
 * run cut off mid-write) is dropped: that run is simply run again.
 */
export function readJournal(dir: string, plan: SweepPlan): RunRecord[] {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) throw new JournalError(`${dir}: not a sweep's directory (no ${MANIFEST})`);
  let manifest: { fingerprint?: unknown; sweep?: unknown };
  try {
    manifest = JSON.parse(readJournalFile(manifestPath, MAX_MANIFEST).toString('utf8'));
  } catch (e) {
    if (e instanceof JournalError) throw e;
    throw new JournalError(`${manifestPath}: not a sweep manifest (not JSON)`);
  }
  if (manifest.fingerprint !== fingerprint(plan)) {
    throw new JournalError(
      `${dir}: made by ${manifest.sweep === plan.sweep.name ? 'another version of this sweep' : `sweep ${JSON.stringify(manifest.sweep)}`} (its sweep file, base scenario or migsim version differ); resume only what made it, or start anew without --resume`,
    );
  }
  const path = join(dir, JOURNAL);
  if (!existsSync(path)) return [];
  const lines = readJournalFile(path, MAX_JOURNAL).toString('utf8').split('\n');
  const long = lines.findIndex((l) => l.length > MAX_LINE);
  if (long >= 0) throw new JournalError(`${path}:${long + 1}: a line longer than ${MAX_LINE >> 20} MiB`);
  const out: RunRecord[] = [];
  const seeds = new Set(plan.seeds);
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) break; // torn last line
      throw new JournalError(`${path}:${i + 1}: not a JSON line`);
    }
    const r = record.safeParse(parsed);
    if (!r.success || r.data.point >= plan.points.length || !seeds.has(r.data.seed)) {
      throw new JournalError(`${path}:${i + 1}: not a run of this sweep (point and seed out of its range, or fields missing)`);
    }
    const id = `${r.data.point}/${r.data.seed}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(r.data);
  }
  return out;
}

/** A file of the sweep's directory, bounded; a JournalError naming it when it cannot be read. */
function readJournalFile(path: string, max: number): Buffer {
  try {
    return readBounded(path, max);
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    const p = e.problem;
    throw new JournalError(p.kind === 'unreadable' ? `${path}: could not be read (${p.code ?? p.why})` : `${path}: larger than ${max >> 20} MiB, more than this version reads back`);
  }
}

/**
 * Appends finished runs to the journal. Lines are gathered and written together at most
 * FLUSH_MS after the first of them (or every FLUSH_LINES), so the main thread does not make a
 * system call per run while the threads wait for it; `flush` writes what is gathered (at the
 * end, and on Ctrl-C). A crash loses at most the runs of the last FLUSH_MS: --resume runs them again.
 */
export class Journal {
  private readonly path: string;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** a write that failed in the timer, given to the next caller */
  private failed: SweepWriteError | null = null;
  constructor(dir: string) {
    this.path = join(dir, JOURNAL);
  }
  /** Throws SweepWriteError when the journal cannot be written: the sweep must stop, not run on unrecorded. */
  append(r: RunRecord): void {
    if (this.failed) throw this.failed;
    this.pending.push(JSON.stringify(r));
    if (this.pending.length >= FLUSH_LINES) this.flush();
    else
      this.timer ??= setTimeout(() => {
        try {
          this.flush();
        } catch (e) {
          this.failed = e as SweepWriteError;
        }
      }, FLUSH_MS);
  }
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.failed) throw this.failed;
    if (this.pending.length === 0) return;
    try {
      appendFileSync(this.path, this.pending.join('\n') + '\n');
    } catch (e) {
      this.failed = new SweepWriteError(`${this.path}: could not be written (${fsReason(e)}); the sweep stops, the runs written before are kept`);
      throw this.failed;
    }
    this.pending = [];
  }
}

const FLUSH_MS = 200;
const FLUSH_LINES = 256;
