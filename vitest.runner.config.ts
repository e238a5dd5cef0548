// `npm run test:runner`: the switch's testbed runner (hosts/switch/main.ts) and its Redis side
// (hosts/control/redis-bus.ts, hosts/control/event-stream.ts), against a private redis-server on
// 127.0.0.1 and real frames over veth pairs into network namespaces the tests make. Needs
// root, iproute2, redis-server and the `cap` binding (libpcap-dev). One file at a time, in a
// forked process (native libpcap binding); the files build dist/ themselves.
//
// MIGSIM_RUNNER_TESTS marks the run: the files that need root or Redis skip themselves
// without it (should another config pick them up; vitest.config.ts excludes test/runner/**).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/runner/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    env: { MIGSIM_RUNNER_TESTS: '1' },
  },
});
