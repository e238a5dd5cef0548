// Reading a file a user named — a scenario, a sweep file, a result, a journal — whatever it
// turns out to be: at most `max` bytes are read (a huge file, or a device without end such
// as /dev/zero, is refused without reading it all), a directory is refused, and every failure
// is a BoundedReadError that the caller words for its own kind of file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type ReadProblem =
  /** could not be opened or read: `code` is the errno name (ENOENT …) when there is one */
  | { kind: 'unreadable'; why: string; code: string | null }
  /** more than `max` bytes: `size` when the file system says it, null for a stream without size */
  | { kind: 'too-big'; size: number | null };

export class BoundedReadError extends Error {
  constructor(readonly problem: ReadProblem) {
    super(problem.kind === 'unreadable' ? `could not read it (${problem.why})` : `larger than the limit${problem.size === null ? '' : ` (${problem.size} bytes)`}`);
    this.name = 'BoundedReadError';
  }
}

function unreadable(e: unknown): BoundedReadError {
  const code = (e as NodeJS.ErrnoException | null)?.code ?? null;
  return new BoundedReadError({ kind: 'unreadable', why: e instanceof Error ? e.message : String(e), code });
}

/** The file's bytes, at most `max` of them; throws BoundedReadError. */
export function readBounded(file: string, max: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw unreadable(e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new BoundedReadError({ kind: 'unreadable', why: 'it is a directory', code: 'EISDIR' });
    if (st.isFile() && st.size > max) throw new BoundedReadError({ kind: 'too-big', size: st.size });
    // a regular file's size, and one byte to see it did not grow; a stream, up to the limit
    let buf = Buffer.alloc(Math.min(max, st.isFile() ? st.size : max) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) buf = Buffer.concat([buf, Buffer.alloc(Math.min(buf.length, max + 1 - buf.length))]);
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) throw new BoundedReadError({ kind: 'too-big', size: null });
    }
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw unreadable(e);
  } finally {
    closeSync(fd);
  }
}
