// A testbed run's set-up, before its time 0: a fresh topology, the run's Redis keys and event
// stream, then the switch, dhcpd and the host agents started, and each VM created on its host
// and associated. The sequence: docs/testbed-wiring.md "A run, step by step".

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { addressing } from '../model/scenario/addressing.js';
import { RedisEventSink } from '../hosts/control/event-stream.js';
import { RedisBus } from '../hosts/control/redis-bus.js';
import { dhcpCommand, hostAgentCommand, LOGS, prefixLength, switchCommand, switchRunConfig, vsiTypes } from './commands.js';
import { readContainerFile } from './container-process.js';
import { EventFollower } from './event-follower.js';
import { BUS_COMMAND_TIMEOUT_MS, BusWatch } from './bus-watch.js';
import { SETUP_TIMEOUT_MS, type RunContext } from './run-context.js';

const REDIS_PORT = 6379;

export async function setUp(r: RunContext): Promise<void> {
  const s = r.s;
  const t0 = Date.now();
  const up = await r.net.upFresh(s);
  for (const c of up.changes) r.log(c);
  r.run = `${up.runId}-${randomBytes(3).toString('hex')}`;
  const redisIp = await r.net.mgmtIp('redis');
  const redisAddr = `${redisIp}:${REDIS_PORT}`;
  // no command waits for Redis for ever: a bus that stops answering is found by the watch (bus-watch.ts)
  r.redis = new Redis({ host: redisIp, port: REDIS_PORT, maxRetriesPerRequest: 3, lazyConnect: false, commandTimeout: BUS_COMMAND_TIMEOUT_MS });
  r.redis.on('error', () => undefined);
  r.busWatch = new BusWatch(redisIp, REDIS_PORT, (lastAnswerNs, detectedNs) => r.watch.stop({ kind: 'bus-lost', lastAnswerNs, detectedNs }));
  r.bus = new RedisBus(r.redis, r.run);
  await r.bus.defineVsiTypes(vsiTypes(s));
  await r.bus.writeSwitchConfig(switchRunConfig(s));
  r.follower = new EventFollower(r.redis.duplicate(), r.run);
  r.sink = new RedisEventSink(r.redis, r.run, 'orchestrator', { closeTimeoutMs: 3000 });
  r.emit('run-start', { scenario: s.name, file: s.file });
  const plan = r.net.topology!;

  // the switch
  r.switchCommand = switchCommand(plan, r.run, redisAddr, r.s);
  await r.start('switch', null, 'switch', r.switchCommand);
  await r.follower.waitFor((e) => e.source === 'switch' && e.kind === 'switch-ready', SETUP_TIMEOUT_MS, 'switch-ready');

  // the data plane's fixed addresses (the DHCP server gives itself .1)
  if (s.dhcp) {
    const a = addressing(s.dhcp.subnet, s.multicastSources.length);
    const len = prefixLength(s);
    for (let i = 0; i < s.multicastSources.length; i++) await r.addAddress('msource', String(i), `${a.sourceIp(i)}/${len}`);
    if (s.probe) await r.addAddress('probe', null, `${a.probeIp}/${len}`);
    await r.start('dhcp', null, 'dhcpd', dhcpCommand(s));
    const dhcp = r.net.node('dhcp');
    await r.until(async () => (await readContainerFile(dhcp, LOGS.dhcpd))?.includes('Server starting service') ?? false, SETUP_TIMEOUT_MS, 'dhcpd serving');
  }

  // the host agents
  for (const h of s.hosts) {
    const ip = await r.net.mgmtIp('host', h.name);
    r.mgmt.set(h.name, ip);
    await r.start('host', h.name, `agent ${h.name}`, hostAgentCommand(h.name, r.run, redisAddr, ip));
  }
  for (const h of s.hosts) {
    await r.follower.waitFor((e) => e.source === `host:${h.name}` && e.kind === 'host-ready', SETUP_TIMEOUT_MS, `host ${h.name} ready`);
  }

  // the VMs: RAM and workload on their hosts, then associated as new VMs
  for (const vm of s.vms) {
    const from = r.follower.mark();
    await r.control(`host:${vm.host}`, 'vm-create', { vm: r.vmJson(vm), seed: r.seed });
    await r.expect(`host:${vm.host}`, (e) => e.kind === 'vm-started' && e.data.vm === vm.name, SETUP_TIMEOUT_MS, `${vm.name} started on ${vm.host}`, from);
    await r.vdp(vm.host, 'assoc', vm.name, false);
  }
  // each VM's first destination sets its RAM aside before time 0
  for (const vm of s.vms) {
    const first = r.vmMigrations(vm.name)[0];
    if (first) await r.reserve(first, true);
  }
  r.log(`set up in ${((Date.now() - t0) / 1000).toFixed(1)} s (run ${r.run})`);
}
