// Scenario loader: a YAML file → validated, normalized Scenario (types.ts). Reads the file and
// runs three passes, each collecting every error it finds before failing: 1. YAML syntax
// (here, with duplicate keys), 2. the zod schema (schema.ts; issues.ts words its errors),
// 3. cross-field checks (normalize.ts). Errors are ScenarioErrors (errors.ts), located by source-map.ts.

import { readFileSync } from 'node:fs';
import { type Document, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { errorText, formatPath, ScenarioError, throwAll } from './errors.js';
import { fallbackExpected, reportIssue } from './issues.js';
import { normalize } from './normalize.js';
import { Problems } from './problems.js';
import { scenarioSchema } from './schema.js';
import { rangeOf, SourceMap } from './source-map.js';
import type { Scenario } from './types.js';

/** Reads and loads a scenario file. Throws ScenarioError (ScenarioErrors for several). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError({
      file,
      path: '',
      expected: 'a readable scenario file',
      problem: `could not read the file (${errorText(e)})`,
    });
  }
  return parseScenario(text, file);
}

/** Loads a scenario from its text; `file` names it in errors and anchors relative trace paths. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(doc, lines);

  const syntax = yamlErrors(doc, source, file);
  if (syntax.length > 0) throwAll(syntax);

  let raw: unknown;
  try {
    raw = doc.toJS(); // its default alias limit refuses billion-laughs expansion
  } catch (e) {
    throw new ScenarioError({ file, path: '', expected: 'valid YAML', problem: errorText(e) });
  }

  if (doc.contents === null) {
    throw new ScenarioError({ file, path: '', expected: 'a scenario with name, hosts and vms', problem: 'the file is empty' });
  }

  const problems = new Problems(file, source, raw);
  const parsed = scenarioSchema.safeParse(raw, { error: fallbackExpected });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, problems);
    throwAll(problems.list);
  }

  const scenario = normalize(parsed.data, file, problems);
  if (problems.list.length > 0) throwAll(problems.list);
  return scenario;
}

/** YAML syntax errors, duplicate keys, and keys that are not plain scalars (JS objects cannot hold them). */
function yamlErrors(doc: Document, source: SourceMap, file: string): ScenarioError[] {
  const out: ScenarioError[] = [];
  for (const err of doc.errors) {
    const offset = err.pos[0];
    const where = source.at(offset);
    const duplicate = err.code === 'DUPLICATE_KEY';
    // in a document that did not parse, the node around an offset says little; a duplicate key's does
    const path = duplicate ? formatPath(source.pathAt(offset)) : '';
    const problem = duplicate ? 'duplicate key' : (err.message.split('\n')[0] ?? err.message);
    out.push(
      new ScenarioError({
        file,
        path,
        expected: duplicate ? 'each key once per mapping' : 'valid YAML',
        problem,
        line: where.line,
        column: where.column,
      }),
    );
  }
  if (out.length > 0) return out;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) || pair.key === null) return;
      const r = rangeOf(pair.key);
      const where = r ? source.at(r[0]) : undefined;
      out.push(
        new ScenarioError({
          file,
          path: formatPath(r ? source.pathAt(r[0]) : []),
          expected: 'a plain key such as memory',
          problem: 'a key must be a plain name, not a list, mapping or alias',
          ...(where ?? {}),
        }),
      );
    },
  });
  return out;
}
