// The network identity of a testbed VM, in the VM container: starts the guest's own DHCP
// client, joins its multicast groups, serves the echo and multicast-receiver services, and
// logs what it observes.
// Options, signals, log and exit statuses: docs/testbed-processes.md "vm".

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, closeSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isIpv4Multicast } from '../../model/address.js';
import { NdjsonLog, txChecksumSetting } from '../runtime/ndjson-log.js';
import { endOnSignal, isEntryPoint, numberArg, UsageError, runMain, parseOptions } from '../runtime/process-kit.js';

export const ECHO_PORT = 7;
export const MULTICAST_PORT = 5001;
/** a SIGUSR1 within this long of the last one passed on, with no lease event since, is not passed on */
export const RENEW_COALESCE_MS = 10_000;

export interface VmArgs {
  ifname: string;
  name: string | null;
  groups: string[];
  log: string;
  dhcpLog: string;
  script: string | null;
  busybox: string;
  echoPort: number;
  mcastPort: number;
  dhcp: boolean;
  announceIgmp: boolean;
  fixTxOffload: boolean;
}

export const VM_USAGE = `usage: node dist/hosts/vm/main.js [--if eth0] [--name VM] [--group GROUP …]
    [--log /run/migsim/vm.ndjson] [--dhcp-log /run/migsim/udhcpc.ndjson] [--script PATH]
    [--busybox busybox] [--echo-port 7] [--mcast-port 5001] [--no-dhcp] [--announce-igmp] [--keep-tx-offload]`;

export function parseVmArgs(argv: string[]): VmArgs {
  const values = parseOptions(argv, {
    if: { type: 'string' },
    name: { type: 'string' },
    group: { type: 'string', multiple: true },
    log: { type: 'string' },
    'dhcp-log': { type: 'string' },
    script: { type: 'string' },
    busybox: { type: 'string' },
    'echo-port': { type: 'string' },
    'mcast-port': { type: 'string' },
    'no-dhcp': { type: 'boolean' },
    'announce-igmp': { type: 'boolean' },
    'keep-tx-offload': { type: 'boolean' },
  });
  const ifname = values.if ?? 'eth0';
  if (!/^[^/\s]{1,15}$/.test(ifname)) throw new UsageError(`--if ${ifname}: at most 15 characters, no / or spaces`);
  if (values.name !== undefined && !/^[A-Za-z0-9._-]{1,63}$/.test(values.name)) throw new UsageError(`--name ${values.name}: letters, digits, . _ - (at most 63)`);
  const groups: string[] = [];
  for (const g of (values.group ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '')) {
    if (!isIpv4Multicast(g)) throw new UsageError(`--group ${g}: expected an IPv4 multicast group`);
    if (!groups.includes(g)) groups.push(g);
  }
  return {
    ifname,
    name: values.name ?? null,
    groups,
    log: values.log ?? '/run/migsim/vm.ndjson',
    dhcpLog: values['dhcp-log'] ?? '/run/migsim/udhcpc.ndjson',
    script: values.script ?? null,
    busybox: values.busybox ?? 'busybox',
    echoPort: numberArg(values['echo-port'], 'echo-port', ECHO_PORT, { min: 1, integer: true }),
    mcastPort: numberArg(values['mcast-port'], 'mcast-port', MULTICAST_PORT, { min: 1, integer: true }),
    dhcp: !values['no-dhcp'],
    announceIgmp: values['announce-igmp'] ?? false,
    fixTxOffload: !values['keep-tx-offload'],
  };
}

/** hosts/vm/udhcpc.script, from the source tree (hosts/vm/) or from dist/hosts/vm/. */
export function defaultScriptPath(): string {
  for (const rel of ['./udhcpc.script', '../../../hosts/vm/udhcpc.script']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('hosts/vm/udhcpc.script not found beside the vm process or in the source tree');
}

/** The interface's first IPv4 address now, or null. */
function interfaceAddress(ifname: string): string | null {
  return networkInterfaces()[ifname]?.find((a) => a.family === 'IPv4')?.address ?? null;
}

function bindUdp(port: number, address: string | undefined, reuse: boolean): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reuseAddr: reuse });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ port, ...(address ? { address } : {}), exclusive: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** Follows an append-only file: calls `onLine` for each complete line written after `from`. */
class FileFollower {
  private offset: number;
  private partial = '';
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout;

  constructor(private readonly file: string, private readonly onLine: (line: string) => void) {
    this.offset = existsSync(file) ? statSync(file).size : 0;
    try {
      this.watcher = watch(file, () => this.read());
    } catch {
      this.watcher = null;
    }
    this.poll = setInterval(() => this.read(), 100);
  }

  read(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = statSync(this.file).size;
      if (size < this.offset) this.offset = 0; // truncated
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buf.subarray(0, n).toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') this.onLine(l);
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
  }
}

/** Runs the vm process until it is stopped; resolves to the exit status. */
export async function runVm(a: VmArgs): Promise<number> {
  const log = new NdjsonLog(a.log);
  const txChecksum = txChecksumSetting(a.ifname, a.fixTxOffload);
  log.write('start', { name: a.name, if: a.ifname, groups: a.groups, pid: process.pid, txChecksum });
  let stopping = false;

  // ---- echo (port 7) and the multicast receivers
  let echo: Socket;
  const groupSockets = new Map<string, Socket>();
  try {
    echo = await bindUdp(a.echoPort, undefined, false);
    for (const g of a.groups) groupSockets.set(g, await bindUdp(a.mcastPort, g, true));
  } catch (e) {
    process.stderr.write(`vm: ${(e as Error).message}\n`);
    log.write('stop', { reason: `socket: ${(e as Error).message}` });
    log.close();
    return 1;
  }
  echo.on('message', (msg, rinfo) => {
    echo.send(msg, rinfo.port, rinfo.address);
    log.write('echo', { from: rinfo.address, port: rinfo.port, index: msg.length >= 8 ? msg.readUInt32BE(0) : null, seq: msg.length >= 8 ? msg.readUInt32BE(4) : null });
  });
  echo.on('error', (e) => log.write('socket-error', { port: a.echoPort, error: e.message }));
  for (const [group, s] of groupSockets) {
    s.on('message', (msg) => log.write('multicast', { group, seq: msg.length >= 4 ? msg.readUInt32BE(0) : null, bytes: msg.length }));
    s.on('error', (e) => log.write('socket-error', { group, error: e.message }));
  }

  // ---- memberships, on the leased address
  let joinedOn: string | null = null;
  const joinAll = (ip: string): void => {
    for (const [group, s] of groupSockets) {
      try {
        s.addMembership(group, ip);
        log.write('joined', { group, ip });
      } catch (e) {
        log.write('join-error', { group, ip, error: (e as Error).message });
      }
    }
    joinedOn = ip;
  };
  const leaveAll = (ip: string): void => {
    for (const [group, s] of groupSockets) {
      try {
        s.dropMembership(group, ip);
      } catch {
        /* the address may be gone already; the membership went with the old device state */
      }
    }
    joinedOn = null;
  };
  const joinOn = (ip: string): void => {
    if (joinedOn === ip) return;
    if (joinedOn !== null) leaveAll(joinedOn);
    joinAll(ip);
  };

  // ---- DHCP
  let udhcpc: ChildProcess | null = null;
  /** a SIGUSR1 was passed on and no lease event has come since (Date.now() ms), else null */
  let renewPendingSince: number | null = null;
  let follower: FileFollower | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let currentIp: string | null = null;
  if (a.dhcp) {
    const dir = dirname(a.dhcpLog);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'udhcpc.script');
    try {
      copyFileSync(a.script ?? defaultScriptPath(), script);
      chmodSync(script, 0o755);
    } catch (e) {
      process.stderr.write(`vm: udhcpc script: ${(e as Error).message}\n`);
      log.write('stop', { reason: `script: ${(e as Error).message}` });
      log.close();
      return 1;
    }
    closeSync(openSync(a.dhcpLog, 'a'));
    follower = new FileFollower(a.dhcpLog, (line) => {
      let ev: Record<string, string>;
      try {
        ev = JSON.parse(line) as Record<string, string>;
      } catch {
        log.write('dhcp', { event: 'unparsable', line });
        return;
      }
      if (ev.event === 'bound' || ev.event === 'renew' || ev.event === 'deconfig') renewPendingSince = null;
      if ((ev.event === 'bound' || ev.event === 'renew') && ev.ip) {
        log.write('leased', { ip: ev.ip, event: ev.event, lease: Number(ev.lease) || null, serverid: ev.serverid || null, mask: ev.mask || null });
        currentIp = ev.ip;
        joinOn(ev.ip);
      } else {
        log.write('dhcp', { event: ev.event ?? null, message: ev.message || null });
      }
    });
    const startUdhcpc = (): void => {
      if (stopping) return;
      const args = ['udhcpc', '-f', '-i', a.ifname, '-s', script, '-t', '3', '-T', '1', '-A', '2', ...(a.name ? ['-x', `hostname:${a.name}`] : [])];
      const child = spawn(a.busybox, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MIGSIM_UDHCPC_LOG: a.dhcpLog } });
      udhcpc = child;
      child.once('spawn', () => log.write('udhcpc-start', { pid: child.pid ?? null, argv: [a.busybox, ...args] }));
      for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => log.write('udhcpc', { line }));
      const ended = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
        if (udhcpc === child) udhcpc = null;
        follower?.read();
        log.write('udhcpc-exit', { code, signal, ...(error ? { error } : {}) });
        if (!stopping) restartTimer = setTimeout(startUdhcpc, 1000);
      };
      child.once('error', (e) => ended(null, null, e.message));
      child.once('exit', (code, signal) => ended(code, signal));
    };
    startUdhcpc();
  } else {
    // no DHCP: the address is configured by someone else; join on it when it appears
    const wait = setInterval(() => {
      const ip = interfaceAddress(a.ifname);
      if (ip) {
        currentIp = ip;
        joinOn(ip);
      }
    }, 100);
    wait.unref();
  }

  // ---- signals
  let announcing = false;
  const onUsr1 = (): void => {
    const now = Date.now();
    if (renewPendingSince !== null && now - renewPendingSince < RENEW_COALESCE_MS) {
      log.write('renew-coalesced', { pendingMs: now - renewPendingSince });
      return;
    }
    renewPendingSince = now;
    log.write('renew-requested', { udhcpc: udhcpc?.pid ?? null });
    udhcpc?.kill('SIGUSR1');
  };
  const onUsr2 = (): void => {
    const ip = currentIp ?? interfaceAddress(a.ifname);
    log.write('announce', { ip, groups: a.announceIgmp ? a.groups : [] });
    if (ip && !announcing) {
      announcing = true;
      const arping = spawn(a.busybox, ['arping', '-U', '-c', '1', '-w', '1', '-I', a.ifname, '-s', ip, ip], { stdio: 'ignore' });
      const done = (code: number | null): void => {
        announcing = false;
        log.write('announce-done', { code });
      };
      arping.once('error', () => done(null));
      arping.once('exit', (code) => done(code));
    }
    if (ip && a.announceIgmp && joinedOn !== null) {
      const on = joinedOn;
      leaveAll(on);
      joinAll(on);
    }
  };
  const { finished } = endOnSignal();
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);

  const reason = await finished;
  stopping = true;
  process.off('SIGUSR1', onUsr1);
  process.off('SIGUSR2', onUsr2);
  if (restartTimer) clearTimeout(restartTimer);
  const child = udhcpc as ChildProcess | null;
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM'); // no -R: the lease is not released
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }
  follower?.read();
  follower?.close();
  echo.close();
  for (const s of groupSockets.values()) s.close();
  log.write('stop', { reason });
  log.close();
  return 0;
}

if (isEntryPoint(import.meta.url)) void runMain(parseVmArgs, VM_USAGE, runVm);
