// The CLI's exit statuses (README "Commands") and the two errors a command ends with when it
// has already said why: bad input (2) and a run that could not complete (1).

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_TIMEOUT = 3;
export const EXIT_INTERRUPTED = 130;

/** Bad input already explained to the user: print it and leave with status 2. */
export class BadInput extends Error {}

/** A run that could not be completed (the testbed failed): print it and leave with status 1. */
export class RunFailed extends Error {}
