// The testbed's DHCP server process: writes the scenario's dhcpd.conf (dhcpd-config.ts) and
// runs ISC dhcpd in the foreground on one interface, logging what it prints.
// Options, log and exit statuses: docs/testbed-processes.md "dhcp".

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NdjsonLog, txChecksumSetting } from '../runtime/ndjson-log.js';
import { durationArgMs, isEntryPoint, numberArg, UsageError, parseOptions, runMain } from '../runtime/process-kit.js';
import { dhcpAddressing, dhcpdConfig, parseSubnet } from './dhcpd-config.js';

export interface DhcpMainArgs {
  subnet: string;
  leaseSeconds: number;
  sources: number;
  ifname: string;
  dir: string;
  log: string;
  dhcpd: string;
  address: boolean;
  fixTxOffload: boolean;
  printConfig: boolean;
}

export const DHCP_USAGE = `usage: node dist/hosts/dhcp/main.js --subnet CIDR --lease-time D [--sources N] [--if eth0]
    [--dir /run/migsim/dhcp] [--log /run/migsim/dhcpd.ndjson] [--dhcpd /usr/sbin/dhcpd] [--no-address] [--keep-tx-offload]
    [--print-config]`;

export function parseDhcpArgs(argv: string[]): DhcpMainArgs {
  const values = parseOptions(argv, {
    subnet: { type: 'string' },
    'lease-time': { type: 'string' },
    sources: { type: 'string' },
    if: { type: 'string' },
    dir: { type: 'string' },
    log: { type: 'string' },
    dhcpd: { type: 'string' },
    'no-address': { type: 'boolean' },
    'keep-tx-offload': { type: 'boolean' },
    'print-config': { type: 'boolean' },
  });
  if (!values.subnet) throw new UsageError('--subnet CIDR is required');
  try {
    parseSubnet(values.subnet);
  } catch (e) {
    throw new UsageError(`--subnet: ${(e as Error).message}`);
  }
  const leaseMs = durationArgMs(values['lease-time'], 'lease-time');
  if (leaseMs === null) throw new UsageError('--lease-time D is required (seconds, or 90s, 10m, 1h)');
  if (leaseMs < 1000) throw new UsageError(`--lease-time ${values['lease-time']}: at least 1 s`);
  const ifname = values.if ?? 'eth0';
  if (!/^[^/\s]{1,15}$/.test(ifname)) throw new UsageError(`--if ${ifname}: at most 15 characters, no / or spaces`);
  const dir = values.dir ?? '/run/migsim/dhcp';
  return {
    subnet: values.subnet,
    leaseSeconds: Math.round(leaseMs / 1000),
    sources: numberArg(values.sources, 'sources', 0, { min: 0, integer: true }),
    ifname,
    dir,
    log: values.log ?? '/run/migsim/dhcpd.ndjson',
    dhcpd: values.dhcpd ?? '/usr/sbin/dhcpd',
    address: !values['no-address'],
    fixTxOffload: !values['keep-tx-offload'],
    printConfig: values['print-config'] ?? false,
  };
}

/** Make sure `ifname` is up and carries `ip/prefix`; returns what was done. */
function ensureAddress(ifname: string, ip: string, prefix: number): string {
  const show = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', ifname], { encoding: 'utf8' });
  if (show.status !== 0) throw new Error(`ip addr show dev ${ifname}: ${(show.stderr || show.stdout || String(show.error)).trim()}`);
  const up = spawnSync('ip', ['link', 'set', ifname, 'up'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`ip link set ${ifname} up: ${(up.stderr || String(up.error)).trim()}`);
  if (new RegExp(`\\binet ${ip.replace(/\./g, '\\.')}/`).test(show.stdout)) return 'present';
  const add = spawnSync('ip', ['addr', 'add', `${ip}/${prefix}`, 'dev', ifname], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip addr add ${ip}/${prefix} dev ${ifname}: ${(add.stderr || String(add.error)).trim()}`);
  return 'added';
}

/** Runs dhcpd until it exits or this process is stopped; resolves to the exit status. */
export async function runDhcp(a: DhcpMainArgs): Promise<number> {
  const conf = dhcpdConfig({ subnet: a.subnet, leaseSeconds: a.leaseSeconds, sources: a.sources });
  if (a.printConfig) {
    process.stdout.write(conf);
    return 0;
  }
  const addr = dhcpAddressing(a);
  const { prefix } = parseSubnet(a.subnet);
  mkdirSync(a.dir, { recursive: true });
  const confFile = join(a.dir, 'dhcpd.conf');
  const leases = join(a.dir, 'dhcpd.leases');
  const pidFile = join(a.dir, 'dhcpd.pid');
  writeFileSync(confFile, conf);
  if (!existsSync(leases)) writeFileSync(leases, '');
  const log = new NdjsonLog(a.log);

  let address = 'not checked';
  if (a.address) {
    try {
      address = ensureAddress(a.ifname, addr.serverIp, prefix);
    } catch (e) {
      process.stderr.write(`dhcp: ${(e as Error).message}\n`);
      log.write('exit', { code: null, signal: null, error: (e as Error).message });
      log.close();
      return 1;
    }
  }

  const txChecksum = txChecksumSetting(a.ifname, a.fixTxOffload);
  const argv = ['-4', '-f', '-d', '-cf', confFile, '-lf', leases, '-pf', pidFile, a.ifname];
  const child = spawn(a.dhcpd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
    child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  log.write('start', { conf: confFile, leases, pid: child.pid ?? null, argv: [a.dhcpd, ...argv], serverIp: addr.serverIp, address, pool: [addr.poolFirst, addr.poolLast], switchIp: addr.switchIp, leaseSeconds: a.leaseSeconds, txChecksum });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => log.write('dhcpd', { line }));
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const r = await exited;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  // the last lines of its output
  await new Promise((res) => setTimeout(res, 20));
  log.write('exit', { code: r.code, signal: r.signal, ...(r.error ? { error: r.error } : {}), stopped: stopping });
  log.close();
  if (!stopping) process.stderr.write(`dhcp: dhcpd exited (code ${r.code}, signal ${r.signal}${r.error ? `, ${r.error}` : ''}); see ${a.log}\n`);
  return stopping ? 0 : 1;
}

/** A configuration dhcpd cannot serve (RangeError) is bad input, exit 2; anything else 1. */
function runDhcpOrSay(a: DhcpMainArgs): Promise<number> {
  return runDhcp(a).catch((e: unknown) => {
    process.stderr.write(`dhcp: ${(e as Error).message}\n`);
    return e instanceof RangeError ? 2 : 1;
  });
}

if (isEntryPoint(import.meta.url)) void runMain(parseDhcpArgs, DHCP_USAGE, runDhcpOrSay);
