// The schema pass's errors: each zod issue becomes a located ScenarioError with the schema's
// own wording ("expected …"), unknown keys named at the key with a did-you-mean suggestion.

import type { z } from 'zod';
import type { PathSegment } from './errors.js';
import type { Problems } from './problems.js';

type Issue = z.core.$ZodIssue;

/** Wording for issues the schema did not phrase itself (it phrases nearly all). */
export function fallbackExpected(iss: z.core.$ZodRawIssue): string {
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

export function reportIssue(issue: Issue, problems: Problems): void {
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
