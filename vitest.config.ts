import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['sim/**/*.test.ts', 'hosts/**/*.test.ts', 'switch/**/*.test.ts', 'test/**/*.test.ts'],
    // these need root and system services, each suite has its own command (see README):
    // interop (lldpad, veths), runner (netns, redis-server), procs (netns, dhcpd, udhcpc),
    // testbed (a Docker engine); test/procs/units.test.ts is pure and runs here
    exclude: ['test/interop/**', 'test/runner/**', 'test/testbed/**', 'test/procs/lan.test.ts',
      'test/procs/host-agent.test.ts', 'test/procs/testbed-lan.test.ts', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
