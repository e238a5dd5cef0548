// `migsim worker --queue redis://HOST:PORT`: takes sweep runs from the queue in worker threads
// (BullMQ's sandbox, `--concurrency` at a time) until SIGINT or SIGTERM, then finishes the
// runs it holds and stops.

import { Worker } from 'bullmq';
import { parseQueueUrl, QUEUE_NAME, reach } from './queue-connection.js';

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
  worker.on('error', (e) => o.log(`worker: ${e.message}`));
  await worker.waitUntilReady();
  o.log(`worker: taking runs from queue ${QUEUE_NAME} at ${o.url}, ${o.concurrency} at a time (Ctrl-C to stop)`);
  await o.stop;
  await worker.close();
  o.log(`worker: stopped after ${done} runs${failed > 0 ? ` (${failed} failed)` : ''}`);
  return done;
}
