// The testbed processes' pure parts, without root or a network: the dhcpd.conf a scenario
// gives (the sim's addresses), every command line's checks, the probe's targets file, the
// NDJSON log, and the udhcpc script run by a real /bin/sh against a fake `ip`. These run in
// the default suite too (vitest.config.ts does not exclude it).

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { addressing } from '../model/scenario/addressing.js';
import { parseAddr, parseHostAgentArgs } from './agent/args.js';
import { hostReadyKey } from './agent/main.js';
import { VmJsonSchema } from './control/messages.js';
import { dhcpdConfig, parseSubnet } from './dhcp/dhcpd-config.js';
import { parseDhcpArgs } from './dhcp/main.js';
import { parseMsourceArgs } from './traffic/msource.js';
import { NdjsonLog } from './runtime/ndjson-log.js';
import { bindUdpOrStop, SendErrorReport } from './traffic/udp-endpoint.js';
import { durationArgMs } from './runtime/process-kit.js';
import { parseProbeArgs, parseTargetsText } from './traffic/probe.js';
import { defaultScriptPath, parseVmArgs } from './vm/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'migsim-procs-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dhcpd.conf for a scenario', () => {
  it('uses the sim’s addresses: the pool excludes the server, probe, sources, switch, network and broadcast', () => {
    const conf = dhcpdConfig({ subnet: '10.77.0.0/24', leaseSeconds: 600, sources: 2 });
    const a = addressing('10.77.0.0/24', 2);
    expect(a).toMatchObject({ serverIp: '10.77.0.1', probeIp: '10.77.0.2', poolFirst: '10.77.0.6', poolLast: '10.77.0.253', switchIp: '10.77.0.254' });
    expect(conf).toContain('subnet 10.77.0.0 netmask 255.255.255.0 {\n  range 10.77.0.6 10.77.0.253;\n');
    for (const line of ['authoritative;', 'allow leasequery;', 'ping-check false;', 'one-lease-per-client true;', 'default-lease-time 600;', 'max-lease-time 600;', 'min-lease-time 600;', 'option broadcast-address 10.77.0.255;']) {
      expect(conf.split('\n')).toContain(line.startsWith('option') ? `  ${line}` : line);
    }
    // deterministic
    expect(dhcpdConfig({ subnet: '10.77.0.0/24', leaseSeconds: 600, sources: 2 })).toBe(conf);
    expect(dhcpdConfig({ subnet: '192.168.8.0/22', leaseSeconds: 3599.6, sources: 0 })).toContain('range 192.168.8.4 192.168.11.253;');
    expect(dhcpdConfig({ subnet: '192.168.8.0/22', leaseSeconds: 3599.6, sources: 0 })).toContain('max-lease-time 3600;');
  });

  it('refuses what dhcpd could not serve', () => {
    expect(() => parseSubnet('10.77.0.1/24')).toThrow(/host bits are set \(the network is 10\.77\.0\.0\/24\)/);
    expect(() => parseSubnet('10.77.0.0/30')).toThrow(/\/8 to \/29/);
    expect(() => parseSubnet('10.77.300.0/24')).toThrow(/not an IPv4 address/);
    expect(() => dhcpdConfig({ subnet: '10.77.0.0/29', leaseSeconds: 60, sources: 3 })).toThrow(/no room for a pool/);
    expect(() => dhcpdConfig({ subnet: '10.77.0.0/24', leaseSeconds: 0, sources: 0 })).toThrow(/lease time/);
  });
});

describe('command lines', () => {
  it('dhcp', () => {
    expect(parseDhcpArgs(['--subnet', '10.77.0.0/24', '--lease-time', '1h'])).toMatchObject({ leaseSeconds: 3600, sources: 0, ifname: 'eth0', address: true, fixTxOffload: true });
    expect(parseDhcpArgs(['--subnet', '10.77.0.0/24', '--lease-time', '90', '--sources', '1', '--no-address', '--keep-tx-offload'])).toMatchObject({ leaseSeconds: 90, sources: 1, address: false, fixTxOffload: false });
    expect(() => parseDhcpArgs(['--subnet', '10.77.0.0/24'])).toThrow(/--lease-time D is required/);
    expect(() => parseDhcpArgs(['--subnet', '10.77.0.0/24', '--lease-time', '500ms'])).toThrow(/at least 1 s/);
    expect(() => parseDhcpArgs(['--subnet', '10.77.0.0/24', '--lease-time', '1h', '--bogus'])).toThrow(/bogus/);
  });

  it('msource and probe', () => {
    expect(parseMsourceArgs(['--ip', '10.77.0.3', '--group', '239.1.1.1', '--rate', '1000', '--size', '1200'])).toMatchObject({ port: 5001, srcPort: 5000, ttl: 16, logEvery: 1000, count: null, durationMs: null });
    expect(() => parseMsourceArgs(['--ip', '10.77.0.3', '--group', '10.1.1.1', '--rate', '1', '--size', '4'])).toThrow(/multicast group/);
    expect(() => parseMsourceArgs(['--ip', '10.77.0.3', '--group', '239.1.1.1', '--rate', '1', '--size', '3'])).toThrow(/--size 3/);
    expect(() => parseMsourceArgs(['--ip', '10.77.0.3', '--group', '239.1.1.1', '--rate', '0', '--size', '4'])).toThrow(/--rate 0/);
    expect(parseProbeArgs(['--ip', '10.77.0.2', '--rate', '1000', '--target', 'vm1=10.77.0.5', '--duration', '2s'])).toMatchObject({ targets: [{ name: 'vm1', ip: '10.77.0.5' }], durationMs: 2000, graceMs: 1000, port: 7007, echoPort: 7 });
    expect(() => parseProbeArgs(['--ip', '10.77.0.2', '--rate', '1000', '--target', 'vm1=10.77.0.5', '--target', 'vm1=10.77.0.6'])).toThrow(/given twice/);
    expect(() => parseProbeArgs(['--ip', '10.77.0.2', '--rate', '1000'])).toThrow(/--target/);
    expect(parseTargetsText('# targets\nvm1=10.77.0.5\n\nvm2 = 10.77.0.6 # second\nbad line\nvm3=10.77.0.999\n')).toEqual({
      targets: [{ name: 'vm1', ip: '10.77.0.5' }, { name: 'vm2', ip: '10.77.0.6' }],
      errors: [expect.stringMatching(/^line 5: /), expect.stringMatching(/^line 6: /)],
    });
    expect(durationArgMs('2.5', 'x')).toBe(2500);
    expect(durationArgMs('1m', 'x')).toBe(60_000);
    expect(() => durationArgMs('2 weeks', 'x')).toThrow(/duration/);
  });

  it('vm process', () => {
    expect(parseVmArgs([])).toMatchObject({ ifname: 'eth0', groups: [], log: '/run/migsim/vm.ndjson', dhcp: true, echoPort: 7, mcastPort: 5001, announceIgmp: false, fixTxOffload: true });
    expect(parseVmArgs(['--group', '239.1.1.1,239.2.2.2', '--group', '239.1.1.1']).groups).toEqual(['239.1.1.1', '239.2.2.2']);
    expect(() => parseVmArgs(['--group', '10.0.0.1'])).toThrow(/multicast/);
    expect(readFileSync(defaultScriptPath(), 'utf8')).toMatch(/^#!\/bin\/sh\n/);
  });

  it('host agent', () => {
    const base = ['--redis', '127.0.0.1:6379', '--run', 'r1', '--host', 'h1', '--uplink', 'uplink', '--listen', '7100', '--advertise', '10.99.0.1:7100'];
    expect(parseHostAgentArgs(base)).toMatchObject({ listenPort: 7100, listenHost: '0.0.0.0', vdp: null, configWaitMs: 30_000, lldpIntervalMs: 30_000 });
    expect(parseHostAgentArgs([...base, '--vdp', 'standard']).vdp).toBe('standard');
    expect(() => parseHostAgentArgs([...base, '--vdp', 'fancy'])).toThrow(/--vdp fancy/);
    expect(() => parseHostAgentArgs(base.map((x) => (x === '10.99.0.1:7100' ? '10.99.0.1' : x)))).toThrow(/ADDR:PORT/);
    expect(() => parseHostAgentArgs(base.map((x) => (x === 'r1' ? 'r:1' : x)))).toThrow(/--run r:1/);
    expect(parseAddr('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(hostReadyKey('r1', 'h1')).toBe('migsim:r1:host:h1:ready');
    expect(VmJsonSchema.safeParse({ name: 'vm1', memoryBytes: 1 << 20, workload: { kind: 'hotset', writeRate: 10, hotset: 5 } }).success).toBe(false);
    expect(VmJsonSchema.safeParse({ name: 'vm1', memoryBytes: 1 << 20, host: 'h1', multicast: [], workload: { kind: 'hotset', writeRate: 10, hotsetBytes: 4096 } }).success).toBe(true);
  });
});

/** An NDJSON file's lines, as written (t a decimal string). */
const linesOf = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('NdjsonLog', () => {
  it('writes one JSON object a line with a CLOCK_MONOTONIC ns time, flushed by close', () => {
    const file = join(tmp, 'sub', 'x.ndjson');
    const log = new NdjsonLog(file, 1000);
    const before = process.hrtime.bigint();
    log.write('a', { n: 1, big: 5n });
    log.write('b', {}, 42n);
    log.close();
    log.write('c'); // ignored
    const lines = linesOf(file);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ kind: 'a', n: 1, big: '5' });
    expect(BigInt(lines[0]!.t as string)).toBeGreaterThanOrEqual(before);
    expect(lines[1]).toEqual({ t: '42', kind: 'b' });
  });
});

describe('the traffic processes\' UDP end', () => {
  it('send failures: at most one line a second, each counting the failures since the last; total counts all', () => {
    const file = join(tmp, 'send-errors.ndjson');
    const log = new NdjsonLog(file, 1000);
    const report = new SendErrorReport(log);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(10_000);
      report.failed({ seq: 1 }, new Error('ENOBUFS'));
      vi.setSystemTime(10_400);
      report.failed({ seq: 2 }, new Error('ENOBUFS'));
      report.failed({ seq: 3 }, new Error('ENOBUFS'));
      vi.setSystemTime(11_000);
      report.failed({ seq: 4 }, new Error('EPERM'));
      vi.setSystemTime(11_999);
      report.failed({ seq: 5 }, new Error('EPERM'));
    } finally {
      vi.useRealTimers();
    }
    log.close();
    const lines = linesOf(file);
    expect(lines.map(({ t: _t, ...rest }) => rest)).toEqual([
      { kind: 'send-error', seq: 1, error: 'ENOBUFS', count: 1 },
      { kind: 'send-error', seq: 4, error: 'EPERM', count: 3 },
    ]);
    expect(report.total).toBe(5);
  });

  it('an address on no interface: null, and the log\'s stop line says why with zero counts', async () => {
    const file = join(tmp, 'bind-fails.ndjson');
    const log = new NdjsonLog(file, 1000);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let socket;
    let said: unknown[][];
    try {
      // TEST-NET-3 (RFC 5737): on no interface here; nothing is sent
      socket = await bindUdpOrStop(log, 'probe', '203.0.113.9', 7007, 0, { sent: 0, replies: 0 });
    } finally {
      said = stderr.mock.calls.slice();
      stderr.mockRestore();
    }
    expect(socket).toBeNull();
    expect(said).toHaveLength(1);
    expect(String(said[0]![0])).toMatch(/^probe: cannot use 203\.0\.113\.9:7007: .*EADDRNOTAVAIL/);
    const lines = linesOf(file);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'stop', sent: 0, replies: 0, reason: expect.stringMatching(/^socket: .*EADDRNOTAVAIL/) });
  });
});

describe('udhcpc.script under /bin/sh, against a fake ip', () => {
  /** Runs the script for `event` with udhcpc's environment; the fake `ip` reports `addrs` and logs its calls. */
  function runScript(event: string, env: Record<string, string>, addrs: string[]): { calls: string[]; log: Record<string, string>[] } {
    const dir = mkdtempSync(join(tmp, 'sh-'));
    const calls = join(dir, 'calls');
    const fake = join(dir, 'ip');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> "${calls}"\nif [ "$1 $2 $3 $4" = "-4 -o addr show" ]; then\n${addrs.map((a) => `  echo "2: eth0    inet ${a} brd x scope global eth0"`).join('\n')}\nfi\nexit 0\n`);
    chmodSync(fake, 0o755);
    const log = join(dir, 'udhcpc.ndjson');
    const r = spawnSync('/bin/sh', [defaultScriptPath(), event], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, MIGSIM_UDHCPC_LOG: log, interface: 'eth0', ...env } });
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
    return { calls: read(calls).trimEnd().split('\n').filter((l) => l !== ''), log: read(log).trimEnd().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, string>) };
  }

  it('bound: drops other addresses, adds the leased one, logs the event', () => {
    const r = runScript('bound', { ip: '10.77.0.5', mask: '24', subnet: '255.255.255.0', broadcast: '10.77.0.255', lease: '600', serverid: '10.77.0.1' }, ['10.9.9.9/8']);
    expect(r.calls).toEqual(['-4 -o addr show dev eth0', 'addr del 10.9.9.9/8 dev eth0', '-4 -o addr show dev eth0', 'addr add 10.77.0.5/24 broadcast 10.77.0.255 dev eth0']);
    expect(r.log).toEqual([{ event: 'bound', ip: '10.77.0.5', mask: '24', router: '', lease: '600', serverid: '10.77.0.1', message: '' }]);
  });

  it('renew of the same address changes nothing on the interface (no flap); a router becomes the default route', () => {
    const r = runScript('renew', { ip: '10.77.0.5', mask: '24', lease: '590', router: '10.77.0.9 10.77.0.10', message: 'say "hi"' }, ['10.77.0.5/24']);
    expect(r.calls).toEqual(['-4 -o addr show dev eth0', '-4 -o addr show dev eth0', 'route replace default via 10.77.0.9 dev eth0']);
    expect(r.log[0]).toMatchObject({ event: 'renew', ip: '10.77.0.5', router: '10.77.0.9 10.77.0.10', message: 'say hi' });
  });

  it('deconfig: link up, IPv4 flushed; leasefail and nak only logged', () => {
    expect(runScript('deconfig', {}, []).calls).toEqual(['link set eth0 up', '-4 addr flush dev eth0']);
    const r = runScript('nak', { message: 'wrong network' }, []);
    expect(r.calls).toEqual([]);
    expect(r.log).toEqual([{ event: 'nak', ip: '', mask: '', router: '', lease: '', serverid: '', message: 'wrong network' }]);
  });
});
