// `npm run test:interop`: tests against real third-party daemons (lldpad as the VDP
// station) over veth pairs in network namespaces. Needs root and Debian's lldpad, iproute2
// and libpcap-dev (vitest.config.ts excludes test/interop/**, so `npm test` does not run
// them). One file at a time, in a forked process (native libpcap binding).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
