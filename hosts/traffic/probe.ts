// The testbed's reachability probe: the sim's probe (sim/net/probe.ts) from a real UDP
// socket, echoing to each target VM and matching the replies.
// Options, targets, log and exit statuses: docs/testbed-processes.md "probe".

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { bindUdpOrStop, SendErrorReport } from './udp-endpoint.js';
import { isIpv4 } from '../../model/address.js';
import { interfaceOf, NdjsonLog, txChecksumSetting } from '../runtime/ndjson-log.js';
import { durationArgMs, endOnSignal, isEntryPoint, numberArg, sleep, UsageError, runMain, parseOptions } from '../runtime/process-kit.js';

export const PROBE_SRC_PORT = 7007;
export const ECHO_PORT = 7;

export interface ProbeArgs {
  ip: string;
  rate: number;
  targets: { name: string; ip: string }[];
  targetsFile: string | null;
  log: string;
  count: number | null;
  durationMs: number | null;
  graceMs: number;
  waitAddressMs: number;
  port: number;
  echoPort: number;
  fixTxOffload: boolean;
}

export const PROBE_USAGE = `usage: node dist/hosts/traffic/probe.js --ip ADDR --rate N [--target NAME=IP …] [--targets-file FILE]
    [--log /run/migsim/probe.ndjson] [--count N] [--duration D] [--grace 1s] [--wait-address 30s]
    [--port 7007] [--echo-port 7] [--keep-tx-offload]`;

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** `NAME=IP`, or why not. */
export function parseTarget(text: string): { name: string; ip: string } | string {
  const i = text.indexOf('=');
  const name = text.slice(0, i).trim();
  const ip = text.slice(i + 1).trim();
  if (i <= 0 || !NAME_RE.test(name) || !isIpv4(ip)) return `${JSON.stringify(text)}: expected NAME=IPv4 (name: letters, digits, . _ -)`;
  return { name, ip };
}

/** The targets of a file's text: one `NAME=IP` a line; blank lines and `#` comments skipped. */
export function parseTargetsText(text: string): { targets: { name: string; ip: string }[]; errors: string[] } {
  const targets: { name: string; ip: string }[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const t = parseTarget(line);
    if (typeof t === 'string') errors.push(`line ${i + 1}: ${t}`);
    else targets.push(t);
  });
  return { targets, errors };
}

export function parseProbeArgs(argv: string[]): ProbeArgs {
  const values = parseOptions(argv, {
    ip: { type: 'string' },
    rate: { type: 'string' },
    target: { type: 'string', multiple: true },
    'targets-file': { type: 'string' },
    log: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    grace: { type: 'string' },
    'wait-address': { type: 'string' },
    port: { type: 'string' },
    'echo-port': { type: 'string' },
    'keep-tx-offload': { type: 'boolean' },
  });
  if (!values.ip || !isIpv4(values.ip)) throw new UsageError(`--ip ${values.ip ?? ''}: expected this container's IPv4 address`);
  if (values.rate === undefined) throw new UsageError('--rate N (echoes per second per target) is required');
  const targets: { name: string; ip: string }[] = [];
  for (const text of values.target ?? []) {
    const t = parseTarget(text);
    if (typeof t === 'string') throw new UsageError(`--target ${t}`);
    if (targets.some((x) => x.name === t.name)) throw new UsageError(`--target ${text}: ${t.name} given twice`);
    targets.push(t);
  }
  if (targets.length === 0 && !values['targets-file']) throw new UsageError('at least one --target NAME=IP or a --targets-file is required');
  return {
    ip: values.ip,
    rate: numberArg(values.rate, 'rate', 0, { min: Number.MIN_VALUE }),
    targets,
    targetsFile: values['targets-file'] ?? null,
    log: values.log ?? '/run/migsim/probe.ndjson',
    count: values.count === undefined ? null : numberArg(values.count, 'count', 0, { min: 1, integer: true }),
    durationMs: durationArgMs(values.duration, 'duration'),
    graceMs: durationArgMs(values.grace, 'grace') ?? 1000,
    waitAddressMs: durationArgMs(values['wait-address'], 'wait-address') ?? 30_000,
    port: numberArg(values.port, 'port', PROBE_SRC_PORT, { min: 1, integer: true }),
    echoPort: numberArg(values['echo-port'], 'echo-port', ECHO_PORT, { min: 1, integer: true }),
    fixTxOffload: !values['keep-tx-offload'],
  };
}

interface Target {
  index: number;
  name: string;
  ip: string;
  addedAt: bigint;
  /** echoes sent */
  k: number;
  /** seqs answered */
  answered: Set<number>;
}

/** Runs the probe until it is done or stopped; resolves to the exit status. */
export async function runProbe(a: ProbeArgs): Promise<number> {
  const log = new NdjsonLog(a.log);
  const socket = await bindUdpOrStop(log, 'probe', a.ip, a.port, a.waitAddressMs, { sent: 0, replies: 0 });
  if (!socket) return 1;
  const ifname = interfaceOf(a.ip);
  const txChecksum = txChecksumSetting(ifname, a.fixTxOffload);
  const intervalNs = 1e9 / a.rate;
  const start = process.hrtime.bigint();
  const stopSendingAt = a.durationMs === null ? null : start + BigInt(Math.round(a.durationMs * 1e6));
  const targets: Target[] = [];
  const byName = new Map<string, Target>();
  let sent = 0;
  let replies = 0;
  const sendErrors = new SendErrorReport(log);
  let lastIgnored = 0;
  let timer: NodeJS.Timeout | null = null;
  let over = false;
  let sending = true;
  const { finish, finished } = endOnSignal();
  log.write('start', { ip: a.ip, rate: a.rate, port: a.port, echoPort: a.echoPort, if: ifname, txChecksum }, start);

  const dueAt = (t: Target): bigint => t.addedAt + BigInt(Math.round(t.k * intervalNs));
  const doneWith = (t: Target): boolean => a.count !== null && t.k >= a.count;

  const add = (name: string, ip: string): void => {
    const have = byName.get(name);
    if (have) {
      if (have.ip !== ip) {
        log.write('target-changed', { target: name, index: have.index, from: have.ip, ip });
        have.ip = ip;
      }
      return;
    }
    const t: Target = { index: targets.length, name, ip, addedAt: process.hrtime.bigint(), k: 0, answered: new Set() };
    targets.push(t);
    byName.set(name, t);
    log.write('target', { target: name, index: t.index, ip }, t.addedAt);
    if (sending && !over) {
      if (timer) clearTimeout(timer);
      tick();
    }
  };

  const readTargetsFile = (): void => {
    if (!a.targetsFile) return;
    let text: string;
    try {
      text = readFileSync(a.targetsFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.write('targets-file-error', { error: (e as Error).message });
      return;
    }
    const { targets: found, errors } = parseTargetsText(text);
    for (const err of errors) log.write('targets-file-error', { error: err });
    for (const t of found) add(t.name, t.ip);
  };

  socket.on('message', (msg, rinfo) => {
    const t = msg.length >= 8 ? targets[msg.readUInt32BE(0)] : undefined;
    const seq = msg.length >= 8 ? msg.readUInt32BE(4) : -1;
    if (!t || rinfo.port !== a.echoPort || rinfo.address !== t.ip || seq >= t.k) {
      const now = Date.now();
      if (now - lastIgnored >= 1000) {
        lastIgnored = now;
        log.write('ignored', { from: rinfo.address, port: rinfo.port, bytes: msg.length });
      }
      return;
    }
    if (t.answered.has(seq)) {
      log.write('reply', { target: t.name, seq, dup: true });
      return;
    }
    t.answered.add(seq);
    replies++;
    log.write('reply', { target: t.name, seq });
  });
  socket.on('error', (e) => log.write('socket-error', { error: e.message }));

  const sendEcho = (t: Target, now: bigint): void => {
    const seq = t.k;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(t.index, 0);
    payload.writeUInt32BE(seq >>> 0, 4);
    socket.send(payload, a.echoPort, t.ip, (err) => {
      if (err) sendErrors.failed({ target: t.name, seq }, err);
    });
    sent++;
    log.write('sent', { target: t.name, seq }, now);
    t.k++;
  };

  const stopSending = (reason: string): void => {
    if (!sending) return;
    sending = false;
    if (timer) clearTimeout(timer);
    timer = null;
    log.write('sending-stopped', { reason, sent });
    setTimeout(() => finish(reason), a.graceMs).unref();
  };

  function tick(): void {
    timer = null;
    if (over || !sending) return;
    const now = process.hrtime.bigint();
    let next: bigint | null = null;
    for (const t of targets) {
      while (!doneWith(t) && dueAt(t) <= now && (stopSendingAt === null || dueAt(t) < stopSendingAt)) sendEcho(t, now);
      if (!doneWith(t)) {
        const d = dueAt(t);
        if (next === null || d < next) next = d;
      }
    }
    if (stopSendingAt !== null && (next === null ? now >= stopSendingAt : next >= stopSendingAt)) return stopSending('duration');
    if (a.count !== null && targets.length > 0 && targets.every(doneWith) && !a.targetsFile) return stopSending('count');
    if (next === null) return; // nothing to send until a target is added
    const waitMs = Number(next - process.hrtime.bigint()) / 1e6;
    timer = setTimeout(tick, Math.max(0, Math.floor(waitMs)));
  }

  let watcher: FSWatcher | null = null;
  let reread: NodeJS.Timeout | null = null;
  const scheduleReread = (): void => {
    if (reread) return;
    reread = setTimeout(() => {
      reread = null;
      readTargetsFile();
    }, 5);
  };
  if (a.targetsFile) {
    // watch the directory: the file may not exist yet, or be replaced by a rename
    try {
      const dir = a.targetsFile.replace(/\/[^/]*$/, '') || '/';
      watcher = watch(dir, () => scheduleReread());
    } catch (e) {
      log.write('targets-file-error', { error: `watch: ${(e as Error).message}` });
    }
  }
  const onHup = () => readTargetsFile();
  process.on('SIGHUP', onHup);

  for (const t of a.targets) add(t.name, t.ip);
  readTargetsFile();
  tick();

  const reason = await finished;
  over = true;
  if (timer) clearTimeout(timer);
  if (reread) clearTimeout(reread);
  watcher?.close();
  process.off('SIGHUP', onHup);
  await sleep(5);
  await new Promise<void>((r) => socket.close(() => r()));
  log.write('stop', { sent, replies, reason });
  log.close();
  return 0;
}

if (isEntryPoint(import.meta.url)) void runMain(parseProbeArgs, PROBE_USAGE, runProbe);
