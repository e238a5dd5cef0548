// Hostile and careless input, as a CI job running `migsim` on contributors' files meets it:
// every case gets its exit status and a one-line message naming what is wrong, no stack
// trace, in bounded time (10 s) and memory (1 GiB peak RSS, the child's own accounting).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'migsim-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LIMIT_MS = 10_000;
const LIMIT_RSS_MIB = 1024;

interface Outcome {
  code: number | null;
  out: string;
  err: string;
  ms: number;
  rssMib: number;
}

/** The built CLI in a child, its peak RSS reported by the child itself at exit. */
function migsim(args: string[], cwd = process.cwd()): Outcome {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', join(process.cwd(), 'bench/rss-hook.js'), join(process.cwd(), 'bin/migsim.js'), ...args], {
    encoding: 'utf8',
    cwd,
    timeout: LIMIT_MS + 5_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = performance.now() - t0;
  const rssKb = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(r.stderr ?? '')?.[1] ?? NaN);
  const err = (r.stderr ?? '').replace(/\n?BENCH_MAX_RSS_KB=\d+\n?/, '');
  return { code: r.status, out: r.stdout ?? '', err, ms, rssMib: rssKb / 1024 };
}

function file(name: string, text: string | Buffer): string {
  const p = join(work, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const BASE = {
  hosts: 'hosts: [h1, h2]',
  vm: (extra = '', workload = '{ kind: hotset, writeRate: 5000/s, hotset: 4MiB }') => `vms:\n  - { name: vm1, host: h1, memory: 64MiB, workload: ${workload}${extra} }`,
  migration: 'migrations:\n  - { vm: vm1, to: h2, at: 1s }',
};

/** A small valid scenario with `edit` applied to its lines. */
function scenario(name: string, lines: string[]): string {
  return file(`${name}.yaml`, [`name: ${name}`, ...lines].join('\n') + '\n');
}
const plain = (name: string, over: Partial<Record<'hosts' | 'vm' | 'migration', string>> = {}, more: string[] = []) =>
  scenario(name, [over.hosts ?? BASE.hosts, over.vm ?? BASE.vm(), over.migration ?? BASE.migration, ...more]);

interface Case {
  name: string;
  args: () => string[];
  code: number;
  /** what the message must name (the field, the flag, the file) */
  names: RegExp;
  /** what must never be printed (a foreign file's content) */
  never?: RegExp;
}

const NET = ['duration: 30s', 'switch: { vdp: extended }', 'dhcp: { subnet: 10.77.0.0/24, leaseTime: 10m }'];

const cases: Case[] = [
  // sizes and counts beyond the machine
  { name: 'a 1 PiB VM (written in GiB)', args: () => ['validate', plain('pib', { vm: 'vms:\n  - { name: vm1, host: h1, memory: 1048576GiB }' })], code: 2, names: /vms\[0\]\.memory/ },
  { name: 'a size in a unit migsim does not have (PiB)', args: () => ['validate', plain('pib-unit', { vm: 'vms:\n  - { name: vm1, host: h1, memory: 1PiB }' })], code: 2, names: /vms\[0\]\.memory/ },
  { name: 'a 4 TiB VM at pages fidelity', args: () => ['run', plain('tib', { vm: 'vms:\n  - { name: vm1, host: h1, memory: 4096GiB }' })], code: 2, names: /memory|fidelity/ },
  { name: 'a million migrations', args: () => ['validate', scenario('million', [BASE.hosts, BASE.vm(), 'migrations:', ...Array.from({ length: 1_000_000 }, (_, i) => `  - { vm: vm1, to: h${(i % 2) + 1}, at: ${i + 1}s }`)])], code: 2, names: /migrations|bytes|size/ },
  { name: 'a probe at 10^9/s', args: () => ['validate', plain('probe-rate', {}, [...NET, 'probe: { rate: 1000000000/s }'])], code: 2, names: /probe\.rate/ },
  { name: 'a multicast source at 10^9/s', args: () => ['validate', plain('ms-rate', {}, [...NET, 'multicastSources: [{ group: 239.1.1.1, rate: 1000000000/s, size: 100B }]'])], code: 2, names: /multicastSources\[0\]\.rate/ },
  { name: 'a write rate of 10^15/s', args: () => ['run', plain('write-rate', { vm: BASE.vm('', '{ kind: uniform, writeRate: 1000000000000000/s }') })], code: 2, names: /writeRate/ },
  { name: 'a 1 bit/s migration link', args: () => ['run', plain('slow-link', {}, ['network: { migrationLink: { bandwidth: 1bit/s } }'])], code: 2, names: /bandwidth/ },
  { name: 'a 1 bit/s migration link at fluid fidelity', args: () => ['run', plain('slow-link-fluid', {}, ['fidelity: fluid', 'network: { migrationLink: { bandwidth: 1bit/s } }'])], code: 2, names: /bandwidth/ },
  { name: 'a 1 ms lease in a 1 h run', args: () => ['run', plain('short-lease', {}, ['duration: 1h', 'switch: { vdp: extended }', 'dhcp: { subnet: 10.77.0.0/24, leaseTime: 1ms }'])], code: 2, names: /leaseTime/ },
  { name: 'a 100,000-character name', args: () => ['run', file('long-name.yaml', `name: ${'a'.repeat(100_000)}\n${BASE.hosts}\n${BASE.vm()}\n${BASE.migration}\n`), '--out', join(work, 'out-long')], code: 2, names: /name/ },
  // traces
  { name: 'a trace file that is /dev/zero', args: () => ['run', plain('zero-trace', { vm: BASE.vm('', '{ kind: trace, file: /dev/zero }') }), '--allow-outside'], code: 2, names: /\/dev\/zero.*workload\.file/ },
  { name: 'a trace file that is /dev/urandom', args: () => ['run', plain('random-trace', { vm: BASE.vm('', '{ kind: trace, file: /dev/urandom }') }), '--allow-outside'], code: 2, names: /\/dev\/urandom.*workload\.file/ },
  { name: 'a trace outside the scenario directory', args: () => ['validate', plain('escape', { vm: BASE.vm('', '{ kind: trace, file: ../../../../../../etc/passwd }') })], code: 2, names: /workload\.file: \/etc\/passwd is outside/ },
  { name: 'a 2 GiB sparse trace', args: () => { const t = join(work, 'huge.trace'); writeFileSync(t, ''); truncateSync(t, 2 ** 31); return ['validate', plain('huge-trace', { vm: BASE.vm('', '{ kind: trace, file: huge.trace }') })]; }, code: 2, names: /huge\.trace.*128 MiB/ },
  { name: 'a trace that is someone else\'s file (its content is never echoed)', args: () => { file('passwd.trace', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'); return ['validate', plain('passwd-trace', { vm: BASE.vm('', '{ kind: trace, file: passwd.trace }') })]; }, code: 2, names: /passwd\.trace:1/, never: /root|daemon|nologin/ },
  { name: 'a trace with a malformed line', args: () => { file('bad.trace', '0 1\n5 x\n'); return ['validate', plain('bad-trace', { vm: BASE.vm('', '{ kind: trace, file: bad.trace }') })]; }, code: 2, names: /bad\.trace:2/ },
  { name: 'a trace at fluid fidelity', args: () => { file('ok.trace', '0 1\n5 2\n'); return ['validate', plain('fluid-trace', { vm: BASE.vm('', '{ kind: trace, file: ok.trace }') }, ['fidelity: fluid'])]; }, code: 2, names: /workload/ },
  // what run refuses, validate refuses
  { name: 'a probe without a duration', args: () => ['validate', plain('probe-no-duration', {}, ['dhcp: { subnet: 10.77.0.0/24 }', 'probe: { rate: 100/s }'])], code: 2, names: /duration/ },
  { name: 'a probe without dhcp', args: () => ['validate', plain('probe-no-dhcp', {}, ['duration: 10s', 'probe: { rate: 100/s }'])], code: 2, names: /probe/ },
  { name: 'dhcpRebind without dhcp', args: () => ['validate', plain('rebind-no-dhcp', {}, ['duration: 10s', 'switch: { vdp: extended, dhcpRebind: leasequery }'])], code: 2, names: /dhcpRebind/ },
  { name: 'VMs on two VLANs with one DHCP subnet', args: () => ['validate', scenario('two-vlans', [BASE.hosts, ...NET, 'vms:', '  - { name: vm1, host: h1, memory: 64MiB, vlan: 10 }', '  - { name: vm2, host: h1, memory: 64MiB, mac: 02:00:00:00:00:02, vlan: 20 }', BASE.migration])], code: 2, names: /vlan|vms/ },
  { name: 'a host too small for its VMs', args: () => ['validate', scenario('capacity', ['hosts: [{ name: h1, memory: 100MiB }, h2]', 'vms:', '  - { name: vm1, host: h1, memory: 64MiB }', '  - { name: vm2, host: h1, memory: 64MiB, mac: 02:00:00:00:00:02 }', BASE.migration])], code: 2, names: /h1/ },
  { name: 'a hot set larger than memory, with a bad unit too', args: () => ['validate', plain('hotset-and-unit', { vm: BASE.vm('', '{ kind: hotset, writeRate: 5000/s, hotset: 128MiB }') }, ['duration: 10 furlongs'])], code: 2, names: /hotset|duration/ },
  // silent nonsense
  { name: 'a description that is not UTF-8', args: () => ['validate', file('latin1.yaml', Buffer.concat([Buffer.from('name: latin1\ndescription: caf'), Buffer.from([0xe9]), Buffer.from(`\n${BASE.hosts}\n${BASE.vm()}\n${BASE.migration}\n`)]))], code: 2, names: /UTF-8|description/ },
  { name: 'postcopy with autoConverge', args: () => ['validate', plain('pc-ac', { migration: 'migrations:\n  - { vm: vm1, to: h2, at: 1s, mode: postcopy, autoConverge: true }' })], code: 2, names: /autoConverge/ },
  { name: 'postcopy with maxRounds', args: () => ['validate', plain('pc-mr', { migration: 'migrations:\n  - { vm: vm1, to: h2, at: 1s, mode: postcopy, maxRounds: 5 }' })], code: 2, names: /maxRounds/ },
  { name: 'a VM joining a group no source sends', args: () => ['validate', plain('lonely-group', { vm: BASE.vm(', multicast: [239.9.9.9]') }, [...NET, 'multicastSources: [{ group: 239.1.1.1, rate: 100/s, size: 100B }]'])], code: 2, names: /multicast/ },
  { name: 'the same VM migrated twice at the same instant', args: () => ['validate', plain('twice', { hosts: 'hosts: [h1, h2, h3]', migration: 'migrations:\n  - { vm: vm1, to: h2, at: 1s }\n  - { vm: vm1, to: h3, at: 1s }' })], code: 2, names: /migrations\[1\]/ },
  { name: 'a migration to the host the VM is on', args: () => ['validate', plain('same-host', { migration: 'migrations:\n  - { vm: vm1, to: h1, at: 1s }' })], code: 2, names: /migrations\[0\]\.to/ },
  { name: 'a migration of an unknown VM', args: () => ['validate', plain('unknown-vm', { migration: 'migrations:\n  - { vm: nope, to: h2, at: 1s }' })], code: 2, names: /migrations\[0\]\.vm/ },
  { name: 'a multicast MAC for a VM', args: () => ['validate', plain('mcast-mac', { vm: BASE.vm(', mac: 01:00:5e:00:00:01') })], code: 2, names: /mac/ },
  { name: 'negative memory', args: () => ['validate', plain('neg-mem', { vm: 'vms:\n  - { name: vm1, host: h1, memory: -64MiB }' })], code: 2, names: /memory/ },
  // files that are not scenarios
  { name: 'an empty file', args: () => ['validate', file('empty.yaml', '')], code: 2, names: /empty\.yaml/ },
  { name: 'binary garbage', args: () => ['validate', file('garbage.yaml', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)))], code: 2, names: /garbage\.yaml/ },
  { name: 'a YAML syntax error', args: () => ['validate', file('syntax.yaml', 'name: x\nhosts: [h1, h2\n')], code: 2, names: /syntax\.yaml:\d+:\d+/ },
  { name: 'an unknown key', args: () => ['validate', plain('unknown-key', {}, ['duraton: 10s'])], code: 2, names: /duraton/ },
  { name: 'a billion-laughs alias bomb', args: () => ['validate', file('laughs.yaml', ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`), 'name: laughs'].join('\n'))], code: 2, names: /laughs\.yaml/ },
  { name: 'YAML nested 100,000 deep', args: () => ['validate', file('deep.yaml', `name: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)], code: 2, names: /deep\.yaml/ },
  { name: 'a directory given as the scenario', args: () => ['validate', (mkdirSync(join(work, 'a-dir.yaml'), { recursive: true }), join(work, 'a-dir.yaml'))], code: 2, names: /a-dir\.yaml/ },
  { name: 'a file that does not exist', args: () => ['validate', join(work, 'nope.yaml')], code: 2, names: /nope\.yaml/ },
  // command lines
  { name: '--seed abc', args: () => ['run', 'scenarios/quickstart.yaml', '--seed', 'abc', '--out', join(work, 's1.json')], code: 2, names: /--seed/ },
  { name: '--seed -1', args: () => ['run', 'scenarios/quickstart.yaml', '--seed', '-1', '--out', join(work, 's2.json')], code: 2, names: /--seed/ },
  { name: '--seed 1.5', args: () => ['run', 'scenarios/quickstart.yaml', '--seed', '1.5', '--out', join(work, 's3.json')], code: 2, names: /--seed/ },
  { name: '--out naming an existing directory x.json/', args: () => ['run', 'scenarios/quickstart.yaml', '--out', (mkdirSync(join(work, 'x.json'), { recursive: true }), join(work, 'x.json'))], code: 2, names: /--out/ },
  { name: '--out /dev/full', args: () => ['run', 'scenarios/quickstart.yaml', '--out', '/dev/full'], code: 2, names: /--out/ },
  { name: '--out in a directory that does not exist', args: () => ['run', 'scenarios/quickstart.yaml', '--out', join(work, 'no', 'such', 'dir', 'r.json')], code: 2, names: /--out/ },
  { name: 'an unknown engine', args: () => ['run', 'scenarios/quickstart.yaml', '--engine', 'qemu'], code: 2, names: /engine/ },
  { name: 'a --timeout that is not a duration', args: () => ['run', 'scenarios/quickstart.yaml', '--timeout', 'soon'], code: 2, names: /--timeout/ },
  { name: 'an unknown option', args: () => ['run', 'scenarios/quickstart.yaml', '--fast'], code: 2, names: /fast/ },
  { name: 'check on a file with nothing to check', args: () => ['check', plain('no-expect')], code: 2, names: /expect/ },
];

describe('hostile input: exit status, one line naming the problem, no stack trace, bounded time and memory', () => {
  it('covers at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = migsim(c.args());
    expect(r.code, r.err).toBe(c.code);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(r.err).not.toMatch(/internal error/);
    const lines = r.err.split('\n').filter((l) => l.trim() !== '');
    if (process.env.MIGSIM_SHOW_HOSTILE) process.stdout.write(`${c.name} → ${r.code} ${Math.round(r.ms)} ms ${Math.round(r.rssMib)} MiB: ${lines[0]}\n`);
    // the first line says what is wrong and names it (more lines only for more problems)
    expect(lines[0], r.err).toMatch(/^migsim: /);
    expect(lines[0], r.err).toMatch(c.names);
    if (c.never) expect(r.out + r.err).not.toMatch(c.never);
    expect(r.ms).toBeLessThan(LIMIT_MS);
    expect(r.rssMib).toBeLessThan(LIMIT_RSS_MIB);
  });
});
