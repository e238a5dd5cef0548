// `npm run bench`: the speed and memory targets of the sim engine, measured side by side
// in one run, printed as Markdown for bench/RESULTS.md.
//   node dist/bench/run.js [--only NAME] [--quick]

import { fuzzState } from './fuzz-state.js';
import { BENCH_ROUTER, BENCH_SERVER, BENCH_SWITCH } from './addresses.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { VdpStation } from '../switch/vdp-station.js';
import { kernelClock } from '../sim/clock.js';
import { runScenario } from '../sim/engine.js';
import { Kernel } from '../sim/kernel.js';
import { Random } from '../model/random.js';
import { loadScenario } from '../model/scenario/load.js';
import { EdgeSwitch, type PortRole } from '../switch/edge-switch.js';
import { VsiTypeDb } from '../switch/vsi-db.js';
import { igmpFrame, multicastMac, udpFrame } from '../wire/compose.js';
import { decodeFrame } from '../wire/decode.js';
import { DHCP, emitDhcp, emptyDhcpOptions } from '../wire/dhcp.js';
import { ECP_SUBTYPE, emitEcp } from '../wire/ecp.js';
import { emitEthernet, ETHERTYPE } from '../wire/ethernet.js';
import { fromHex } from '../wire/fields.js';
import { IGMP_RECORD, IGMPV3_ALL_ROUTERS } from '../wire/igmp.js';
import { benchArgs, machineLine, printRows, type Row } from './report.js';
import { sweepBench } from './sweep.js';
import { emitVdp, FILTER_FORMAT, managerIdFromText, responseStatus, VSI_ID_FORMAT, vsiIdFromMac } from '../wire/vdp.js';

const { only, quick } = benchArgs();

function best<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let bestMs = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return { ms: bestMs, value };
}

/** The 64 GiB guest through the real CLI, in a child so its RSS is its own. */
function bigGuest(): Row {
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--import', './bench/rss-hook.js', 'bin/migsim.js', 'run', 'bench/scenarios/big-64g.yaml', '--out', '/tmp/migsim-bench-big.json', '--json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const wallMs = performance.now() - t0;
  if (child.status !== 0) throw new Error(`big guest run failed: ${child.stderr}`);
  const rssKb = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr)?.[1]);
  const m = JSON.parse(child.stdout).migrations[0];
  const rssMb = rssKb / 1024;
  return {
    name: '64 GiB guest, 1 GiB hot set @ 200k writes/s, 10 Gbit/s, pages (CLI end to end)',
    measured: `${(wallMs / 1000).toFixed(2)} s wall, ${rssMb.toFixed(0)} MB peak RSS`,
    target: '< 2 s, < 400 MB',
    ok: wallMs < 2000 && rssMb < 400,
    detail: `${m.rounds.length} rounds, simulated total ${(m.totalTimeMs / 1000).toFixed(1)} s, downtime ${m.downtimeMs.toFixed(1)} ms, verified ${m.memoryVerified}`,
  };
}

function thousand(fidelity: 'pages' | 'fluid', targetMs: number): Row {
  const s = { ...loadScenario('bench/scenarios/one-gib.yaml'), fidelity };
  const n = quick ? 100 : 1000;
  const { ms, value } = best(3, () => {
    let verified = 0;
    let downtime = 0;
    for (let i = 0; i < n; i++) {
      const m = runScenario(s, { seed: i + 1 }).migrations[0]!;
      if (m.memoryVerified) verified++;
      downtime += m.downtimeMs ?? 0;
    }
    return { verified, meanDowntime: downtime / n };
  });
  const perMigrationUs = (ms * 1000) / n;
  const scaledMs = (ms * 1000) / n;
  return {
    name: `1,000 migrations of a 1 GiB guest, ${fidelity} fidelity (in-process, best of 3)`,
    measured: `${scaledMs.toFixed(fidelity === 'fluid' ? 1 : 0)} ms (${perMigrationUs.toFixed(1)} µs each)${quick ? ` [${n} run]` : ''}`,
    target: `< ${targetMs} ms`,
    ok: scaledMs < targetMs,
    detail: `mean downtime ${value.meanDowntime.toFixed(1)} ms${fidelity === 'pages' ? `, ${value.verified}/${n} verified` : ''}`,
  };
}

/** SimGrid 3.32's live-migration model on the same workload, if it can be built here. */
function simgrid(): Row {
  let out: string;
  try {
    out = execFileSync('bash', ['bench/simgrid/run.sh', '1000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    return { name: 'SimGrid 3.32, 1,000 migrations', measured: 'not run', target: 'reference', ok: null, detail: String(e) };
  }
  const r = JSON.parse(out.trim().split('\n').pop()!);
  if (r.skipped) return { name: 'SimGrid 3.32, 1,000 migrations', measured: 'skipped', target: 'reference', ok: null, detail: r.skipped };
  return {
    name: 'SimGrid 3.32 live-migration plugin, 1,000 migrations of the same guest (reference)',
    measured: `${r.simMs.toFixed(1)} ms`,
    target: 'reference',
    ok: null,
    detail: `one migration simulated as ${r.lastMigrationSimSeconds} s; total with setup ${r.totalMs.toFixed(1)} ms`,
  };
}

/** Time `pass` (one sweep over pre-built frames) repeatedly for at least `minMs`; best rate of `runs`. */
function rate(runs: number, minMs: number, perPass: number, pass: () => void): { fps: number; nsPerFrame: number } {
  let bestFps = 0;
  for (let r = 0; r < runs; r++) {
    let frames = 0;
    const t0 = performance.now();
    let ms = 0;
    do {
      pass();
      frames += perPass;
      ms = performance.now() - t0;
    } while (ms < minMs);
    bestFps = Math.max(bestFps, (frames * 1000) / ms);
  }
  return { fps: bestFps, nsPerFrame: 1e9 / bestFps };
}

const fmtRate = (fps: number) => `${(Math.round(fps / 1000) * 1000).toLocaleString('en-US')} frames/s`;

// Shared by the switch and decode benchmarks: the network of switch/edge-switch.test.ts.
const vmMac = (h: number, v: number) => `02:00:00:00:${(h + 1).toString(16).padStart(2, '0')}:${(v + 1).toString(16).padStart(2, '0')}`;
const vmIp = (h: number, v: number) => `10.77.${h + 1}.${v + 10}`;

function dhcpMessage(type: number, mac: string, o: { ciaddr?: string; yiaddr?: string; lease?: number; xid?: number } = {}): Uint8Array {
  const options = emptyDhcpOptions();
  options.messageType = type;
  if (o.lease !== undefined) {
    options.leaseTime = o.lease;
    options.serverId = BENCH_SERVER.ip;
  }
  return emitDhcp({
    op: type === DHCP.ACK || type === DHCP.LEASEACTIVE ? 2 : 1, htype: 1, hlen: 6, hops: 0, xid: o.xid ?? 7, secs: 0, broadcast: false,
    ciaddr: o.ciaddr ?? '0.0.0.0', yiaddr: o.yiaddr ?? '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: mac, sname: '', file: '', options,
  });
}

/**
 * EdgeSwitch.receive decisions on the sim platform: 4 host ports × 8 VMs associated over
 * VDP (through VdpStations, as in switch/edge-switch.test.ts) and bound by snooped
 * REQUEST/ACK, half of them in a multicast group; then 10,000 pre-built frames replayed
 * with sinks that discard: 60 % unicast UDP from bound VMs (learning, source guard,
 * forwarding to the server or another VM), 10 % spoofed source IPs (dropped by source
 * guard), 20 % multicast data from the mrouter port to members, 10 % DHCP renewals
 * (unicast REQUEST from the VM, ACK from the server).
 */
function switchRate(): Row {
  const HOSTS = 4;
  const VMS = 8;
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const types = new VsiTypeDb();
  types.define(100, 1, { vlan: 10 });
  const sw = new EdgeSwitch({
    mac: BENCH_SWITCH.mac, ip: BENCH_SWITCH.ip, vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query',
    ipSourceGuard: true, igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1,
  }, clock, new Random(1), types);
  let setup = true;
  let discarded = 0;
  const LINK_NS = 20_000;
  /** During setup, frames out of a host port reach its station; afterwards every sink discards. */
  const port = (name: string, role: PortRole, pvid: number, deliver: ((f: Uint8Array) => void) | null = null) =>
    sw.addPort(name, role, (f) => {
      if (setup && deliver) kernel.schedule(LINK_NS, () => deliver(f));
      else discarded++;
    }, pvid);
  const server = port('dhcp', 'dhcp-server', 10);
  const router = port('msource', 'mrouter', 10);
  const hosts: number[] = [];
  for (let h = 0; h < HOSTS; h++) {
    let st!: VdpStation;
    const id = port(`h${h + 1}`, 'host', 1, (f) => st.receive(f));
    st = new VdpStation(clock, { mac: `02:00:00:00:aa:${(h + 1).toString(16).padStart(2, '0')}`, managerId: managerIdFromText('migsim'), hints: true, rka: 20, ecp: { maxRetries: 3, rte: 8 } },
      (f) => kernel.schedule(LINK_NS, () => sw.receive(id, f)));
    hosts.push(id);
    for (let v = 0; v < VMS; v++) st.associate({ mac: vmMac(h, v), vid: 0, typeId: 100, typeVersion: 1 }, false);
  }
  kernel.run(kernel.now + 1e9);
  const send = (p: number, f: Uint8Array) => kernel.schedule(LINK_NS, () => sw.receive(p, f));
  for (let h = 0; h < HOSTS; h++) {
    for (let v = 0; v < VMS; v++) {
      const mac = vmMac(h, v);
      send(hosts[h]!, udpFrame({ srcMac: mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: dhcpMessage(DHCP.REQUEST, mac) }));
      kernel.run(kernel.now + 1e6);
      send(server, udpFrame({ srcMac: BENCH_SERVER.mac, dstMac: mac, srcIp: BENCH_SERVER.ip, dstIp: vmIp(h, v), srcPort: 67, dstPort: 68, payload: dhcpMessage(DHCP.ACK, mac, { yiaddr: vmIp(h, v), lease: 3600 }) }));
      if (v % 2 === 0) {
        send(hosts[h]!, igmpFrame({ srcMac: mac, dstMac: multicastMac(IGMPV3_ALL_ROUTERS), srcIp: vmIp(h, v), dstIp: IGMPV3_ALL_ROUTERS, igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: `239.1.1.${v % 4}`, sources: [], auxData: new Uint8Array(0) }] } }));
      }
      kernel.run(kernel.now + 1e6);
    }
  }
  for (let h = 0; h < HOSTS; h++) {
    for (let v = 0; v < VMS; v++) {
      const b = sw.snooping.binding(vmMac(h, v));
      if (!b || b.port !== hosts[h]) throw new Error(`switch bench setup: ${vmMac(h, v)} is not bound on h${h + 1}`);
    }
  }
  setup = false;

  const rng = new Random(7);
  const pick = (n: number) => Math.floor(rng.next() * n);
  const N = 10_000;
  const frames: { port: number; frame: Uint8Array }[] = [];
  let spoofed = 0;
  for (let i = 0; i < N; i++) {
    const h = pick(HOSTS);
    const v = pick(VMS);
    const mac = vmMac(h, v);
    const ip = vmIp(h, v);
    const x = rng.next();
    if (x < 0.6) {
      // to the server or to another VM (on another host, or the same one)
      const toServer = rng.next() < 0.5;
      const h2 = pick(HOSTS);
      const v2 = pick(VMS);
      const dstMac = toServer ? BENCH_SERVER.mac : vmMac(h2, v2);
      const dstIp = toServer ? BENCH_SERVER.ip : vmIp(h2, v2);
      frames.push({ port: hosts[h]!, frame: udpFrame({ srcMac: mac, dstMac, srcIp: ip, dstIp, srcPort: 40000 + v, dstPort: 5001, payload: new Uint8Array(64) }) });
    } else if (x < 0.7) {
      spoofed++;
      frames.push({ port: hosts[h]!, frame: udpFrame({ srcMac: mac, dstMac: BENCH_SERVER.mac, srcIp: `10.77.9.${1 + pick(200)}`, dstIp: BENCH_SERVER.ip, srcPort: 40000, dstPort: 5001, payload: new Uint8Array(64) }) });
    } else if (x < 0.9) {
      const group = `239.1.1.${pick(4)}`;
      frames.push({ port: router, frame: udpFrame({ srcMac: BENCH_ROUTER.mac, dstMac: multicastMac(group), srcIp: BENCH_ROUTER.ip, dstIp: group, srcPort: 5000, dstPort: 5001, payload: new Uint8Array(188) }) });
    } else if (x < 0.95) {
      frames.push({ port: hosts[h]!, frame: udpFrame({ srcMac: mac, dstMac: BENCH_SERVER.mac, srcIp: ip, dstIp: BENCH_SERVER.ip, srcPort: 68, dstPort: 67, payload: dhcpMessage(DHCP.REQUEST, mac, { ciaddr: ip, xid: i }) }) });
    } else {
      frames.push({ port: server, frame: udpFrame({ srcMac: BENCH_SERVER.mac, dstMac: mac, srcIp: BENCH_SERVER.ip, dstIp: ip, srcPort: 67, dstPort: 68, payload: dhcpMessage(DHCP.ACK, mac, { ciaddr: ip, yiaddr: ip, lease: 3600, xid: i }) }) });
    }
  }
  const pass = () => {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      sw.receive(f.port, f.frame);
    }
  };

  // one checked pass: the mix does what it says
  const c0 = { ...sw.counters };
  const out0 = discarded;
  pass();
  const drops = sw.counters.sourceGuardDrops - c0.sourceGuardDrops;
  if (drops !== spoofed || sw.counters.malformed !== 0 || sw.counters.snoopingDrops !== c0.snoopingDrops) {
    throw new Error(`switch bench mix: ${drops} source-guard drops for ${spoofed} spoofed frames, ${sw.counters.malformed} malformed, ${sw.counters.snoopingDrops - c0.snoopingDrops} snooping drops`);
  }
  const txPerPass = discarded - out0;

  const r = rate(3, quick ? 200 : 1000, N, pass);
  return {
    name: 'Edge switch decisions: EdgeSwitch.receive on a sim port (best of 3, ≥ 1 s each)',
    measured: `${fmtRate(r.fps)} (${Math.round(r.nsPerFrame).toLocaleString('en-US')} ns/frame)`,
    target: 'none (tracked)',
    ok: null,
    detail: `${N.toLocaleString('en-US')} frames, 4 host ports × 8 bound VMs: 60 % unicast UDP, 10 % spoofed (source guard drops), 20 % multicast from the mrouter port, 10 % DHCP renewals; ${(txPerPass / N).toFixed(2)} frames out per frame in`,
  };
}

/** decodeFrame over a mix of VDP, DHCP, IGMP and UDP frames. */
function decodeRate(): Row {
  const vm = { mac: '02:00:00:00:01:01', ip: '10.77.1.10' };
  const worked = fromHex('0180c2000000e6f1205ab0e68940 10010001 0a10626c61626c6100000000000000000000 0621100000050405a141285760f74ce1e95a2164943f53aa020001525400112233 0000')!;
  const response = emitEthernet({
    dst: '01:80:c2:00:00:00', src: BENCH_SWITCH.mac, vlan: null, ethertype: ETHERTYPE.ECP,
    payload: emitEcp({ op: 'request', subtype: ECP_SUBTYPE.VDP, seq: 9, payload: emitVdp({
      managerId: managerIdFromText('migsim'),
      vsis: [{ mode: 'assoc', status: responseStatus(0), typeId: 100, typeVersion: 1, idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac(vm.mac), filterFormat: FILTER_FORMAT.MAC_VID, filters: [{ ps: false, pcp: 0, vid: 10, mac: vm.mac, groupId: null }] }],
      assists: [{ idFormat: VSI_ID_FORMAT.MAC, id: vsiIdFromMac(vm.mac), mac: vm.mac, ip: vm.ip, dhcp: true, igmp: true }],
      orgTlvs: [], unknown: [],
    }) }),
  });
  const mix: Uint8Array[] = [
    worked,
    response,
    udpFrame({ srcMac: vm.mac, dstMac: 'ff:ff:ff:ff:ff:ff', srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67, payload: dhcpMessage(DHCP.REQUEST, vm.mac) }),
    udpFrame({ srcMac: BENCH_SERVER.mac, dstMac: vm.mac, srcIp: BENCH_SERVER.ip, dstIp: vm.ip, srcPort: 67, dstPort: 68, payload: dhcpMessage(DHCP.ACK, vm.mac, { yiaddr: vm.ip, lease: 3600 }) }),
    udpFrame({ srcMac: BENCH_SERVER.mac, dstMac: BENCH_SWITCH.mac, srcIp: BENCH_SERVER.ip, dstIp: BENCH_SWITCH.ip, srcPort: 67, dstPort: 67, payload: dhcpMessage(DHCP.LEASEACTIVE, vm.mac, { ciaddr: vm.ip, lease: 3000 }) }),
    igmpFrame({ srcMac: vm.mac, dstMac: multicastMac(IGMPV3_ALL_ROUTERS), srcIp: vm.ip, dstIp: IGMPV3_ALL_ROUTERS, igmp: { kind: 'v3report', records: [{ type: IGMP_RECORD.TO_EX, group: '239.1.1.1', sources: [], auxData: new Uint8Array(0) }] } }),
    igmpFrame({ srcMac: BENCH_SWITCH.mac, dstMac: vm.mac, srcIp: BENCH_SWITCH.ip, dstIp: '239.1.1.1', igmp: { kind: 'query', version: 3, group: '239.1.1.1', maxRespDs: 1, suppress: false, qrv: 2, qqicSeconds: 125, sources: [] } }),
    udpFrame({ srcMac: vm.mac, dstMac: BENCH_SERVER.mac, srcIp: vm.ip, dstIp: BENCH_SERVER.ip, srcPort: 40000, dstPort: 5001, payload: new Uint8Array(64) }),
    udpFrame({ srcMac: BENCH_ROUTER.mac, dstMac: multicastMac('239.1.1.1'), srcIp: BENCH_ROUTER.ip, dstIp: '239.1.1.1', srcPort: 5000, dstPort: 5001, payload: new Uint8Array(188) }),
  ];
  for (const f of mix) {
    const d = decodeFrame(f);
    if (d.error) throw new Error(`decode bench: a mix frame does not decode: ${d.error.layer}: ${d.error.reason}`);
  }
  const rng = new Random(11);
  const N = 10_000;
  const frames = Array.from({ length: N }, () => mix[Math.floor(rng.next() * mix.length)]!);
  let layers = 0;
  const pass = () => {
    for (let i = 0; i < frames.length; i++) layers += decodeFrame(frames[i]!).layers.length;
  };
  pass();
  const meanLayers = layers / N;
  const r = rate(3, quick ? 200 : 1000, N, pass);
  return {
    name: 'Frame decoder: decodeFrame to JSON-ready objects (best of 3, ≥ 1 s each)',
    measured: `${fmtRate(r.fps)} (${Math.round(r.nsPerFrame).toLocaleString('en-US')} ns/frame)`,
    target: 'none (tracked)',
    ok: null,
    detail: `${N.toLocaleString('en-US')} frames drawn from ${mix.length}: VDP request and response (with assist), DHCP REQUEST/ACK/LEASEACTIVE, IGMPv3 report and query, unicast and multicast UDP; ${meanLayers.toFixed(2)} layers per frame`,
  };
}

/** A CLI command as a user starts it: whole-process wall time and peak RSS, median of `runs` children. */
function startup(label: string, args: string[], runs: number): Row {
  const walls: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const child = spawnSync(process.execPath, ['--import', './bench/rss-hook.js', 'bin/migsim.js', ...args], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (child.status !== 0) throw new Error(`migsim ${args.join(' ')} failed: ${child.stderr}`);
    if (i === 0) continue; // warm-up: the file cache
    walls.push(ms);
    rss.push(Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr)?.[1]) / 1024);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    name: `CLI start-up: \`migsim ${label}\` (whole process, median of ${runs})`,
    measured: `${median(walls).toFixed(0)} ms wall, ${median(rss).toFixed(0)} MB peak RSS`,
    target: 'tracked',
    ok: null,
    detail: `min ${Math.min(...walls).toFixed(0)} ms, max ${Math.max(...walls).toFixed(0)} ms; loads none of dockerode, ioredis, cap (cli/loading.test.ts)`,
  };
}

const benches: Record<string, () => Row | Row[] | Promise<Row[]>> = {
  startupValidate: () => startup('validate scenarios/quickstart.yaml', ['validate', 'scenarios/quickstart.yaml'], quick ? 3 : 15),
  startupRun: () => startup('run scenarios/quickstart.yaml', ['run', 'scenarios/quickstart.yaml', '--out', '/tmp/migsim-bench-quickstart.json'], quick ? 3 : 15),
  big: bigGuest,
  pages1000: () => thousand('pages', 10_000),
  fluid1000: () => thousand('fluid', 50),
  simgrid,
  switch: switchRate,
  decode: decodeRate,
  sweep: () => sweepBench(quick),
};
/** run only when named: `--only NAME` */
const optIn: Record<string, () => Row> = { fuzzState: () => fuzzState(quick) };

const rows: Row[] = [];
for (const [name, fn] of Object.entries({ ...benches, ...optIn })) {
  if (only ? only !== name : name in optIn) continue;
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(...[await fn()].flat());
}

console.log(machineLine());
console.log(`Date: ${new Date().toISOString().slice(0, 10)}\n`);
printRows(rows);
