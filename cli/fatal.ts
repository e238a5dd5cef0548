// The last line of defence: an error nobody expected becomes one line on stderr and exit
// status 70 (EX_SOFTWARE), never a stack trace; MIGSIM_DEBUG=1 adds the stack. bin/migsim.js
// prints the same line for an error while loading the CLI (keep the two texts alike).

export const EXIT_SOFTWARE = 70;

const REPORT_HINT = '(please report it with the command line and the scenario file: see README "Reporting a problem")';

/** The one line for an unexpected error: its message, newlines folded, at most 500 characters. */
export function internalErrorLine(e: unknown): string {
  const raw = e instanceof Error ? e.message || e.name : String(e);
  let msg = raw.replace(/\s*\n\s*/g, ' | ').trim();
  if (msg.length > 500) msg = `${msg.slice(0, 500)}…`;
  return `migsim: internal error: ${msg} ${REPORT_HINT}`;
}

let dying = false;

/** Print the internal-error line (and with MIGSIM_DEBUG=1 the stack) and exit 70. */
export function dieInternal(e: unknown): never {
  if (!dying) {
    dying = true;
    // a progress line may be on the terminal: start on a clean line
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stderr.write(internalErrorLine(e) + '\n');
    if (process.env.MIGSIM_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  }
  process.exit(EXIT_SOFTWARE);
}

/**
 * Route uncaught exceptions and unhandled rejections to dieInternal, unless bin/migsim.js
 * already did (it installs the same guard before loading the CLI).
 */
export function installGuards(): void {
  if (process.listenerCount('uncaughtException') === 0) process.on('uncaughtException', (e) => dieInternal(e));
  if (process.listenerCount('unhandledRejection') === 0) process.on('unhandledRejection', (e) => dieInternal(e));
  // a reader that goes away (`migsim run … --json | head`) ends the output, not in an internal error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(1);
    dieInternal(e);
  });
}
