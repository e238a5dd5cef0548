// Events a host agent reports (a Redis stream will carry them in the testbed; here they
// go to a callback). Times are CLOCK_MONOTONIC in ns, which every container on one
// kernel shares, so the orchestrator can put hosts' events on one time line.

export interface AgentEvent {
  /** CLOCK_MONOTONIC, ns (process.hrtime.bigint() as a number: exact for 104 days of uptime) */
  t: number;
  kind: string;
  vm: string;
  [field: string]: unknown;
}

export type EventSink = (e: AgentEvent) => void;

export const nowNs = (): number => Number(process.hrtime.bigint());

/** Call a sink without letting its exceptions into the migration. */
export function emitTo(sink: EventSink | undefined, e: AgentEvent): void {
  if (!sink) return;
  try {
    sink(e);
  } catch {
    // an observer's bug must not break a migration
  }
}
