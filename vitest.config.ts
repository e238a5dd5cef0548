import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['sim/**/*.test.ts', 'hosts/**/*.test.ts', 'switch/**/*.test.ts', 'test/**/*.test.ts'],
    // these need root and system services, each suite has its own command (see README):
    // interop (lldpad, veths), runner (netns, redis-server), testbed (a Docker engine)
    exclude: ['test/interop/**', 'test/runner/**', 'test/testbed/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
