// The small sweep the sweep tests share (cli/sweep.test.ts, test/queue/): a 64 MiB guest that
// migrates in milliseconds, and a 3 × 2 grid of link and downtime limit over it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = `name: small
hosts: [h1, h2]
network:
  migrationLink: { bandwidth: 1Gbit/s, latency: 100us }
vms:
  - { name: vm1, host: h1, memory: 64MiB, workload: { kind: hotset, writeRate: 4000/s, hotset: 8MiB } }
migrations:
  - { vm: vm1, to: h2, at: 100ms, downtimeLimit: 30ms }
`;

/** Writes `dir`/base.yaml (once is enough) and `dir`/NAME.yaml, the grid with `seeds` seeds; returns the sweep file's path. */
export function writeGridSweep(dir: string, name: string, seeds: number): string {
  writeFileSync(join(dir, 'base.yaml'), BASE);
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, `sweep: ${name}\nbase: base.yaml\nvary:\n  network.migrationLink.bandwidth: [1Gbit/s, 2Gbit/s, 5Gbit/s]\n  migrations[0].downtimeLimit: [5ms, 30ms]\nseeds: ${seeds}\n`);
  return f;
}
