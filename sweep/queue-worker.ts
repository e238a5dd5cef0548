// `migsim worker --queue redis://HOST:PORT`: takes sweep runs from the queue in worker threads
// (BullMQ's sandbox, `--concurrency` at a time) until SIGINT or SIGTERM, then finishes the
// runs it holds and stops. A Redis that goes away is said once, retried (BullMQ reconnects),
// and its return said once.

import { Worker } from 'bullmq';
import { parseQueueUrl, QUEUE_NAME, QueueUnreachable, reach } from './queue-connection.js';

export interface WorkerRun {
  url: string;
  concurrency: number;
  /** resolves when the worker should stop */
  stop: Promise<unknown>;
  log: (line: string) => void;
}

/** Runs until `stop`; resolves with the number of runs done. */
export async function serveQueue(o: WorkerRun): Promise<number> {
  const connection = parseQueueUrl(o.url);
  await reach(o.url, connection);
  const worker = new Worker(QUEUE_NAME, new URL('./queue-processor.js', import.meta.url), {
    connection,
    concurrency: o.concurrency,
    useWorkerThreads: true,
  });
  let done = 0;
  let failed = 0;
  worker.on('completed', () => done++);
  worker.on('failed', () => failed++);
  let down: NodeJS.Timeout | null = null;
  worker.on('error', (e) => {
    if (down) return;
    o.log(`worker: lost the queue's Redis at ${o.url} (${e.message}); retrying`);
    down = setInterval(() => {
      reach(o.url, connection).then(
        () => {
          if (down) clearInterval(down);
          down = null;
          o.log(`worker: the queue's Redis at ${o.url} is back`);
        },
        (err: unknown) => {
          if (!(err instanceof QueueUnreachable)) throw err;
        },
      );
    }, 2000);
  });
  await worker.waitUntilReady();
  o.log(`worker: taking runs from queue ${QUEUE_NAME} at ${o.url}, ${o.concurrency} at a time (Ctrl-C to stop)`);
  await o.stop;
  if (down) clearInterval(down);
  // a worker whose Redis is gone cannot hand its jobs back: it stops without waiting for it
  await (down ? Promise.race([worker.close(), new Promise((r) => setTimeout(r, 3000))]) : worker.close());
  o.log(`worker: stopped after ${done} runs${failed > 0 ? ` (${failed} failed)` : ''}`);
  return done;
}
