// The `expect:` section: each key (`vm1.downtimeMs`, `vm1[1].switchover`) resolved to the
// migrations it bounds and checked against what that result field can hold.

import { EXPECTABLE_FIELDS, EXPECTABLE_WORDS, type ExpectableField, NETWORK_COUNTERS } from './expectable.js';
import type { RawBound } from './schema.js';
import type { Expectation, MigrationSpec, VmSpec } from './types.js';
import type { Problems } from './problems.js';
import type { PathSegment } from './errors.js';
import { type Gaps, list, maybe } from './gaps.js';

const EXPECT_KEY = /^([A-Za-z0-9_-]+)(?:\[(\d+)\])?\.([A-Za-z0-9_]+)$/;
const NETWORK_KEY = /^network\.counters\.([A-Za-z0-9_.]+)$/;

function isExpectable(field: string): field is ExpectableField {
  return Object.prototype.hasOwnProperty.call(EXPECTABLE_FIELDS, field);
}

export function normalizeExpect(
  raw: Record<string, RawBound>,
  vms: VmSpec[],
  migrations: MigrationSpec[],
  problems: Problems,
  gaps: Gaps | null,
): Expectation[] {
  const vmNames = new Set(vms.map((v) => v.name));
  const counts = new Map<string, number>();
  for (const m of migrations) counts.set(m.vm, (counts.get(m.vm) ?? 0) + 1);
  const out: Expectation[] = [];

  for (const [key, bound] of Object.entries(raw)) {
    const keyPath: PathSegment[] = ['expect', key];
    const counter = NETWORK_KEY.exec(key);
    if (counter) {
      const name = counter[1] ?? '';
      if (!(NETWORK_COUNTERS as readonly string[]).includes(name)) {
        problems.add(keyPath, `a switch counter: ${NETWORK_COUNTERS.join(', ')}`, { problem: `no counter ${JSON.stringify(name)}`, key: true });
      } else if (bound.equals !== undefined && typeof bound.equals !== 'number') {
        problems.add([...keyPath, 'equals'], 'a number');
      } else if (bound.min === undefined && bound.max === undefined && bound.equals === undefined) {
        problems.add(keyPath, 'at least one of min, max, equals', { problem: 'an empty bound' });
      } else {
        out.push({ key, vm: '', migration: null, field: name, network: true, ...pick(bound) });
      }
      continue;
    }
    const m = EXPECT_KEY.exec(key);
    if (!m) {
      problems.add(keyPath, 'a key VM.FIELD or VM[N].FIELD such as vm1.downtimeMs', {
        problem: `bad key ${JSON.stringify(key)}`,
        key: true,
      });
      continue;
    }
    const [, vm = '', n, field = ''] = m;
    if (!vmNames.has(vm)) {
      if (maybe(gaps?.droppedVms, vm)) continue;
      problems.add(keyPath, `a VM from vms: ${list(vmNames)}`, { problem: `no VM ${JSON.stringify(vm)}`, key: true });
      continue;
    }
    const count = counts.get(vm) ?? 0;
    const migration = n === undefined ? null : Number(n);
    if ((count === 0 || (migration !== null && migration >= count)) && maybe(gaps?.vmsWithDroppedMigrations, vm)) continue;
    if (count === 0) {
      problems.add(keyPath, 'a VM that is migrated', { problem: `${vm} has no migrations`, key: true });
      continue;
    }
    if (migration !== null && migration >= count) {
      problems.add(keyPath, `an index from 0 to ${count - 1}`, {
        problem: `${vm} has ${count} migration${count === 1 ? '' : 's'}, so there is no ${vm}[${migration}]`,
        key: true,
      });
      continue;
    }
    if (!isExpectable(field)) {
      problems.add(keyPath, `a result field: ${Object.keys(EXPECTABLE_FIELDS).join(', ')}`, {
        problem: `no result field ${JSON.stringify(field)}`,
        key: true,
      });
      continue;
    }
    if (checkBound(key, field, bound, problems)) out.push({ key, vm, migration, field, ...pick(bound) });
  }
  return out;
}

/** The bound's parts that were written. */
function pick(b: RawBound): Pick<Expectation, 'min' | 'max' | 'equals'> {
  const e: Pick<Expectation, 'min' | 'max' | 'equals'> = {};
  if (b.min !== undefined) e.min = b.min;
  if (b.max !== undefined) e.max = b.max;
  if (b.equals !== undefined) e.equals = b.equals;
  return e;
}

/** The bound fits the field's kind; reports and returns false when not. */
function checkBound(key: string, field: ExpectableField, b: RawBound, problems: Problems): boolean {
  const path: PathSegment[] = ['expect', key];
  const kind = EXPECTABLE_FIELDS[field];
  const hasRange = b.min !== undefined || b.max !== undefined;
  if (!hasRange && b.equals === undefined) {
    problems.add(path, 'at least one of min, max, equals', { problem: 'an empty bound' });
    return false;
  }
  if (hasRange && b.equals !== undefined) {
    problems.add([...path, 'equals'], 'either equals or min/max', { problem: 'equals with min/max' , key: true });
    return false;
  }
  if (hasRange && kind !== 'number') {
    problems.add([...path, b.min !== undefined ? 'min' : 'max'], `equals: ${field} is a ${kind}`, {
      problem: `min/max on a ${kind} field`,
      key: true,
    });
    return false;
  }
  if (b.min !== undefined && b.max !== undefined && b.min > b.max) {
    problems.add([...path, 'min'], `min ≤ max (${b.max})`);
    return false;
  }
  if (b.equals !== undefined) {
    if (typeof b.equals !== kind) {
      problems.add([...path, 'equals'], kind === 'boolean' ? 'true or false' : `a ${kind}`);
      return false;
    }
    const words = EXPECTABLE_WORDS[field];
    if (words && !words.includes(b.equals as string)) {
      problems.add([...path, 'equals'], `one of ${words.join(', ')}`);
      return false;
    }
  }
  return true;
}
