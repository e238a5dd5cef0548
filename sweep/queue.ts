// A sweep's runs on a BullMQ queue, for `migsim worker`s on any number of machines: one job
// per run, carrying its scenario (v8-serialized, so the worker needs no file of ours), its
// answer heard through the queue's events, and any job not heard of looked up directly, so
// a trimmed event stream loses nothing; a job the Redis lost (a restart without persistence)
// is queued again. A Redis that stays unreachable for QUEUE_LOST_MS ends the sweep (QueueLost;
// what ran is in the journal). On abort, our waiting jobs are removed, within a bound.

import { randomBytes } from 'node:crypto';
import { serialize } from 'node:v8';
import { Queue, QueueEvents } from 'bullmq';
import type { RunRecord } from '../model/sweep/points-table.js';
import type { Scenario } from '../model/scenario/types.js';
import { VERSION } from '../model/version.js';
import { parseQueueUrl, QUEUE_NAME, QueueLost, QueueUnreachable, reach } from './queue-connection.js';
import type { ThreadTask } from './thread.js';

/** What a job carries; the answer is a RunRecord. */
export interface JobData {
  migsim: string;
  point: number;
  seed: number;
  /** the point's Scenario, v8.serialize'd, base64 */
  scenario: string;
}

export interface QueueRun {
  url: string;
  sweep: string;
  scenarios: Scenario[];
  tasks: ThreadTask[];
  onRecord: (r: RunRecord) => void;
  signal: AbortSignal;
  onIdle?: (message: string) => void;
}

/** Look up jobs not heard of after this long without any answer (ms). */
const RECONCILE_MS = 5000;
/** A Redis unreachable this long ends the sweep (ms). */
const QUEUE_LOST_MS = 15_000;
/** Removing our jobs and closing, at the end: bounded, a Redis that is gone must not hold the command (ms). */
const CLOSE_MS = 3000;
const BULK = 500;

function within<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function runOnQueue(o: QueueRun): Promise<void> {
  if (o.tasks.length === 0) return;
  const connection = parseQueueUrl(o.url);
  await reach(o.url, connection);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  queue.on('error', () => {});
  events.on('error', () => {});
  const tag = `${o.sweep}-${randomBytes(4).toString('hex')}`;
  const pending = new Map<string, ThreadTask>();
  const scenarioText = new Map<number, string>();
  let lastAnswer = Date.now();
  let idleTold = false;
  try {
    await events.waitUntilReady();
    let wake: () => void = () => {};
    let failure: unknown = null;
    const answered = (jobId: string, r: RunRecord | null, failed?: string) => {
      const t = pending.get(jobId);
      if (!t) return;
      pending.delete(jobId);
      lastAnswer = Date.now();
      try {
        o.onRecord(r ?? { point: t.point, seed: t.seed, error: `the queue's worker failed it: ${failed ?? 'no reason given'}` });
      } catch (e) {
        // called from the queue's event stream: the loop below throws it
        failure ??= e;
        wake();
        return;
      }
      if (pending.size === 0) wake();
    };
    events.on('completed', ({ jobId, returnvalue }) => answered(jobId, returnvalue as unknown as RunRecord));
    events.on('failed', ({ jobId, failedReason }) => answered(jobId, null, failedReason));

    const jobOf = (t: ThreadTask) => {
      let text = scenarioText.get(t.point);
      if (text === undefined) {
        text = serialize(o.scenarios[t.point]).toString('base64');
        scenarioText.set(t.point, text);
      }
      const jobId = `${tag}-${t.point}-${t.seed}`;
      pending.set(jobId, t);
      return {
        name: 'run',
        data: { migsim: VERSION, point: t.point, seed: t.seed, scenario: text },
        opts: { jobId, attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } },
      };
    };
    for (let i = 0; i < o.tasks.length && !o.signal.aborted; i += BULK) await queue.addBulk(o.tasks.slice(i, i + BULK).map(jobOf));

    let downSince: number | null = null;
    while (pending.size > 0 && !o.signal.aborted) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        const timer = setTimeout(resolve, RECONCILE_MS);
        o.signal.addEventListener('abort', () => resolve(), { once: true });
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (failure) throw failure;
      if (pending.size === 0 || o.signal.aborted || Date.now() - lastAnswer < RECONCILE_MS) continue;
      // nothing heard for a while: is the Redis there? (a separate, bounded ping: the queue's own
      // connection would wait for it forever)
      try {
        await reach(o.url, connection);
        downSince = null;
      } catch (e) {
        if (!(e instanceof QueueUnreachable)) throw e;
        downSince ??= Date.now();
        if (Date.now() - downSince >= QUEUE_LOST_MS) throw new QueueLost(`${e.message}, for ${Math.round((Date.now() - downSince) / 1000)} s: the sweep stops`);
        continue;
      }
      // then ask for each job we wait on
      let anyActive = false;
      const lost: ThreadTask[] = [];
      for (const [id, t] of [...pending.entries()]) {
        const job = await queue.getJob(id);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'completed') answered(id, job!.returnvalue as unknown as RunRecord);
        else if (state === 'failed') answered(id, null, job!.failedReason);
        else if (state === 'active') anyActive = true;
        else if (state === 'unknown') lost.push(t);
      }
      // the Redis lost them (restarted without its data): the runs are deterministic, queue them again
      if (lost.length > 0) await queue.addBulk(lost.map(jobOf));
      if (failure) throw failure;
      if (!anyActive && !idleTold && pending.size > 0 && o.onIdle) {
        idleTold = true;
        o.onIdle(`no worker has taken a run from queue ${QUEUE_NAME} at ${o.url} in ${Math.round((Date.now() - lastAnswer) / 1000)} s; start one with: migsim worker --queue ${o.url}`);
      }
    }
    if (failure) throw failure;
  } finally {
    const tidy = async () => {
      for (const id of pending.keys()) await queue.remove(id).catch(() => 0);
    };
    if (pending.size > 0) await within(CLOSE_MS, tidy());
    await within(CLOSE_MS, events.close().catch(() => {}));
    await within(CLOSE_MS, queue.close().catch(() => {}));
    void queue.disconnect().catch(() => {});
    void events.disconnect().catch(() => {});
  }
}
