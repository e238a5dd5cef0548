// The testbed's multicast source: the sim's stream (sim/net/multicast-source.ts) from a
// real UDP socket.
// Options, timing, log and exit statuses: docs/testbed-processes.md "msource".

import { isIpv4, isIpv4Multicast } from '../../model/address.js';
import { interfaceOf, NdjsonLog, txChecksumSetting } from '../runtime/ndjson-log.js';
import { bindUdpOrStop, SendErrorReport } from './udp-endpoint.js';
import { durationArgMs, endOnSignal, isEntryPoint, numberArg, sleep, UsageError, runMain, parseOptions } from '../runtime/process-kit.js';

export const MSOURCE_SRC_PORT = 5000;
export const MSOURCE_DST_PORT = 5001;
export const MSOURCE_TTL = 16;

export interface MsourceArgs {
  ip: string;
  group: string;
  rate: number;
  size: number;
  log: string;
  count: number | null;
  durationMs: number | null;
  logEvery: number;
  ttl: number;
  port: number;
  srcPort: number;
  waitAddressMs: number;
  fixTxOffload: boolean;
}

export const MSOURCE_USAGE = `usage: node dist/hosts/traffic/msource.js --ip ADDR --group GROUP --rate N --size BYTES
    [--log /run/migsim/msource.ndjson] [--count N] [--duration D] [--log-every N] [--ttl 16]
    [--port 5001] [--src-port 5000] [--wait-address 30s] [--keep-tx-offload]`;

export function parseMsourceArgs(argv: string[]): MsourceArgs {
  const values = parseOptions(argv, {
    ip: { type: 'string' },
    group: { type: 'string' },
    rate: { type: 'string' },
    size: { type: 'string' },
    log: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    'log-every': { type: 'string' },
    ttl: { type: 'string' },
    port: { type: 'string' },
    'src-port': { type: 'string' },
    'wait-address': { type: 'string' },
    'keep-tx-offload': { type: 'boolean' },
  });
  if (!values.ip || !isIpv4(values.ip)) throw new UsageError(`--ip ${values.ip ?? ''}: expected this container's IPv4 address`);
  if (!values.group || !isIpv4Multicast(values.group)) throw new UsageError(`--group ${values.group ?? ''}: expected an IPv4 multicast group (224.0.0.0/4)`);
  if (values.rate === undefined) throw new UsageError('--rate N (datagrams per second) is required');
  if (values.size === undefined) throw new UsageError('--size BYTES (UDP payload) is required');
  const rate = numberArg(values.rate, 'rate', 0, { min: Number.MIN_VALUE });
  const size = numberArg(values.size, 'size', 0, { min: 4, integer: true });
  if (size > 65507) throw new UsageError(`--size ${size}: at most 65507 bytes of UDP payload`);
  const count = values.count === undefined ? null : numberArg(values.count, 'count', 0, { min: 1, integer: true });
  return {
    ip: values.ip,
    group: values.group,
    rate,
    size,
    log: values.log ?? '/run/migsim/msource.ndjson',
    count,
    durationMs: durationArgMs(values.duration, 'duration'),
    logEvery: numberArg(values['log-every'], 'log-every', Math.max(1, Math.round(rate)), { min: 1, integer: true }),
    ttl: numberArg(values.ttl, 'ttl', MSOURCE_TTL, { min: 1, integer: true }),
    port: numberArg(values.port, 'port', MSOURCE_DST_PORT, { min: 1, integer: true }),
    srcPort: numberArg(values['src-port'], 'src-port', MSOURCE_SRC_PORT, { min: 1, integer: true }),
    waitAddressMs: durationArgMs(values['wait-address'], 'wait-address') ?? 30_000,
    fixTxOffload: !values['keep-tx-offload'],
  };
}

/** Runs the source until it is done or stopped; resolves to the exit status. */
export async function runMsource(a: MsourceArgs): Promise<number> {
  const log = new NdjsonLog(a.log);
  const socket = await bindUdpOrStop(log, 'msource', a.ip, a.srcPort, a.waitAddressMs, { sent: 0, errors: 0 }, (s) => {
    s.setMulticastInterface(a.ip);
    s.setMulticastTTL(a.ttl);
    s.setMulticastLoopback(false);
  });
  if (!socket) return 1;

  const ifname = interfaceOf(a.ip);
  const txChecksum = txChecksumSetting(ifname, a.fixTxOffload);
  const intervalNs = 1e9 / a.rate;
  // the stream's origin: datagram k is due at start + round(k·1e9/rate) (the `start` line's t)
  const start = process.hrtime.bigint();
  const dueAt = (k: number): bigint => start + BigInt(Math.round(k * intervalNs));
  const endAt = a.durationMs === null ? null : start + BigInt(Math.round(a.durationMs * 1e6));
  let k = 0;
  let sent = 0;
  const sendErrors = new SendErrorReport(log);
  let timer: NodeJS.Timeout | null = null;
  const { finish, finished } = endOnSignal();
  let over = false;
  log.write('start', { group: a.group, ip: a.ip, rate: a.rate, size: a.size, port: a.port, srcPort: a.srcPort, ttl: a.ttl, if: ifname, txChecksum }, start);

  const last = (): boolean => (a.count !== null && k >= a.count);
  const sendOne = (seq: number): void => {
    const payload = Buffer.alloc(a.size);
    payload.writeUInt32BE(seq >>> 0, 0);
    socket.send(payload, a.port, a.group, (err) => {
      if (err) sendErrors.failed({ seq }, err);
    });
    sent++;
  };
  const tick = (): void => {
    timer = null;
    if (over) return;
    const now = process.hrtime.bigint();
    while (!last() && dueAt(k) <= now && (endAt === null || dueAt(k) < endAt)) {
      const seq = k % 0x100000000;
      sendOne(seq);
      if (k === 0 || k % a.logEvery === 0 || (a.count !== null && k === a.count - 1)) log.write('sent', { seq }, now);
      k++;
    }
    if (last()) return finish('count');
    if (endAt !== null && dueAt(k) >= endAt) return finish('duration');
    const waitMs = Number(dueAt(k) - process.hrtime.bigint()) / 1e6;
    timer = setTimeout(tick, Math.max(0, Math.floor(waitMs)));
  };
  tick();

  const reason = await finished;
  over = true;
  if (timer) clearTimeout(timer);
  // let the last sends' callbacks run (closing cancels what libuv still queues)
  await sleep(20);
  await new Promise<void>((r) => socket.close(() => r()));
  log.write('stop', { sent, errors: sendErrors.total, reason });
  log.close();
  return 0;
}

if (isEntryPoint(import.meta.url)) void runMain(parseMsourceArgs, MSOURCE_USAGE, runMsource);
