// `npm run test:procs`: the processes that run inside the testbed's data-plane containers
// (hosts/agent/main.ts, hosts/vm/main.ts, hosts/dhcp/main.ts, hosts/traffic/*.ts), as
// compiled entry points in network namespaces on this machine — with the real ISC dhcpd,
// busybox udhcpc, the kernel's IGMP and a private redis-server on 127.0.0.1; no Docker.
// Needs root, iproute2, isc-dhcp-server, busybox, redis-server and the `cap` binding
// (libpcap-dev). One file at a time, in a forked process (native libpcap binding); the
// files build dist/ themselves.
//
// The default config (vitest.config.ts) does not include test/procs/, so `npm test` does
// not run them; the processes' pure parts are tested beside them (hosts/process-args.test.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/procs/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
