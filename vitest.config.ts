import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['sim/**/*.test.ts', 'hosts/**/*.test.ts', 'switch/**/*.test.ts', 'test/**/*.test.ts'],
    // the interop tests need root, lldpad and veths: `npm run test:interop` runs them
    exclude: ['test/interop/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
