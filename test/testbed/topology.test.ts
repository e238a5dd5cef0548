// The Docker testbed's wiring, proved with real frames (`npm run test:testbed`; root, a Docker
// engine, debootstrap for the first image build).
//
// A 2-host, 1-VM scenario with dhcp and probe is brought up; the VM container sends ARP
// probes (busybox arping -D: a broadcast from the VM's MAC, no IP needed) and tcpdump in the
// switch container must see them on the port of the VM's host and not on the other host's;
// frames sent by the switch on a host's port must reach the VM only while it is on that host.
// After moveVm(vm1, h2) the same checks hold the other way round. `down` must leave no migsim
// container, network or veth.
//
// Runs under vitest.testbed.config.ts (`npm run test:testbed`): it needs root and an engine.
// Cleanup: `down` first (a crashed earlier run's leftovers), in afterAll (which runs after a
// failure too), and a best-effort synchronous sweep if the worker is signalled.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImage, imageTag } from '../../testbed/image.js';
import { loadScenario } from '../../model/scenario/load.js';
import { loadCompose, parseCompose, TESTBED_ROLES } from '../../testbed/compose.js';
import { ComposeError } from '../../testbed/errors.js';
import { forgetCatchAll, HOST_IF_PREFIX, listInterfaces } from '../../testbed/link.js';
import { TestbedNetwork } from '../../testbed/network.js';
import { portName, vnicName } from '../../testbed/topo.js';
import type { TestbedNode } from '../../testbed/node.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VM_MAC = '02:00:00:00:01:01';

const SCENARIO = `name: testbed-topology
description: two hosts, one VM, dhcp and probe; the testbed wiring test
hosts: [h1, h2]
duration: 30s
dhcp: { subnet: 10.77.0.0/24, leaseTime: 1h }
probe: { rate: 10/s }
vms:
  - name: vm1
    host: h1
    memory: 64MiB
    mac: ${VM_MAC}
migrations:
  - vm: vm1
    to: h2
    at: 1s
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tcpdump in a container: resolves `ready` once it listens, `frames` with its output lines. */
interface Capture {
  ready: Promise<void>;
  frames: Promise<string[]>;
  stop(): Promise<void>;
}

function startCapture(node: TestbedNode, ifname: string, filter: string[], count: number): Capture {
  const pidFile = `/tmp/migsim-capture-${randomBytes(4).toString('hex')}.pid`;
  let err = '';
  let onReady!: () => void;
  const listening = new Promise<void>((r) => (onReady = r));
  const run = node.exec(
    ['sh', '-c', 'echo $$ > "$0"; exec timeout 30 tcpdump "$@"', pidFile, '-i', ifname, '-nn', '-e', '-l', '-c', String(count), ...filter],
    {
      timeoutMs: 40_000,
      onStderr: (c) => {
        err += c;
        if (err.includes('listening on')) onReady();
      },
    },
  );
  const frames = run.then((r) => r.stdout.split('\n').filter((l) => /^\d\d:\d\d:/.test(l)));
  const ready = Promise.race([
    listening,
    run.then((r) => {
      throw new Error(`tcpdump on ${node.containerName}/${ifname} ended before listening (exit ${r.code}): ${r.stderr.trim()}`);
    }),
  ]);
  return {
    ready,
    frames,
    // the shell exec'd `timeout`, which passes the TERM on to tcpdump (which then prints what it has)
    stop: async () => {
      await node.exec(['sh', '-c', 'kill "$(cat "$0")" 2>/dev/null; rm -f "$0"', pidFile]);
    },
  };
}

/** ARP probes (broadcast, sender 0.0.0.0) from `ifname` in `node`, one per call, ~1 s each. */
async function arpProbe(node: TestbedNode, ifname: string): Promise<void> {
  await node.mustExec(['busybox', 'arping', '-D', '-c', '1', '-w', '1', '-I', ifname, '10.77.0.1']);
}

/**
 * Frames `send` emits must show up at `expected` and never at `unexpected` while both listen:
 * send until `expected` has one, then twice more; returns what each saw.
 */
async function crossing(
  send: () => Promise<void>,
  filter: string[],
  expected: [TestbedNode, string],
  unexpected: [TestbedNode, string],
): Promise<{ seen: string[]; strays: string[] }> {
  const yes = startCapture(expected[0], expected[1], filter, 1);
  const no = startCapture(unexpected[0], unexpected[1], filter, 1);
  try {
    await Promise.all([yes.ready, no.ready]);
    let got = false;
    void yes.frames.then(() => (got = true), () => (got = true));
    for (let i = 0; i < 10 && !got; i++) await send();
    for (let i = 0; i < 2; i++) await send();
    await sleep(200);
  } finally {
    await Promise.all([yes.stop(), no.stop()]);
  }
  return { seen: await yes.frames, strays: await no.frames };
}

/** Best-effort synchronous sweep (signal handlers cannot await): docker CLI and ip. */
function sweepSync(): void {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=migsim=1'], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
  if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  spawnSync('docker', ['network', 'rm', 'migsim-mgmt'], { stdio: 'ignore' });
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of links.matchAll(new RegExp(`^\\d+:\\s+(${HOST_IF_PREFIX}[^:@\\s]*)`, 'gm'))) spawnSync('ip', ['link', 'del', m[1]!], { stdio: 'ignore' });
}

// Pure (no engine): runs under both configs.
describe('docker-compose.yml as the testbed reads it', () => {
  it('gives every service the image, capabilities, labels, mount and network the design asks for', () => {
    const c = loadCompose(join(REPO, 'docker-compose.yml'));
    for (const role of TESTBED_ROLES) {
      const s = c.services.get(role)!;
      expect(s.image).toBe('migsim/base');
      expect(s.capAdd).toEqual(['ALL']);
      expect(s.capDrop).toEqual(['SYS_RESOURCE']);
      expect(s.securityOpt).toEqual(['seccomp=unconfined']);
      expect(s.labels).toMatchObject({ migsim: '1', 'migsim.role': role });
      expect(s.mounts).toEqual([{ source: REPO, target: '/migsim', readOnly: true }]);
      expect(s.command).not.toBeNull();
      if (role === 'redis' || role === 'switch' || role === 'host') expect([s.networkMode, s.networks]).toEqual([null, ['mgmt']]);
      else expect([s.networkMode, s.networks]).toEqual(['none', []]);
    }
    expect(c.networks.get('mgmt')).toMatchObject({ internal: true, labels: { migsim: '1' } });
  });

  it('rejects a malformed file with the file, the field path and what was expected', () => {
    const bad = (text: string) => {
      try {
        parseCompose(text, 'bad.yml', '/r');
      } catch (e) {
        expect(e).toBeInstanceOf(ComposeError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('services:\n  x: {\n')).toMatch(/^bad\.yml: line \d+, column \d+: /);
    const m = bad('services:\n  vm:\n    image: a\n    cap_add: ALL\n    ports: ["80:80"]\n    volumes: [data:/x]\n');
    expect(m).toContain('bad.yml: services.vm.cap_add: expected a list, got "ALL"');
    expect(m).toContain('bad.yml: services.vm.ports: not supported by the testbed');
    expect(m).toContain('services.vm.volumes[0]: "data" is a named volume');
    expect(m).toContain('services.vm.labels: must carry migsim: "1"');
    expect(m).toContain('services.redis: missing');
  });
});

describe('testbed topology: bridge-free wiring on Docker, proved with frames', () => {
  const docker = new Docker();
  let tb: TestbedNetwork;
  let dir: string | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    sweepSync();
    process.kill(process.pid, sig);
  };

  beforeAll(async () => {
    execFileSync('bash', [join(REPO, 'testbed/ensure-docker.sh')], { stdio: 'inherit' });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    dir = mkdtempSync(join(tmpdir(), 'migsim-testbed-'));
    const file = join(dir, 'topology.yaml');
    writeFileSync(file, SCENARIO);
    const scenario = loadScenario(file);

    tb = new TestbedNetwork({ docker, log: (l) => process.stderr.write(`testbed: ${l}\n`) });
    await tb.down(); // a crashed earlier run's leftovers

    const hadImage = await docker
      .getImage(imageTag())
      .inspect()
      .then(() => true, () => false);
    let t = Date.now();
    const image = await ensureImage({ docker });
    process.stderr.write(`testbed: image ${image} ${hadImage ? 'reused' : 'built'} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    t = Date.now();
    const r = await tb.up(scenario);
    process.stderr.write(`testbed: up in ${((Date.now() - t) / 1000).toFixed(1)} s: ${r.changes.join('; ')}\n`);
  });

  afterAll(async () => {
    try {
      if (tb) await tb.down();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts every interface where the plan says, with no Linux bridge anywhere', async () => {
    const ifs = async (n: TestbedNode) => listInterfaces(await n.pid());
    const sw = await ifs(tb.node('switch'));
    for (const p of ['h1', 'h2', 'dhcp', 'probe']) expect(sw.get(portName(p))?.up, `switch ${portName(p)}`).toBe(true);
    const h1 = await ifs(tb.node('host', 'h1'));
    expect(h1.get('uplink')?.up).toBe(true);
    expect(h1.get(vnicName('vm1'))?.up).toBe(true);
    const h2 = await ifs(tb.node('host', 'h2'));
    expect(h2.has(vnicName('vm1'))).toBe(false);
    const vm = await ifs(tb.node('vm', 'vm1'));
    expect(vm.get('eth0')?.mac).toBe(VM_MAC);
    expect([...vm.keys()].sort()).toEqual(['eth0', 'lo']); // network_mode none: nothing but our veth
    for (const role of ['dhcp', 'probe'] as const) expect((await ifs(tb.node(role))).get('eth0')?.up).toBe(true);
    for (const n of [tb.node('switch'), tb.node('host', 'h1'), tb.node('host', 'h2'), tb.node('vm', 'vm1'), tb.node('dhcp'), tb.node('probe')]) {
      for (const [name, i] of await ifs(n)) expect(i.kind, `${n.containerName}/${name}`).not.toBe('bridge');
    }
    const host = await listInterfaces(null);
    expect([...host.keys()].filter((n) => n.startsWith(HOST_IF_PREFIX) || n.startsWith('sw-') || n.startsWith('vnic-'))).toEqual([]);
  });

  it('carries Redis over the internal mgmt network', async () => {
    const out = await tb.node('host', 'h1').mustExec(['redis-cli', '-h', 'migsim-redis', 'ping']);
    expect(out.trim()).toBe('PONG');
    const net = await docker.getNetwork('migsim-mgmt').inspect();
    expect(net.Internal).toBe(true);
  });

  it('moves the VM: its frames leave by sw-h1 before and by sw-h2 after, and come back the same way', async () => {
    const sw = tb.node('switch');
    const vm = tb.node('vm', 'vm1');
    const fromVm = ['arp', 'and', 'ether', 'src', VM_MAC, 'and', 'ether', 'dst', 'ff:ff:ff:ff:ff:ff'];
    const swMac = async (port: string) => (await listInterfaces(await sw.pid())).get(port)!.mac;
    const toVm = async (port: string) => ['arp', 'and', 'ether', 'src', await swMac(port)];

    // on h1: VM → sw-h1 only
    let r = await crossing(() => arpProbe(vm, 'eth0'), fromVm, [sw, portName('h1')], [sw, portName('h2')]);
    expect(r.seen.length, 'the VM\'s broadcast on sw-h1').toBe(1);
    expect(r.seen[0]).toContain(`${VM_MAC} > ff:ff:ff:ff:ff:ff`);
    expect(r.strays, 'the VM\'s broadcast on sw-h2 (must not be there)').toEqual([]);
    // on h1: sw-h1 → VM; sw-h2 → nowhere near the VM
    r = await crossing(() => arpProbe(sw, portName('h1')), await toVm(portName('h1')), [vm, 'eth0'], [tb.node('host', 'h2'), 'uplink']);
    expect(r.seen.length, 'a frame from sw-h1 at the VM').toBe(1);
    expect(r.strays).toEqual([]);
    r = await crossing(() => arpProbe(sw, portName('h2')), await toVm(portName('h2')), [tb.node('host', 'h2'), 'uplink'], [vm, 'eth0']);
    expect(r.strays, 'a frame from sw-h2 at the VM while it is on h1').toEqual([]);

    // as a later process would: the classifier kind is learned from the forwarding in place
    forgetCatchAll();
    const moved = await tb.moveVm('vm1', 'h2');
    process.stderr.write(`testbed: moveVm vm1 h1 → h2: VM paused ${moved.pausedMs.toFixed(1)} ms\n`);
    expect(tb.hostOf('vm1')).toBe('h2');
    expect((await listInterfaces(await tb.node('host', 'h1').pid())).has(vnicName('vm1'))).toBe(false);
    expect((await listInterfaces(await tb.node('host', 'h2').pid())).get(vnicName('vm1'))?.up).toBe(true);
    expect((await listInterfaces(await vm.pid())).get('eth0')?.mac).toBe(VM_MAC);

    // on h2: VM → sw-h2 only, and sw-h2 → VM, sw-h1 → not the VM
    r = await crossing(() => arpProbe(vm, 'eth0'), fromVm, [sw, portName('h2')], [sw, portName('h1')]);
    expect(r.seen.length, 'the VM\'s broadcast on sw-h2 after the move').toBe(1);
    expect(r.strays, 'the VM\'s broadcast on sw-h1 after the move').toEqual([]);
    r = await crossing(() => arpProbe(sw, portName('h2')), await toVm(portName('h2')), [vm, 'eth0'], [tb.node('host', 'h1'), 'uplink']);
    expect(r.seen.length, 'a frame from sw-h2 at the VM after the move').toBe(1);
    r = await crossing(() => arpProbe(sw, portName('h1')), await toVm(portName('h1')), [tb.node('host', 'h1'), 'uplink'], [vm, 'eth0']);
    expect(r.strays, 'a frame from sw-h1 at the VM after the move').toEqual([]);
  });

  it('down leaves no migsim container, network or veth', async () => {
    const report = await tb.down();
    expect(report.containers).toContain('migsim-vm-vm1');
    const containers = await docker.listContainers({ all: true });
    expect(containers.filter((c) => c.Labels.migsim === '1' || c.Names.some((n) => n.startsWith('/migsim-'))).map((c) => c.Names[0])).toEqual([]);
    const nets = await docker.listNetworks();
    expect(nets.filter((n) => n.Labels?.migsim === '1' || n.Name.startsWith('migsim-')).map((n) => n.Name)).toEqual([]);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    const names = [...links.matchAll(/^\d+:\s+([^:@\s]+)/gm)].map((m) => m[1]!);
    expect(names.filter((n) => n.startsWith(HOST_IF_PREFIX) || n.startsWith('sw-') || n.startsWith('vnic-') || n === 'uplink')).toEqual([]);
    // the image stays (reused by content hash); `down --images` would remove it
    expect((await docker.listImages({ filters: { label: ['migsim=1'] } })).length).toBeGreaterThan(0);
  });
});
