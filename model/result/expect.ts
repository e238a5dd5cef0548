// `expect:` bounds against a run's results: what `migsim check` gates CI on.

import type { ExpectationResult, LowerBoundField, MigrationResult, NetworkResult } from './format.js';
import type { Expectation, MigrationSpec } from '../scenario/types.js';

/** The value an expectation field names, from one migration's result. */
export function measuredValue(r: MigrationResult, field: string): number | string | boolean | null {
  switch (field) {
    case 'rounds':
      return r.rounds.length;
    case 'postcopyFaults':
      return r.postcopy ? r.postcopy.faults : null;
    case 'faultLatencyMs':
      return r.postcopy ? r.postcopy.faultLatencyMs : null;
    case 'postcopyOutageWaitMs':
      return r.postcopy ? r.postcopy.outageWaitMs : null;
    case 'postcopyRecoveries':
      return r.postcopy ? r.postcopy.recoveries : null;
    default: {
      const v = (r as unknown as Record<string, unknown>)[field];
      return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : null;
    }
  }
}

function describeBound(e: Expectation): string {
  const parts: string[] = [];
  if (e.min !== undefined) parts.push(`≥ ${e.min}`);
  if (e.max !== undefined) parts.push(`≤ ${e.max}`);
  if (e.equals !== undefined) parts.push(`= ${String(e.equals)}`);
  return parts.join(' and ');
}

function holds(e: Expectation, v: number | string | boolean | null): boolean {
  if (v === null) return false;
  if (e.equals !== undefined && v !== e.equals) return false;
  if (e.min !== undefined && !(typeof v === 'number' && v >= e.min)) return false;
  if (e.max !== undefined && !(typeof v === 'number' && v <= e.max)) return false;
  return true;
}

/**
 * A value that is only a lower bound (named in `lowerBounds`: the run ended first) shows a
 * `min` holds, but cannot show a `max` or `equals` does: such a bound is not met.
 */
function holdsForLowerBound(e: Expectation, v: number | string | boolean | null): boolean {
  return e.max === undefined && e.equals === undefined && holds(e, v);
}

/**
 * One line per (bound, migration): `vm1.downtimeMs` applies to every migration of vm1,
 * `vm1[1].downtimeMs` to its second one (in start-time order).
 */
export function evaluateExpectations(
  expectations: Expectation[],
  specs: MigrationSpec[],
  results: MigrationResult[],
  network: NetworkResult | null = null,
): ExpectationResult[] {
  const out: ExpectationResult[] = [];
  for (const e of expectations) {
    if (e.network) {
      const v = network?.counters[e.field];
      const why = network === null ? ' (the run has no network)' : network.countersUnmeasured ? ` (${network.countersUnmeasured})` : '';
      const measured = v === undefined || network?.countersUnmeasured ? null : v;
      out.push({ key: e.key, ok: holds(e, measured), measured, bound: `${describeBound(e)}${measured === null ? why : ''}` });
      continue;
    }
    const ofVm = specs
      .map((spec, i) => ({ spec, result: results[i]! }))
      .filter((x) => x.spec.vm === e.vm)
      .sort((a, b) => a.spec.atNs - b.spec.atNs || a.spec.index - b.spec.index);
    const chosen = e.migration === null ? ofVm : ofVm.slice(e.migration, e.migration + 1);
    if (chosen.length === 0) {
      out.push({ key: e.key, ok: false, measured: null, bound: `${describeBound(e)} (no migration of ${e.vm})` });
      continue;
    }
    for (const { result } of chosen) {
      const measured = measuredValue(result, e.field);
      if ((result.lowerBounds ?? []).includes(e.field as LowerBoundField)) {
        const ok = holdsForLowerBound(e, measured);
        out.push({ key: e.key, ok, measured, bound: ok ? describeBound(e) : `${describeBound(e)} (measured is only a lower bound: the run ended first)` });
        continue;
      }
      out.push({ key: e.key, ok: holds(e, measured), measured, bound: describeBound(e) });
    }
  }
  return out;
}
