// `npm run test:queue`: sweeps on a BullMQ queue — `migsim sweep --queue` and `migsim worker`
// processes against a private redis-server on 127.0.0.1 (needs redis-server; builds dist/ first
// through the npm script). One file at a time: the processes share the machine's two cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/queue/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
