// Start a worker_threads worker from one of our modules, whether we run compiled (dist/,
// the worker is a .js file beside us) or from source under vitest (the worker is a .ts
// file Node cannot load by itself). From source, the worker's module graph — every
// relative import reachable from the entry — is transpiled here with TypeScript's
// transpileModule (typescript is a devDependency; compiled runs never load it) and
// served to the worker by a module-customization hook registered inside the worker.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker file named `base` beside the module at `here` (import.meta.url): .js when compiled, .ts from source. */
export function siblingModule(here: string, base: string): URL {
  return new URL(`./${base}${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
}

const transpiled = new Map<string, string>();

type Ts = typeof import('typescript');
let tsModule: Ts | null = null;

async function typescript(): Promise<Ts> {
  if (!tsModule) {
    const mod = (await import('typescript')) as Ts & { default?: Ts };
    tsModule = mod.default ?? mod;
  }
  return tsModule;
}

const RELATIVE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Transpile `entry` and every module it reaches by relative import; url → JavaScript. */
async function transpileGraph(entry: URL): Promise<Record<string, string>> {
  const ts = await typescript();
  const out: Record<string, string> = {};
  const queue = [entry.href];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (url in out) continue;
    let code = transpiled.get(url);
    if (code === undefined) {
      let source: string;
      try {
        source = readFileSync(fileURLToPath(url), 'utf8');
      } catch {
        continue; // not one of ours (a match in a comment, say): Node resolves it as usual
      }
      code = ts.transpileModule(source, {
        fileName: fileURLToPath(url),
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          sourceMap: false,
          inlineSourceMap: true,
          inlineSources: true,
        },
      }).outputText;
      transpiled.set(url, code);
    }
    out[url] = code;
    for (const m of code.matchAll(RELATIVE_SPECIFIER)) {
      const spec = m[1]!;
      const dep = new URL(spec, url).href.replace(/\.js$/, '.ts');
      if (dep.endsWith('.ts') && !(dep in out)) queue.push(dep);
    }
  }
  return out;
}

// Runs in the worker's hooks thread. `sources` maps .ts URLs to transpiled JavaScript;
// an import of './x.js' from one of them resolves to './x.ts' when that is in the map.
const HOOKS = `
let sources = {};
export function initialize(data) { sources = data.sources; }
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL in sources && /^\\.{1,2}\\//.test(specifier)) {
    const url = new URL(specifier, context.parentURL).href.replace(/\\.js$/, '.ts');
    if (url in sources) return { url, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url in sources) return { format: 'module', source: sources[url], shortCircuit: true };
  return next(url, context);
}
`;

/** A Worker running `entry`; from source, with the TypeScript graph served by a loader hook. */
export async function spawnWorker(entry: URL, options: WorkerOptions = {}): Promise<Worker> {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const sources = await transpileGraph(entry);
  const bootstrap = `
const { register } = require('node:module');
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)}, { data: { sources: ${JSON.stringify(sources)} } });
import(${JSON.stringify(entry.href)}).catch((e) => { setImmediate(() => { throw e; }); });
`;
  return new Worker(bootstrap, { ...options, eval: true });
}
