// Robustness (fast-check): whatever the text — random, random YAML values, a valid file with
// nodes replaced or characters edited, junk trace files — nothing but ScenarioError escapes.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Document, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from './errors.js';
import { DOC_EXAMPLE, tempDir } from './load-fixture.js';
import { parseScenario } from './load.js';
import { parseTrace } from './trace.js';

function onlyScenarioErrors(text: string, file = 'fuzz.yaml'): void {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    for (const err of e.errors) {
      expect(err.message.length).toBeGreaterThan(0);
      expect(typeof err.path).toBe('string');
    }
  }
}

/** Paths to every scalar (and collection) in a parsed document. */
function nodePaths(doc: Document): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    out.push(path);
    if (isMap(node)) {
      for (const p of node.items) if (isScalar(p.key)) walk(p.value, [...path, String(p.key.value)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return out.filter((p) => p.length > 0);
}

const quantity = fc.constantFrom(
  '1GiB', '0B', '-1s', '10Gb/s', '1e400', '4KiB', '100us', '20000/s', '50%', '1 gigs', 'h1', 'vm1', 'h2',
  '239.1.1.1', '224.0.0.1', '02:00:00:00:01:01', '01:00:00:00:00:01', 'vm1[0].downtimeMs', '__proto__', 'constructor',
);
const junkValue = fc.oneof(
  quantity,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('robustness (fast-check)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'w.trace'), '0 1\n10 2\n');
  const withTrace = DOC_EXAMPLE.replace(
    'migrations:\n',
    '  - name: vm2\n    host: h2\n    vlan: 10\n    memory: 4MiB\n    workload: { kind: trace, file: w.trace, loop: true }\nmigrations:\n',
  ).replace('expect:', '  - vm: vm2\n    to: h1\n    at: 3s\nexpect:');
  const validFile = join(dir, 'valid.yaml');

  it('the fuzz base is valid', () => {
    expect(parseScenario(withTrace, validFile).vms).toHaveLength(2);
  });

  it('random text never throws anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => onlyScenarioErrors(text)),
      { numRuns: 300 },
    );
  });

  it('random YAML values never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => onlyScenarioErrors(new Document(value).toString())),
      { numRuns: 300 },
    );
  });

  it('replacing or deleting any node of a valid file never throws anything but ScenarioError', () => {
    const paths = nodePaths(parseDocument(withTrace));
    fc.assert(
      fc.property(fc.constantFrom(...paths), junkValue, fc.boolean(), (path, value, remove) => {
        const doc = parseDocument(withTrace);
        if (remove) doc.deleteIn(path);
        else doc.setIn(path, value);
        onlyScenarioErrors(doc.toString(), validFile);
      }),
      { numRuns: 500 },
    );
  });

  it('character edits of a valid file never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: withTrace.length }),
        fc.nat({ max: 20 }),
        fc.string({ maxLength: 8 }),
        (at, cut, insert) => {
          const text = withTrace.slice(0, at) + insert + withTrace.slice(at + cut);
          onlyScenarioErrors(text, validFile);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('junk trace files never throw anything but ScenarioError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (trace) => {
        try {
          parseTrace(trace, 't.trace', 1024);
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
