// The addresses the sim benchmarks give the switch, the DHCP server and the multicast router.

export const BENCH_SWITCH = { mac: '02:5e:00:00:00:fe', ip: '10.77.0.254' };
export const BENCH_SERVER = { mac: '02:d0:00:00:00:01', ip: '10.77.0.1' };
export const BENCH_ROUTER = { mac: '02:00:00:00:0c:01', ip: '10.77.0.2' };
