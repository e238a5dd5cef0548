// A private redis-server for the tests that need one: 127.0.0.1 on a free port, no RDB, no
// AOF, its files in a directory the test made; stopped (SIGKILL after 3 s) by stopRedis.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort, sleep } from './processes.js';

export interface PrivateRedis {
  proc: ChildProcess;
  port: number;
  log: string[];
}

export function alive(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

/** redis-server on 127.0.0.1:`port` (a free one if absent), no RDB, no AOF, its files in `dir`. */
export async function startRedis(dir: string, port?: number): Promise<PrivateRedis> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('redis-server not found: apt-get install redis-server');
  let lastLog = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = port ?? (await freePort());
    const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    proc.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    proc.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && alive(proc) && !log.join('').includes('Ready to accept connections')) await sleep(20);
    if (alive(proc) && log.join('').includes('Ready to accept connections')) return { proc, port: p, log };
    lastLog = log.join('');
    await stopRedis({ proc, port: p, log });
    if (port !== undefined) await sleep(200); // the same port: maybe still in TIME_WAIT
  }
  throw new Error(`redis-server would not start:\n${lastLog}`);
}

export async function stopRedis(r: PrivateRedis | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!r || !alive(r.proc)) return;
  const exited = new Promise<void>((res) => r.proc.once('exit', () => res()));
  r.proc.kill(signal);
  const t = setTimeout(() => r.proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}
