// What a `migsim worker` thread does with one job of the sweep queue: the run it carries, on
// the sim engine, answered with its record. BullMQ loads this file in a worker thread.

import { deserialize } from 'node:v8';
import type { SandboxedJob } from 'bullmq';
import type { RunRecord } from '../model/sweep/points-table.js';
import type { Scenario } from '../model/scenario/types.js';
import { VERSION } from '../model/version.js';
import type { JobData } from './queue.js';
import { runPoint } from './run-point.js';

export default function process(job: SandboxedJob<JobData, RunRecord>): RunRecord {
  const d = job.data;
  if (d.migsim !== VERSION) throw new Error(`this worker runs migsim ${VERSION}; the sweep that queued the run is ${d.migsim}: run the same version on both`);
  const scenario = deserialize(Buffer.from(d.scenario, 'base64')) as Scenario;
  return runPoint(scenario, d.point, d.seed);
}
