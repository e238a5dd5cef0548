#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm install` (the prepare script).
// The top-level guard: an error nobody expected — also while loading the CLI, and also an
// uncaught exception or unhandled rejection later — is one line and exit status 70, never a
// stack trace (MIGSIM_DEBUG=1 adds it). cli/fatal.ts prints the same line: keep them alike.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function die(e) {
  const raw = e instanceof Error ? e.message || e.name : String(e);
  let msg = raw.replace(/\s*\n\s*/g, ' | ').trim();
  if (msg.length > 500) msg = `${msg.slice(0, 500)}…`;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  process.stderr.write(`migsim: internal error: ${msg} (please report it with the command line and the scenario file: see README "Reporting a problem")\n`);
  if (process.env.MIGSIM_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exit(70);
}
process.on('uncaughtException', die);
process.on('unhandledRejection', die);

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('migsim: not built yet; run `npm install` (or `npm run build`) in the migsim directory\n');
  process.exit(2);
}
try {
  await import(entry.href);
} catch (e) {
  die(e);
}
