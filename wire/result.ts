// Parsing never throws on bad bytes: every parse returns a WireResult, and a rejection
// carries the layer and the reason, so a malformed frame is counted, not a crash.

export type WireResult<T> = { ok: true; value: T } | { ok: false; layer: string; reason: string };

export function ok<T>(value: T): WireResult<T> {
  return { ok: true, value };
}

export function reject<T = never>(layer: string, reason: string): WireResult<T> {
  return { ok: false, layer, reason };
}

/** Thrown only by `emit` when handed a representation that cannot be encoded (a programming error). */
export class EmitError extends Error {
  constructor(layer: string, reason: string) {
    super(`${layer}: cannot emit: ${reason}`);
    this.name = 'EmitError';
  }
}
