// A result file read as untrusted input (`migsim compare`, `migsim report`): read whole up to a
// size limit, parsed, and checked field by field against a schema of what the command reads
// before anything uses it; anything else is bad input (exit 2) in one line naming the field.

import { z } from 'zod';
import { BoundedReadError, readBounded } from '../model/read-bounded.js';
import { BadInput } from './exit.js';

/** A result file is read whole; beyond this it is refused (a run's event log is at most ~100,000 events). */
export const MAX_RESULT_BYTES = 256 * 1024 * 1024;

const num = z.number().nullable();

/** What every reader needs of a migration entry (version 1 fields); other fields pass through unchecked. */
export const migrationSchema = z.looseObject({
  vm: z.string(),
  outcome: z.string(),
  switchover: z.string().nullable().optional(),
  memoryVerified: z.boolean().nullable(),
  totalTimeMs: num, downtimeMs: num, pagesSent: z.number(), bytesSent: z.number(), rounds: z.array(z.unknown()),
  dhcpRebindMs: num, igmpRebindMs: num, sourceGuardDrops: num, multicastGapMs: num, multicastLost: num, serviceInterruptionMs: num,
});

/** What every reader needs of a result (version 1). */
export const resultSchema = z.looseObject({ version: z.literal(1), scenario: z.string(), engine: z.string(), migrations: z.array(migrationSchema) });

function readText(file: string): string {
  try {
    return readBounded(file, MAX_RESULT_BYTES).toString('utf8');
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    const p = e.problem;
    if (p.kind === 'unreadable') throw new BadInput(`${file}: cannot read: ${p.why}`);
    throw new BadInput(`${file}: a result file of at most 256 MiB expected, got ${p.size === null ? 'more' : `${Math.round(p.size / 2 ** 20)} MiB`}`);
  }
}

/** The result in `file`, checked against `schema` (by default what every reader needs). */
export function readResultFile<S extends z.ZodType = typeof resultSchema>(file: string, schema?: S): z.output<S> {
  const text = readText(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BadInput(`${file}: not a result file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = (schema ?? resultSchema).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
    throw new BadInput(`${file}: not a migsim result (version 1): ${where}: ${issue.message}`);
  }
  return r.data as z.output<S>;
}
