// Trace workloads: the file read relative to the scenario, its errors at the trace's own
// lines (and at the scenario field that names it), parseTrace's cap on errors.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioErrors } from './errors.js';
import { BASE, errorsOf, lineOf, replace, tempDir } from './load-fixture.js';
import { loadScenario, parseScenario } from './load.js';
import { parseTrace } from './trace.js';

describe('trace workloads', () => {
  const scenarioWith = (workload: string) =>
    replace(BASE, '{ kind: hotset, writeRate: 1000/s, hotset: 64MiB }', workload).replace('1GiB', '4MiB');

  it('reads the trace relative to the scenario file, times in ns', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'traces'));
    writeFileSync(join(dir, 'traces', 'w.trace'), '# timeUs page\n0 1\n\n1.5 1023   # last page\n1.5 7\n2000\t3\n');
    const file = join(dir, 'x.yaml');
    writeFileSync(file, scenarioWith('{ kind: trace, file: traces/w.trace, loop: true }'));
    const w = loadScenario(file).vms[0]?.workload;
    expect(w?.kind).toBe('trace');
    if (w?.kind !== 'trace') return;
    expect(w.file).toBe(join(dir, 'traces', 'w.trace'));
    expect(w.loop).toBe(true);
    expect([...w.trace.timesNs]).toEqual([0, 1500, 1500, 2_000_000]);
    expect([...w.trace.pages]).toEqual([1, 1023, 7, 3]);
    expect(w.trace.spanNs).toBe(2_000_000);
  });

  it('defaults loop to false', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), '5 0\n');
    const s = parseScenario(scenarioWith('{ kind: trace, file: t }'), join(dir, 'x.yaml'));
    expect(s.vms[0]?.workload).toMatchObject({ kind: 'trace', loop: false });
  });

  it.each([
    ['non-numeric time', '0 1\nabc 2\n', 2, /the time is not a number; expected a time in microseconds such as 1500$/],
    ['non-numeric page', '0 1\n10 x\n', 2, /the page is not a whole number; expected a whole page number such as 42$/],
    ['negative time', '-5 1\n', 1, /the time is negative; expected a time in microseconds, not negative$/],
    ['negative page', '5 -1\n', 1, /page number, not negative/],
    ['decreasing time', '10 1\n20 2\n15 3\n', 3, /the time is before the previous line's; expected times in non-decreasing order$/],
    ['page beyond the VM', '0 1024\n', 1, /the page is beyond the VM; expected a page number below 1024 \(the VM's page count\)$/],
    ['wrong field count', '0 1 2\n', 1, /line 1 has 3 fields; expected a line "timeUs page"/],
  ])('rejects a %s with the trace file and line', (_, trace, line, message) => {
    const dir = tempDir();
    const traceFile = join(dir, 'w.trace');
    writeFileSync(traceFile, trace);
    const errs = errorsOf(scenarioWith('{ kind: trace, file: w.trace }'), join(dir, 'x.yaml'));
    expect(errs).toHaveLength(1);
    const e = errs[0];
    expect(e?.file).toBe(traceFile);
    expect(e?.line).toBe(line);
    expect(e?.path).toBe('vms[0].workload.file');
    expect(e?.message).toMatch(message);
    expect(e?.message.startsWith(`${traceFile}:${line}:`)).toBe(true);
  });

  it('reports a missing trace file at the field that names it', () => {
    const text = scenarioWith('{ kind: trace, file: nowhere.trace }');
    const [e] = errorsOf(text, join(tempDir(), 'x.yaml'));
    expect(e?.path).toBe('vms[0].workload.file');
    expect(e?.line).toBe(lineOf(text, 'kind: trace'));
    expect(e?.message).toMatch(/could not read .*nowhere\.trace/);
  });

  it('refuses to loop a trace that spans no time', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), '0 1\n0 2\n');
    const [e] = errorsOf(scenarioWith('{ kind: trace, file: t, loop: true }'), join(dir, 'x.yaml'));
    expect(e?.path).toBe('vms[0].workload.loop');
  });

  it('parseTrace stops after ten errors in one file', () => {
    const bad = Array.from({ length: 50 }, () => 'x y').join('\n');
    let caught: unknown;
    try {
      parseTrace(bad, 't.trace', 10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScenarioErrors);
    expect((caught as ScenarioErrors).errors).toHaveLength(10);
  });
});
