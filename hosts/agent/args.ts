// The host agent process's command line: parseHostAgentArgs checks it and returns
// HostAgentArgs (bad input is a UsageError, exit status 2). Every option: docs/control-protocol.md.

import { parseRedisAddress, RUN_ID_RE } from '../control/redis-bus.js';
import { numberArg, parseOptions, UsageError } from '../runtime/process-kit.js';

export const HOST_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface HostAgentArgs {
  redis: string;
  run: string;
  host: string;
  uplink: string;
  listenPort: number;
  listenHost: string;
  advertise: string;
  vdp: 'standard' | 'extended' | null;
  configWaitMs: number;
  flushMs: number;
  lldpIntervalMs: number;
}

export const HOST_AGENT_USAGE = `usage: node dist/hosts/agent/main.js --redis HOST:PORT --run ID --host NAME --uplink IFNAME
    --listen PORT --advertise ADDR:PORT [--listen-host 0.0.0.0] [--vdp standard|extended]
    [--config-wait-ms 30000] [--flush-ms 2] [--lldp-interval-ms 30000]`;


export function parseHostAgentArgs(argv: string[]): HostAgentArgs {
  const values = parseOptions(argv, {
    redis: { type: 'string' },
    run: { type: 'string' },
    host: { type: 'string' },
    uplink: { type: 'string' },
    listen: { type: 'string' },
    'listen-host': { type: 'string' },
    advertise: { type: 'string' },
    vdp: { type: 'string' },
    'config-wait-ms': { type: 'string' },
    'flush-ms': { type: 'string' },
    'lldp-interval-ms': { type: 'string' },
  });
  if (!values.redis) throw new UsageError('--redis HOST:PORT is required');
  try {
    parseRedisAddress(values.redis);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!values.run) throw new UsageError('--run ID is required');
  if (!RUN_ID_RE.test(values.run)) throw new UsageError(`--run ${values.run}: expected ${RUN_ID_RE.source}`);
  if (!values.host) throw new UsageError('--host NAME is required');
  if (!HOST_NAME_RE.test(values.host)) throw new UsageError(`--host ${values.host}: letters, digits, . _ - (at most 64)`);
  if (!values.uplink) throw new UsageError('--uplink IFNAME is required');
  if (!/^[^/\s]{1,15}$/.test(values.uplink)) throw new UsageError(`--uplink ${values.uplink}: at most 15 characters, no / or spaces`);
  if (values.listen === undefined) throw new UsageError('--listen PORT is required');
  const listenPort = numberArg(values.listen, 'listen', 0, { min: 1, max: 65535 });
  if (!Number.isInteger(listenPort)) throw new UsageError(`--listen ${values.listen}: expected a port number`);
  if (!values.advertise) throw new UsageError('--advertise ADDR:PORT is required');
  try {
    parseAddr(values.advertise);
  } catch (e) {
    throw new UsageError(`--advertise: ${(e as Error).message}`);
  }
  if (values.vdp !== undefined && values.vdp !== 'standard' && values.vdp !== 'extended') throw new UsageError(`--vdp ${values.vdp}: expected standard or extended`);
  return {
    redis: values.redis,
    run: values.run,
    host: values.host,
    uplink: values.uplink,
    listenPort,
    listenHost: values['listen-host'] ?? '0.0.0.0',
    advertise: values.advertise,
    vdp: (values.vdp as 'standard' | 'extended' | undefined) ?? null,
    configWaitMs: numberArg(values['config-wait-ms'], 'config-wait-ms', 30_000, { min: 0 }),
    flushMs: numberArg(values['flush-ms'], 'flush-ms', 2, { min: 0 }),
    lldpIntervalMs: numberArg(values['lldp-interval-ms'], 'lldp-interval-ms', 30_000, { min: 100 }),
  };
}

export function parseAddr(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !/^\d{1,5}$/.test(text.slice(i + 1)) || port < 1 || port > 65535) throw new Error(`${JSON.stringify(text)}: expected ADDR:PORT`);
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port };
}
