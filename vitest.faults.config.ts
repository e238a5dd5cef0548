// `npm run test:faults`: real faults injected into real testbed runs (signals to the CLI,
// Redis paused and killed, the switch process and a host container killed, a host's
// migration interface down), and the scenario's own faults (scenarios/faults/testbed/, each
// run on both engines). Needs root and a Docker engine, as test:testbed; the files one after
// the other, one run at a time (the runs share the engine and its one testbed).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 120_000,
  },
});
