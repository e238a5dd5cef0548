// The house rule (docs/architecture.md "Layers"): every source file imports only from its own
// layer and the layers below it, and no two folders import each other, however indirectly.
// Read from the files' own import statements; a violation names the file and the import.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each layer and the layers it may import, lowest first. Tests (`*.test.ts`), bench/ and test/ sit on top. */
export const LAYERS: Record<string, readonly string[]> = {
  model: [],
  wire: ['model'],
  switch: ['model', 'wire'],
  sim: ['model', 'wire', 'switch'],
  hosts: ['model', 'wire', 'switch'],
  testbed: ['model', 'wire', 'switch', 'hosts'],
  report: ['model'],
  sweep: ['model', 'wire', 'switch', 'sim', 'report'],
  cli: ['model', 'wire', 'switch', 'sim', 'hosts', 'testbed', 'report', 'sweep'],
};

/** Packages only a testbed run needs: loaded by no layer a sim run goes through. */
const TESTBED_PACKAGES: Record<string, readonly string[]> = { dockerode: ['testbed', 'cli'], ioredis: ['hosts', 'testbed', 'sweep', 'cli'], bullmq: ['sweep', 'cli'], cap: ['hosts'] };

export interface Import {
  file: string;
  /** repo-relative path of the imported file, or the package name */
  target: string;
  isPackage: boolean;
  line: number;
}

const IMPORT_RE = /(?:^|[;\n])\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  // template strings hold generated code (e.g. a test's worker script): not this file's imports
  const code = text.replace(/`(?:\\.|[^`\\])*`/g, (m) => m.replace(/[^\n]/g, ' '));
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4]!;
    const line = code.slice(0, m.index + m[0].search(/[a-z]/)).split('\n').length;
    if (spec.startsWith('.')) {
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      out.push({ file, target, isPackage: false, line });
    } else if (!spec.startsWith('node:')) {
      out.push({ file, target: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, isPackage: true, line });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const layerOf = (path: string): string => path.split('/')[0]!;
const isTest = (f: string): boolean => f.endsWith('.test.ts');

/** What breaks the layer order in these imports, one line each. */
export function layerViolations(imports: Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) {
    const from = layerOf(i.file);
    if (!(from in LAYERS) || isTest(i.file)) continue;
    if (i.isPackage) {
      const only = TESTBED_PACKAGES[i.target];
      if (only && !only.includes(from)) out.push(`${i.file}:${i.line}: imports ${i.target}, which only ${only.join('/')} may load`);
      continue;
    }
    const to = layerOf(i.target);
    if (to === from) continue;
    if (!(to in LAYERS)) out.push(`${i.file}:${i.line}: imports ${i.target}, outside the layers`);
    else if (!LAYERS[from]!.includes(to)) out.push(`${i.file}:${i.line}: ${from}/ imports ${i.target}, but ${from}/ may import only ${LAYERS[from]!.join(', ') || 'nothing else of the repository'}`);
  }
  return out;
}

/** Cycles between folders (a folder is a file's directory), each as `a → b → … → a` with one import per step. */
export function folderCycles(imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    if (i.isPackage || isTest(i.file)) continue;
    const a = dirname(i.file);
    const b = dirname(i.target);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.get(a)!.has(b)) edges.get(a)!.set(b, i);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const [m, via] of edges.get(n) ?? []) {
      if (state.get(m) === 'open') {
        const loop = stack.slice(stack.indexOf(m));
        const steps = [...loop, m].slice(1).map((to, k) => {
          const i = edges.get(loop[k]!)!.get(to)!;
          return `${loop[k]}/ → ${to}/ (${i.file}:${i.line})`;
        });
        cycles.push(steps.join(', '));
        void via;
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

function repoImports(): Import[] {
  return Object.keys(LAYERS).flatMap((layer) => sourceFiles(layer)).flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));
}

describe('layers', () => {
  const imports = repoImports();

  it('reads the imports of every layer', () => {
    for (const layer of Object.keys(LAYERS)) expect(imports.some((i) => layerOf(i.file) === layer), layer).toBe(true);
    // a known import, so a broken reader cannot pass silently
    expect(imports).toContainEqual(expect.objectContaining({ file: 'sim/engine.ts', target: 'sim/kernel.ts' }));
  });

  it('no source file imports a layer above its own', () => {
    expect(layerViolations(imports)).toEqual([]);
  });

  it('no two folders import each other, however indirectly', () => {
    expect(folderCycles(imports)).toEqual([]);
  });

  it('names the file and the import of an upward import, a testbed package in the sim, and a cycle', () => {
    const fake: Import[] = [
      ...importsOf('model/units.ts', "import { Kernel } from '../sim/kernel.js';\n"),
      ...importsOf('sim/engine.ts', "import x from 'x';\nimport Docker from 'dockerode';\n"),
      ...importsOf('sim/a/one.ts', "export { b } from '../b/two.js';\n"),
      ...importsOf('sim/b/two.ts', "const m = await import('../a/one.js');\n"),
    ];
    expect(layerViolations(fake)).toEqual([
      'model/units.ts:1: model/ imports sim/kernel.ts, but model/ may import only nothing else of the repository',
      'sim/engine.ts:2: imports dockerode, which only testbed/cli may load',
    ]);
    expect(folderCycles(fake)).toEqual(['sim/a/ → sim/b/ (sim/a/one.ts:1), sim/b/ → sim/a/ (sim/b/two.ts:1)']);
  });

  it('ignores code inside template strings', () => {
    expect(importsOf('sim/x.ts', "const src = `import { y } from '../cli/main.js';`;\n")).toEqual([]);
  });

  it('every folder is a layer or sits on top', () => {
    const top = readdirSync(ROOT, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    const known = new Set([...Object.keys(LAYERS), 'bench', 'test', 'docs', 'scenarios', 'results', 'bin', 'dist', 'node_modules']);
    expect(top.filter((d) => !known.has(d))).toEqual([]);
    void relative;
  });
});
