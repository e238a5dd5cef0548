// The switch process's command line: parseRunnerArgs checks it and returns RunnerArgs (bad
// input is a UsageError, exit status 2). Every option: docs/switch-process.md.

import type { PortRole } from '../../switch/edge-switch.js';
import { RUN_ID_RE } from '../control/redis-bus.js';
import { numberArg, parseOptions, UsageError } from '../runtime/process-kit.js';
import { PACE_DEFAULTS, type PaceOptions } from './pacer.js';

export interface PortSpec {
  name: string;
  role: PortRole;
  ifname: string;
  /**
   * the interface whose presence means the port is connected (hosts/switch/port-watch.ts):
   * watched, and the port marked down when it vanishes; null: not watched
   */
  link: string | null;
}

export interface RunnerArgs {
  redis: string;
  run: string;
  ports: PortSpec[];
  flushMs: number;
  pace: PaceOptions;
  configWaitMs: number;
  /** libpcap's receive ring per port, bytes (null: PcapPort's default, 16 MiB) */
  pcapBufferBytes: number | null;
  /** when the IGMP querier starts: `start` one interval after start-up, `control` at a querier-start message */
  querier: 'start' | 'control';
  /** when a migration's leasequery goes unanswered: `assist` sends the assistance request (EdgeSwitch's dhcpRebindFallback) */
  dhcpRebindFallback: 'none' | 'assist';
  /** `redis`: DHCP-snooping bindings written through to the run's Redis and restored from it at start-up */
  bindingDatabase: 'none' | 'redis';
}

const ROLES: readonly PortRole[] = ['host', 'dhcp-server', 'mrouter', 'access'];

export const USAGE = `usage: node dist/hosts/switch/main.js --redis HOST:PORT --run ID --port NAME:ROLE:IFNAME[:LINK] [--port …]
    [--flush-ms 2] [--pace-rate 50000] [--pace-burst 64] [--pace-queue 4096] [--config-wait-ms 30000]
    [--pcap-buffer-mib 16] [--querier start|control] [--dhcp-rebind-fallback none|assist]
    [--binding-database none|redis]
  ROLE: ${ROLES.join(' | ')}`;

export function parseRunnerArgs(argv: string[]): RunnerArgs {
  const values = parseOptions(argv, {
    redis: { type: 'string' },
    run: { type: 'string' },
    port: { type: 'string', multiple: true },
    'flush-ms': { type: 'string' },
    'pace-rate': { type: 'string' },
    'pace-burst': { type: 'string' },
    'pace-queue': { type: 'string' },
    'config-wait-ms': { type: 'string' },
    'pcap-buffer-mib': { type: 'string' },
    querier: { type: 'string' },
    'dhcp-rebind-fallback': { type: 'string' },
    'binding-database': { type: 'string' },
  });
  if (!values.redis) throw new UsageError('--redis HOST:PORT is required');
  if (!values.run) throw new UsageError('--run ID is required');
  if (!RUN_ID_RE.test(values.run)) throw new UsageError(`--run ${values.run}: expected ${RUN_ID_RE.source}`);
  const ports: PortSpec[] = [];
  for (const text of values.port ?? []) {
    const parts = text.split(':');
    const [name, role, ifname, link] = parts;
    if ((parts.length !== 3 && parts.length !== 4) || !name || !role || !ifname || link === '') throw new UsageError(`--port ${text}: expected NAME:ROLE:IFNAME[:LINK]`);
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(name)) throw new UsageError(`--port ${text}: name ${name}: letters, digits, . _ - (at most 32)`);
    if (!(ROLES as string[]).includes(role)) throw new UsageError(`--port ${text}: role ${role}: expected one of ${ROLES.join(', ')}`);
    if (!/^[^/\s]{1,15}$/.test(ifname)) throw new UsageError(`--port ${text}: interface ${ifname}: at most 15 characters, no / or spaces`);
    if (link !== undefined && !/^[^/\s]{1,15}$/.test(link)) throw new UsageError(`--port ${text}: link ${link}: at most 15 characters, no / or spaces`);
    if (ports.some((p) => p.name === name)) throw new UsageError(`--port ${text}: port name ${name} given twice`);
    if (ports.some((p) => p.ifname === ifname)) throw new UsageError(`--port ${text}: interface ${ifname} given twice`);
    ports.push({ name, role: role as PortRole, ifname, link: link ?? null });
  }
  if (ports.length === 0) throw new UsageError('at least one --port NAME:ROLE:IFNAME is required');
  const querier = values.querier ?? 'start';
  if (querier !== 'start' && querier !== 'control') throw new UsageError(`--querier ${querier}: expected start or control`);
  const fallback = values['dhcp-rebind-fallback'] ?? 'none';
  if (fallback !== 'none' && fallback !== 'assist') throw new UsageError(`--dhcp-rebind-fallback ${fallback}: expected none or assist`);
  const db = values['binding-database'] ?? 'none';
  if (db !== 'none' && db !== 'redis') throw new UsageError(`--binding-database ${db}: expected none or redis`);
  return {
    redis: values.redis,
    run: values.run,
    ports,
    flushMs: numberArg(values['flush-ms'], 'flush-ms', 2, { min: 0 }),
    pace: {
      rateFps: numberArg(values['pace-rate'], 'pace-rate', PACE_DEFAULTS.rateFps, { min: 1 }),
      burst: numberArg(values['pace-burst'], 'pace-burst', PACE_DEFAULTS.burst, { min: 1 }),
      queueLimit: numberArg(values['pace-queue'], 'pace-queue', PACE_DEFAULTS.queueLimit, { min: 0 }),
    },
    configWaitMs: numberArg(values['config-wait-ms'], 'config-wait-ms', 30_000, { min: 0 }),
    pcapBufferBytes: values['pcap-buffer-mib'] === undefined ? null : Math.round(numberArg(values['pcap-buffer-mib'], 'pcap-buffer-mib', 16, { min: 1 }) * 1024 * 1024),
    querier,
    dhcpRebindFallback: fallback,
    bindingDatabase: db,
  };
}
