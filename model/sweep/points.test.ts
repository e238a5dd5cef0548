import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseSweepFile, SweepFileError } from './file.js';
import { KeyError, parseKey, setAtKey } from './keys.js';
import { planSweep, pointCount, pointValues } from './points.js';

const dir = mkdtempSync(join(tmpdir(), 'migsim-sweep-'));
const BASE = `name: base
hosts: [h1, h2]
network:
  migrationLink: { bandwidth: 1Gbit/s }
vms:
  - { name: vm1, host: h1, memory: 256MiB, workload: { kind: hotset, writeRate: 5000/s, hotset: 16MiB } }
migrations:
  - { vm: vm1, to: h2, at: 1s }
`;
writeFileSync(join(dir, 'base.yaml'), BASE);

function problems(text: string): string[] {
  try {
    planSweep(parseSweepFile(text, join(dir, 'sweep.yaml')));
  } catch (e) {
    if (e instanceof SweepFileError) return e.problems;
    throw e;
  }
  return [];
}

describe('sweep keys', () => {
  it('parses the two forms of the issue', () => {
    expect(parseKey('network.migrationLink.bandwidth')).toEqual(['network', 'migrationLink', 'bandwidth']);
    expect(parseKey('migrations[0].downtimeLimit')).toEqual(['migrations', 0, 'downtimeLimit']);
    expect(parseKey('vms[1].workload.hotset')).toEqual(['vms', 1, 'workload', 'hotset']);
    for (const bad of ['', 'a..b', 'migrations[x].at', 'migrations[-1].at', '[0]', 'a b']) expect(() => parseKey(bad), bad).toThrow(KeyError);
  });

  it('sets into the document, creating a missing mapping but never a list entry', () => {
    const doc = parseDocument(BASE);
    setAtKey(doc, ['network', 'keepalive', 'interval'], '1s');
    setAtKey(doc, ['migrations', 0, 'downtimeLimit'], '30ms');
    expect((doc.toJS() as { network: unknown }).network).toEqual({ migrationLink: { bandwidth: '1Gbit/s' }, keepalive: { interval: '1s' } });
    expect((doc.toJS() as { migrations: unknown[] }).migrations[0]).toMatchObject({ downtimeLimit: '30ms' });
    expect(() => setAtKey(doc, ['migrations', 1, 'at'], '2s')).toThrow(/no migrations\[1\]: migrations has 1 entry/);
    expect(() => setAtKey(doc, ['hosts', 0, 'memory'], '1GiB')).toThrow(/hosts\[0\] is not a mapping/);
  });

  it('lists every combination, the first key slowest', () => {
    const sweep = parseSweepFile('sweep: s\nbase: b.yaml\nvary:\n  x: [a, b]\n  y: [1, 2, 3]\n', 'x.yaml');
    expect(pointCount(sweep)).toBe(6);
    expect(Array.from({ length: 6 }, (_, i) => pointValues(sweep, i))).toEqual([['a', 1], ['a', 2], ['a', 3], ['b', 1], ['b', 2], ['b', 3]]);
  });
});

describe('planSweep', () => {
  it('loads every point with its values set, and seeds 1..N', () => {
    const plan = planSweep(parseSweepFile('sweep: s\nbase: base.yaml\nvary:\n  network.migrationLink.bandwidth: [1Gbit/s, 10Gbit/s]\n  migrations[0].downtimeLimit: [30ms, 300ms]\nseeds: 3\n', join(dir, 'sweep.yaml')));
    expect(plan.seeds).toEqual([1, 2, 3]);
    expect(plan.points.map((p) => [p.scenario.network.migrationLink.bandwidthBps, p.scenario.migrations[0]!.downtimeLimitNs])).toEqual([
      [1e9, 30e6], [1e9, 300e6], [10e9, 30e6], [10e9, 300e6],
    ]);
  });

  it('without seeds, runs each point once with the base scenario\'s seed', () => {
    writeFileSync(join(dir, 'seeded.yaml'), BASE.replace('name: base', 'name: base\nseed: 42'));
    const plan = planSweep(parseSweepFile('sweep: s\nbase: seeded.yaml\nvary:\n  migrations[0].downtimeLimit: [30ms]\n', join(dir, 'sweep.yaml')));
    expect(plan.seeds).toEqual([42]);
  });

  it('names the sweep file, the key, the value and the base field of a value the loader refuses', () => {
    const p = problems('sweep: s\nbase: base.yaml\nvary:\n  network.migrationLink.bandwidth: [1Gbit/s, 10Gbit/x]\n');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/sweep\.yaml: vary network\.migrationLink\.bandwidth: 10Gbit\/x: base base\.yaml field network\.migrationLink\.bandwidth: expected a bandwidth/);
  });

  it('names the key and the base field of a path the base does not have, or the schema does not know', () => {
    expect(problems('sweep: s\nbase: base.yaml\nvary:\n  migrations[2].downtimeLimit: [30ms]\n')[0]).toMatch(
      /sweep\.yaml: vary migrations\[2\]\.downtimeLimit: the base scenario has no migrations\[2\]: migrations has 1 entry \(base base\.yaml\)/,
    );
    expect(problems('sweep: s\nbase: base.yaml\nvary: { network.migrationLink.bandwdth: [1Gbit/s] }\n')[0]).toMatch(
      /vary network\.migrationLink\.bandwdth: 1Gbit\/s: base base\.yaml field network\.migrationLink(\.bandwdth)?: .*bandwidth/,
    );
  });

  it('refuses a base that does not load, or runs on the testbed', () => {
    expect(problems('sweep: s\nbase: nowhere.yaml\nvary: { a: [1] }\n')[0]).toMatch(/sweep\.yaml: base nowhere\.yaml: .*could not read the file/);
    writeFileSync(join(dir, 'tb.yaml'), BASE.replace('name: base', 'name: base\nengine: testbed'));
    expect(problems('sweep: s\nbase: tb.yaml\nvary:\n  migrations[0].downtimeLimit: [30ms]\n')[0]).toMatch(/sim engine only/);
  });
});

describe('the sweep file', () => {
  const errs = (text: string) => {
    try {
      parseSweepFile(text, 'x.yaml');
      return [];
    } catch (e) {
      return (e as SweepFileError).problems;
    }
  };
  it('says what is wrong with each field, with its line', () => {
    expect(errs('sweep: Bad Name\nbase: b.yaml\nvary: { a: [1] }\n')[0]).toMatch(/^x\.yaml:1:8: sweep: expected a name of lower-case/);
    expect(errs('sweep: s\nvary: { a: [1] }\n')[0]).toMatch(/^x\.yaml: base: expected the path of a scenario file/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: 1 }\n')[0]).toMatch(/vary\.a: expected a non-empty list/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: [1, [2]] }\n')[0]).toMatch(/vary\.a\[1\]: expected a single value/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: [1, 1] }\n')[0]).toMatch(/listed twice/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: [1] }\nseeds: 0\n')[0]).toMatch(/seeds: expected a count N/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: [1] }\nseeds: [1, 1]\n')[0]).toMatch(/each once/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { a: [1] }\nsedes: 3\n')[0]).toMatch(/sedes: unknown key; expected one of sweep, base, vary, seeds/);
    expect(errs('sweep: s\nbase: b.yaml\nvary: { "a[": [1] }\n')[0]).toMatch(/vary\.a\[: "a\[" is not a field name/);
    expect(errs('sweep: [\n')[0]).toMatch(/not valid YAML/);
  });
  it('refuses more runs than its limit before building any point', () => {
    const many = Array.from({ length: 1000 }, (_, i) => i).join(', ');
    expect(errs(`sweep: s\nbase: b.yaml\nvary: { a: [${many}] }\nseeds: 201\n`)[0]).toMatch(/201000 runs .* at most 200000/);
  });
});
