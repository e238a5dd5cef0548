// The testbed's refusals, and how to recognise a Docker engine that does not answer: what the
// CLI needs to turn a testbed failure into an exit status, without loading Docker's client.

/** docker-compose.yml does not describe the services the testbed needs. */
export class ComposeError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'ComposeError';
  }
}

/** Another scenario's topology is up: one topology at a time on a machine. */
export class TopologyConflict extends Error {}

export const ENGINE_HINT = 'no Docker engine answers; start one with: sudo bash testbed/ensure-docker.sh';

/** The Docker API could not be reached (no engine, or no permission on its socket). */
export function isEngineDown(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || /connect (ECONNREFUSED|ENOENT|EACCES)/.test(String(e));
}

/** A testbed run stopped by SIGINT or SIGTERM: its topology was removed, it has no result. */
export class TestbedInterrupted extends Error {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    /** how long the removal of what the run made took, ms */
    readonly cleanupMs: number,
  ) {
    super(`interrupted by ${signal}`);
    this.name = 'TestbedInterrupted';
  }
}
