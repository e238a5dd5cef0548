// A sweep's runs on a BullMQ queue (sweep/queue.ts) taken by two `migsim worker` processes:
// the same CSVs byte for byte as local threads; a sweep that waits for workers says so; a
// queue address with no Redis behind it fails in seconds; a Redis restarted without its data
// loses no run; a Redis that stays away ends the sweep, resumable; workers stop cleanly.
// Everything on 127.0.0.1, a private redis-server; every process is killed afterwards.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/processes.js';
import { type PrivateRedis, startRedis, stopRedis } from '../support/redis.js';
import { writeGridSweep } from '../support/sweep-files.js';

const CLI = join(process.cwd(), 'bin/migsim.js');
const work = mkdtempSync(join(tmpdir(), 'migsim-queue-'));
let redis: PrivateRedis | null = null;
const children: ChildProcess[] = [];
let url = '';

function migsim(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: work });
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}
function start(...args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}
async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  redis = await startRedis(work);
  url = `redis://127.0.0.1:${redis.port}`;
  writeGridSweep(work, 'grid', 5);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopRedis(redis);
  rmSync(work, { recursive: true, force: true });
});

const read = (dir: string, f: string) => readFileSync(join(work, dir, f), 'utf8');

describe('a sweep on a BullMQ queue', () => {
  it('gives byte-identical CSVs with 2 queue workers, 1 thread and 2 threads', async () => {
    expect(migsim('sweep', 'grid.yaml', '--workers', '1', '--out', 'one').status).toBe(0);
    expect(migsim('sweep', 'grid.yaml', '--workers', '2', '--out', 'two').status).toBe(0);
    const workers = [start('worker', '--queue', url, '--concurrency', '1'), start('worker', '--queue', url, '--concurrency', '1')];
    for (const w of workers) await until('a worker to listen', () => w.out().includes('taking runs from queue migsim-sweep'));
    const r = migsim('sweep', 'grid.yaml', '--queue', url, '--out', 'queued');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`30 runs, on queue ${url}`);
    for (const f of ['points.csv', 'summary.csv']) {
      expect(read('queued', f)).toBe(read('one', f));
      expect(read('two', f)).toBe(read('one', f));
    }
    for (const w of workers) w.child.kill('SIGINT');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes).toEqual([0, 0]);
    const done = workers.map((w) => Number(/stopped after (\d+) runs/.exec(w.out())?.[1]));
    expect(done[0]! + done[1]!).toBe(30);
  });

  it('waits for a worker, says so, and finishes once one comes', async () => {
    const sweep = start('sweep', 'grid.yaml', '--queue', url, '--out', 'late');
    await until('the waiting notice', () => sweep.out().includes('waiting: no worker has taken a run'));
    expect(sweep.out()).toContain(`migsim worker --queue ${url}`);
    const w = start('worker', '--queue', url, '--concurrency', '2');
    expect(await sweep.exited).toBe(0);
    expect(read('late', 'points.csv')).toBe(read('one', 'points.csv'));
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('loses no run when the Redis restarts without its data: the lost jobs are queued again', async () => {
    const sweep = start('sweep', 'grid.yaml', '--queue', url, '--out', 'restarted');
    await until('the waiting notice', () => sweep.out().includes('waiting: no worker has taken a run'));
    await stopRedis(redis, 'SIGKILL');
    redis = await startRedis(work, redis!.port); // empty: no persistence
    const w = start('worker', '--queue', url, '--concurrency', '2');
    expect(await sweep.exited).toBe(0);
    expect(read('restarted', 'points.csv')).toBe(read('one', 'points.csv'));
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });

  it('stops, resumable, when the Redis stays away; a worker says it lost the Redis and that it came back', async () => {
    const w = start('worker', '--queue', url, '--concurrency', '1');
    await until('the worker to listen', () => w.out().includes('taking runs from queue'));
    w.child.kill('SIGSTOP'); // holds no run: the sweep below waits for a worker
    const sweep = start('sweep', 'grid.yaml', '--queue', url, '--out', 'gone');
    await until('the waiting notice', () => sweep.out().includes('waiting: no worker has taken a run'));
    const port = redis!.port;
    await stopRedis(redis, 'SIGKILL');
    redis = null;
    const t0 = Date.now();
    expect(await sweep.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect(sweep.out()).toMatch(/no Redis answers there .*for \d+ s: the sweep stops; the runs done are kept in gone: go on with migsim sweep grid\.yaml --queue redis:\/\/127\.0\.0\.1:\d+ --resume gone/);
    w.child.kill('SIGCONT');
    await until('the worker to say it lost the Redis', () => w.out().includes("worker: lost the queue's Redis"));
    redis = await startRedis(work, port);
    await until('the worker to say the Redis is back', () => w.out().includes("the queue's Redis at " + url + ' is back'));
    expect(w.out().match(/lost the queue's Redis/g)).toHaveLength(1);
    const again = migsim('sweep', 'grid.yaml', '--queue', url, '--resume', 'gone');
    expect(again.status, again.stderr).toBe(0);
    expect(read('gone', 'points.csv')).toBe(read('one', 'points.csv'));
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('fails within seconds, in one line, when no Redis answers at the address', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = migsim('sweep', 'grid.yaml', '--queue', `redis://127.0.0.1:${port}`, '--out', 'nowhere');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^migsim: --queue redis://127\\.0\\.0\\.1:${port}: no Redis answers there \\(.*\\)\\n$`));
    const w = migsim('worker', '--queue', `redis://127.0.0.1:${port}`);
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/no Redis answers there/);
  });
});
