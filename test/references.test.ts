// Every reference a reader may follow resolves inside the repository: a path a comment or a
// doc names (`hosts/agent/main.ts`, `docs/result-format.md`) exists, and every section of
// docs/protocols.md that code cites (`docs/protocols.md 4.3`) is a heading there.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOP = '(?:model|wire|switch|sim|hosts|testbed|cli|docs|bench|test|scenarios)';
const PATH_RE = new RegExp(`(?<![\\w./-])(${TOP}/[\\w./-]*\\.(?:ts|md|js|yaml|yml|sh|txt|script))`, 'g');
const SECTION_RE = /protocols\.md\s*§?\s*(\d+(?:\.\d+)?)/g;

/** The text a reader reads: comments in code, everything in docs and configs. */
export function prose(file: string, text: string): string {
  if (!/\.(ts|js)$/.test(file)) return text;
  return text
    .split('\n')
    .map((l) => {
      const t = l.trimStart();
      if (t.startsWith('*') || t.startsWith('/*')) return l;
      const i = l.indexOf('//');
      return i >= 0 && !/['"`]/.test(l.slice(0, i).replace(/'[^']*'|"[^"]*"/g, '')) ? l.slice(i) : '';
    })
    .join('\n');
}

export function unresolved(files: Map<string, string>, exists: (path: string) => boolean, headings: string[]): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const p = prose(file, text);
    for (const m of p.matchAll(PATH_RE)) {
      const path = m[1]!.replace(/\.$/, '');
      if (!exists(path) && !exists(path.replace(/\.js$/, '.ts'))) out.push(`${file}: names ${path}, which does not exist`);
    }
    for (const m of p.matchAll(SECTION_RE)) {
      if (!headings.some((h) => h.startsWith(`${m[1]} `) || h.startsWith(`${m[1]}. `))) out.push(`${file}: cites protocols.md ${m[1]}, which has no such section`);
    }
  }
  return out;
}

describe('references', () => {
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|js|md|yml|yaml|sh)$/.test(f) && !f.startsWith('results/') && existsSync(join(ROOT, f)));
  const files = new Map(listed.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
  const headings = readFileSync(join(ROOT, 'docs/protocols.md'), 'utf8').split('\n').filter((l) => /^#+ /.test(l)).map((l) => l.replace(/^#+ /, ''));

  it('every path named in a comment or a doc, and every protocols.md section cited, exists', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(unresolved(files, (p) => existsSync(join(ROOT, p)), headings)).toEqual([]);
  });

  it('no reference points outside the repository to the design notes it was built from', () => {
    const outside = [...files].filter(([f, t]) => /\bDESIGN\.md\b/.test(prose(f, t))).map(([f]) => f);
    expect(outside).toEqual([]);
  });

  it('finds a missing file and a missing section', () => {
    const fake = new Map([
      ['sim/x.ts', "// see hosts/nowhere.ts and docs/protocols.md 9.9\nconst s = 'sim/string-only.ts';\n"],
      ['docs/y.md', 'as model/units.ts says (protocols.md 2.3)\n'],
    ]);
    expect(unresolved(fake, (p) => p === 'model/units.ts' || p === 'docs/protocols.md', ['2.3 Status byte'])).toEqual([
      'sim/x.ts: names hosts/nowhere.ts, which does not exist',
      'sim/x.ts: cites protocols.md 9.9, which has no such section',
    ]);
  });
});
