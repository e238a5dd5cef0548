// `npm run test:testbed`: the Docker testbed's tests (containers, veths, tc). Needs root and a
// Docker engine (the tests run testbed/ensure-docker.sh first) and debootstrap for the
// first image build. One file at a time, in a forked process: the tests share one engine
// and one testbed (`down` removes every migsim container).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/testbed/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    teardownTimeout: 120_000,
  },
});
