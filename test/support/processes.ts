// Child processes for the tests that run real programs (test/procs, test/runner,
// test/interop): synchronous runs for set-up and clean-up, waiting on a condition, stopping
// only what the test started, a child whose output is kept line by line.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

export function runSync(cmd: string, args: string[], timeoutMs = 20_000): { rc: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { rc: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function mustSync(cmd: string, args: string[], timeoutMs?: number): string {
  const r = runSync(cmd, args, timeoutMs);
  if (r.rc !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (rc ${r.rc}): ${r.out.trim()}`);
  return r.out;
}

/** Running (a zombie is not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, up to 3 s, then SIGKILL. Only for processes this test started. */
export function stopProcess(pid: number, waitMs = 3000): void {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < waitMs / 50 && alive(pid); i++) sleepSync(50);
  if (alive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let i = 0; i < 40 && alive(pid); i++) sleepSync(50);
  }
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

export async function until<T>(f: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs: number, what: string, more: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${more()}`);
    await sleep(25);
  }
}

/** A child process with its output kept, line by line. */
export class Child {
  readonly lines: string[] = [];
  readonly err: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: ((l: string) => void)[] = [];

  constructor(readonly proc: ChildProcess, readonly label: string) {
    let partial = '';
    proc.stdout?.on('data', (d: Buffer) => {
      const ls = (partial + d.toString()).split('\n');
      partial = ls.pop() ?? '';
      for (const l of ls) {
        this.lines.push(l);
        for (const cb of this.listeners) cb(l);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => this.err.push(d.toString()));
    this.exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Its exit, or null if it has not exited within `ms`. */
  exitWithin(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    return Promise.race([this.exited, sleep(ms).then(() => null)]);
  }

  onLine(cb: (l: string) => void): void {
    this.listeners.push(cb);
  }

  output(): string {
    const cut = (l: string) => (l.length > 300 ? `${l.slice(0, 300)}…` : l);
    return `--- ${this.label} (pid ${this.proc.pid}) stdout:\n${this.lines.slice(-30).map(cut).join('\n')}\n--- stderr:\n${this.err.join('').split('\n').slice(-30).join('\n')}`;
  }
}

/** Nearest-rank percentile, p in 0..100, of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
