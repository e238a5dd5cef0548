// Where results go, checked before a run starts, and written so that a failure to write
// loses nothing: every name a run will write is known first (same-named scenarios get
// -2, -3 …; names too long for a file system are shortened with a hash), every target is
// tried for writing (a directory, a device, a read-only or full place, a name too long are
// refused before the run: exit 2), and a file is written whole or not at all.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

/** Longest file name (bytes) on the file systems migsim writes to (Linux NAME_MAX). */
export const NAME_MAX = 255;
/** Longest path (bytes, with its terminating NUL: Linux PATH_MAX). */
export const PATH_MAX = 4096;
/** Longest scenario name used as is in a file or directory name; longer ones are shortened. */
export const STEM_MAX = 200;

/**
 * A scenario name as a file-name stem: characters other than A-Z a-z 0-9 . _ - become _
 * (the schema allows only a-z 0-9 -, so today nothing changes), and a name longer than
 * STEM_MAX bytes becomes its first STEM_MAX − 9 characters, '-' and 8 hex digits of the
 * SHA-256 of the whole name (the result file keeps the whole name).
 */
export function fileStem(name: string): string {
  let stem = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (stem === '' || /^\.+$/.test(stem)) stem = `_${stem}`;
  if (stem.length <= STEM_MAX) return stem;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${stem.slice(0, STEM_MAX - 9)}-${hash}`;
}

/** Now, as a file name takes it: 2026-12-06T02-40-12-345Z. */
export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** A `--out` naming the result file itself (one scenario) rather than a directory. */
export function isFileOut(out: string): boolean {
  return out.endsWith('.json');
}

/**
 * Each run's result file, in order: `--out x.json` (one scenario), `--out DIR` →
 * DIR/<name>.json, or results/<name>/<engine>-<stamp>.json; null when nothing is written
 * (`check` without --out). A name already taken in this command gets -2, -3 … before .json.
 */
export function planResultPaths(runs: { name: string; engine: string }[], out: string | undefined, write: boolean, stamp: string): (string | null)[] {
  const taken = new Set<string>();
  return runs.map(({ name, engine }) => {
    if (out === undefined && !write) return null;
    if (out !== undefined && isFileOut(out)) return out;
    const dir = out ?? join('results', fileStem(name));
    const base = out !== undefined ? fileStem(name) : `${engine}-${stamp}`;
    let path = join(dir, `${base}.json`);
    for (let k = 2; taken.has(resolve(path)); k++) path = join(dir, `${base}-${k}.json`);
    taken.add(resolve(path));
    return path;
  });
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  EEXIST: 'exists',
  ENOENT: 'no such file or directory',
  EIO: 'input/output error',
};

/** A file-system error as a short phrase ("permission denied"). */
export function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code && REASONS[code]) return REASONS[code]!;
  return e instanceof Error ? e.message : String(e);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

function isDevNull(st: Stats): boolean {
  const dn = statOrNull('/dev/null');
  return dn !== null && st.isCharacterDevice() && st.rdev === dn.rdev;
}

/**
 * Why `path` cannot receive a result file, or null when it can: tried for real (an existing
 * file is opened for writing without truncating it; in a new place a probe file is created
 * and removed in the nearest existing directory), so read-only mounts count too. A device
 * other than /dev/null (/dev/full …), a pipe or socket is refused: what a run writes there
 * would be lost.
 */
export function unwritableReason(path: string): string | null {
  const abs = resolve(path);
  if (Buffer.byteLength(abs) >= PATH_MAX) return `the path is too long (${Buffer.byteLength(abs)} bytes; at most ${PATH_MAX - 1})`;
  for (const part of abs.split(sep)) {
    const n = Buffer.byteLength(part);
    if (n > NAME_MAX) return `a path component is too long (${n} bytes; at most ${NAME_MAX}): "${part.slice(0, 24)}…"`;
  }
  try {
    const st = statOrNull(abs);
    if (st) {
      if (st.isDirectory()) return 'is a directory';
      if (!st.isFile()) return isDevNull(st) ? null : 'is not a regular file (a device, pipe or socket): the result would be lost; give a .json file or a directory';
      closeSync(openSync(abs, constants.O_WRONLY));
      return null;
    }
    let dir = dirname(abs);
    let dst = statOrNull(dir);
    while (dst === null && dirname(dir) !== dir) {
      dir = dirname(dir);
      dst = statOrNull(dir);
    }
    if (dst === null || !dst.isDirectory()) return `${dir} is not a directory`;
    const probe = join(dir, `.migsim-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      closeSync(openSync(probe, 'wx'));
    } catch (e) {
      return `cannot create a file in ${dir}: ${reasonOf(e)}`;
    }
    unlinkSync(probe);
    return null;
  } catch (e) {
    return reasonOf(e);
  }
}

/**
 * Write `text` to `path` whole or not at all: into a temporary file beside it, renamed over
 * it (a full disk leaves the old file, or none, never half a result). /dev/null is written
 * directly. Returns null, or why it failed.
 */
export function writeWhole(path: string, text: string): string | null {
  try {
    const st = statOrNull(path);
    if (st && !st.isFile() && !st.isDirectory()) {
      writeFileSync(path, text);
      return null;
    }
    mkdirSync(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.migsim-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // not made, or already gone
      }
      throw e;
    }
    return null;
  } catch (e) {
    return reasonOf(e);
  }
}
