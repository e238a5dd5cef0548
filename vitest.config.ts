import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['sim/**/*.test.ts', 'hosts/**/*.test.ts', 'switch/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
