import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    // unit tests sit beside their code; test/*.test.ts are the repository checks (layers,
    // references); test/<suite>/ need root and system services, each with its own command
    // (see README): interop (lldpad, veths), runner (netns, redis-server), procs (netns,
    // dhcpd, udhcpc), testbed (a Docker engine)
    include: ['{model,wire,switch,sim,hosts,testbed,report,sweep,cli}/**/*.test.ts', 'test/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
