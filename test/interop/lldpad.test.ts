// Interop with a real VDP station: Debian's lldpad (802.1Qbg-2012 station role) on one end
// of a veth pair, inside a network namespace this test makes; our EdgeSwitch on the other
// end, in this process, through PcapPort and the wall clock. vdptool (in lldpad's netns,
// `-W`: wait for the bridge's answer) associates a VSI with `hints=to`, pre-associates
// another, and de-associates the first; the switch's log must show the M-bit as
// `migratedTo`. Run with `npm run test:interop` (root; apt-get install lldpad iproute2
// libpcap-dev). Cleanup (lldpad, netns, veth, temp dir) runs in afterAll and on process
// exit, and leftovers of an earlier run that was killed are swept first.

import { Random } from '../../model/random.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeSwitch } from '../../switch/edge-switch.js';
import type { Clock, Timer } from '../../model/time.js';
import { PcapPort } from '../../hosts/runtime/pcap-port.js';
import { wallClock } from '../../hosts/runtime/wall-clock.js';
import { VsiTypeDb } from '../../switch/vsi-db.js';
import { alive, findTool, mustSync, runSync, sleep, sleepSync, stopProcess } from '../support/processes.js';

const INSTALL_HINT = 'install with: apt-get install lldpad iproute2 libpcap-dev (then npm install, so the `cap` binding builds)';

const PID = process.pid;
const NS = `migsim-st-${PID}`;
const ST_IF = `mgsst${PID}`; // station end, moved into NS (≤ 15 chars: pid ≤ 7 digits)
const BR_IF = `mgsbr${PID}`; // bridge end, stays here, opened by PcapPort
const TMP_PREFIX = 'migsim-lldpad-';

const SWITCH_MAC = '02:5e:00:00:be:01'; // locally administered
const MGRID = 'migsim';
const TYPE = { id: 5, version: 4, vlan: 10 };
const VSI1 = { uuid: 'a1412857-60f7-4ce1-e95a-2164943f53aa', mac: '52:54:00:11:22:33' };
const VSI2 = { uuid: 'b2523968-71a8-4df2-8a6b-3275a54a64bb', mac: '52:54:00:11:22:44' };

const VDP_READY_TIMEOUT_MS = 30_000;
const VDPTOOL_TIMEOUT_MS = 20_000;
/** vdptool's answers while lldpad's port or its VDP module is not up yet */
const NOT_READY = /VDP protocol not supported|Device not found or inactive/;

// ------------------------------------------------------------------------------------------
// processes

interface CommandResult {
  rc: number | null;
  out: string;
}

/** Asynchronous: the event loop (and so the switch) keeps running while the command waits. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ rc: null, out: `${out}${String(e)}` });
    });
    child.on('close', (rc) => {
      clearTimeout(timer);
      resolve({ rc, out });
    });
  });
}

// ------------------------------------------------------------------------------------------
// the testbed: namespace, veth, lldpad, switch

interface Tools {
  ip: string;
  lldpad: string;
  vdptool: string;
  unshare: string | null;
  stdbuf: string | null;
  pkill: string | null;
}

interface TraceEntry {
  ms: number;
  dir: 'in' | 'out';
  frame: Uint8Array;
}

interface Bed {
  tools: Tools;
  tmp: string;
  conf: string;
  lldpad: ChildProcess | null;
  lldpadExit: number | string | null;
  lldpadLog: string[];
  port: PcapPort | null;
  sw: EdgeSwitch | null;
  portId: number;
  timers: Set<Timer>;
  trace: TraceEntry[];
  t0: number;
}

let bed: Bed | null = null;
let cleaned = false;

function checkTools(): Tools {
  const ip = findTool('ip');
  const lldpad = findTool('lldpad');
  const vdptool = findTool('vdptool');
  const missing = [!ip && 'ip (iproute2)', !lldpad && 'lldpad', !vdptool && 'vdptool (lldpad)'].filter(Boolean);
  if (missing.length > 0) throw new Error(`lldpad interop test: missing ${missing.join(', ')}; ${INSTALL_HINT}`);
  return { ip: ip!, lldpad: lldpad!, vdptool: vdptool!, unshare: findTool('unshare'), stdbuf: findTool('stdbuf'), pkill: findTool('pkill') };
}

/**
 * Leftovers of earlier runs that were killed before their cleanup ran: those of a process
 * that is gone, and any with our own names (a container may hand out the same PID again;
 * this runs before we create anything).
 */
function sweepStale(tools: Tools): void {
  const stale = (pid: number) => pid === PID || !alive(pid);
  const netns = runSync(tools.ip, ['netns', 'list']).out;
  for (const m of netns.matchAll(/^migsim-st-(\d+)\b/gm)) {
    if (stale(Number(m[1]))) removeNetns(tools, `migsim-st-${m[1]}`);
  }
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || !stale(Number(m[1]))) continue;
    if (tools.pkill) runSync(tools.pkill, ['-f', join(tmpdir(), name)]);
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const links = runSync(tools.ip, ['-o', 'link', 'show']).out;
  for (const m of links.matchAll(/^\d+: mgsbr(\d+)[@:]/gm)) {
    if (stale(Number(m[1]))) runSync(tools.ip, ['link', 'del', `mgsbr${m[1]}`]);
  }
}

/** Kill what runs in the namespace (only ever our lldpad / vdptool), then delete it. */
function removeNetns(tools: Tools, ns: string): void {
  const pids = runSync(tools.ip, ['netns', 'pids', ns]).out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
  for (const pid of pids) stopProcess(pid);
  runSync(tools.ip, ['netns', 'del', ns]);
}

function lldpadConfig(): string {
  // docs/protocols.md 3.2: the nearest-customer-bridge agent with the EVB TLV in station mode
  return `nearest_customer_bridge :
{
  ${ST_IF} :
  {
    adminStatus = 3;
    tlvid0080c20d :
    {
      enableTx = true;
      evbmode = "station";
      evbrrreq = true;
      evbrrcap = true;
      evbgpid = false;
      ecpretries = 3;
      ecprte = 14;
      vdprwd = 20;
      vdprka = 20;
    };
  };
};
`;
}

/** A clock whose pending timers the cleanup can cancel (the VDP keep-alive timers outlive the test). */
function trackedClock(timers: Set<Timer>): Clock {
  return {
    now: wallClock.now,
    schedule(delayNs, fn) {
      const t: Timer = wallClock.schedule(delayNs, () => {
        timers.delete(handle);
        fn();
      });
      const handle: Timer = { cancel: () => { timers.delete(handle); t.cancel(); } };
      timers.add(handle);
      return handle;
    },
  };
}

async function setUp(): Promise<Bed> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('lldpad interop test: must run as root (network namespaces, veth, raw sockets): sudo npm run test:interop');
  }
  const tools = checkTools();
  sweepStale(tools);
  process.once('exit', cleanUp);

  const tmp = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${PID}-`));
  const conf = join(tmp, 'lldpad.conf');
  writeFileSync(conf, lldpadConfig());
  const timers = new Set<Timer>();
  const b: Bed = {
    tools, tmp, conf, lldpad: null, lldpadExit: null, lldpadLog: [], port: null, sw: null, portId: -1,
    timers, trace: [], t0: wallClock.now(),
  };
  bed = b;

  const { ip } = tools;
  mustSync(ip, ['netns', 'add', NS]);
  mustSync(ip, ['link', 'add', ST_IF, 'type', 'veth', 'peer', 'name', BR_IF]);
  mustSync(ip, ['link', 'set', ST_IF, 'netns', NS]);
  // no IPv6 chatter (router solicitations, MLD) on either end: only lldpad's frames cross
  try { writeFileSync(`/proc/sys/net/ipv6/conf/${BR_IF}/disable_ipv6`, '1'); } catch { /* no IPv6 */ }
  runSync(ip, ['netns', 'exec', NS, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${ST_IF}/disable_ipv6`]);
  mustSync(ip, ['-n', NS, 'link', 'set', 'lo', 'up']);
  mustSync(ip, ['-n', NS, 'link', 'set', ST_IF, 'up']);
  mustSync(ip, ['link', 'set', BR_IF, 'up']);

  // the switch, before lldpad starts, so the station's first LLDPDU is answered
  const types = new VsiTypeDb();
  types.define(TYPE.id, TYPE.version, { vlan: TYPE.vlan });
  const sw = new EdgeSwitch({
    vdp: 'extended', dhcpRebind: 'none', igmpRebind: 'none', ipSourceGuard: true, ip: null, mac: SWITCH_MAC,
    igmpQueryIntervalNs: 125e9, rebindQueryMaxRespDs: 1,
  }, trackedClock(timers), new Random(1), types);
  const port = PcapPort.open(BR_IF);
  b.port = port;
  b.sw = sw;
  b.portId = sw.addPort(BR_IF, 'host', (frame) => {
    b.trace.push({ ms: (wallClock.now() - b.t0) / 1e6, dir: 'out', frame });
    port.send(frame);
  });
  port.onFrame((frame) => {
    b.trace.push({ ms: (wallClock.now() - b.t0) / 1e6, dir: 'in', frame });
    sw.receive(b.portId, frame);
  });
  sw.start();

  // lldpad in the station's netns, with its own IPC namespace (its SysV shm state must not
  // meet a host lldpad's); line-buffered so its -V7 log arrives as it happens
  const args = [
    'netns', 'exec', NS,
    ...(tools.unshare ? [tools.unshare, '--ipc'] : []),
    ...(tools.stdbuf ? [tools.stdbuf, '-oL', '-eL'] : []),
    tools.lldpad, '-p', '-t', '-V7', '-f', conf,
  ];
  const child = spawn(ip, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  b.lldpad = child;
  let partial = '';
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) b.lldpadLog.push(`${((wallClock.now() - b.t0) / 1e6).toFixed(1)} ${l}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('exit', (code, signal) => (b.lldpadExit = code ?? signal));

  // its control socket answers once it is up
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (b.lldpadExit !== null) throw new Error(`lldpad exited (${b.lldpadExit}) during start-up\n${diagnostics()}`);
    const ping = await vdptool(['-p']);
    if (ping.rc === 0) break;
    if (Date.now() > deadline) throw new Error(`lldpad's control socket did not answer within 15 s: ${ping.out}\n${diagnostics()}`);
    await sleep(200);
  }
  return b;
}

function cleanUp(): void {
  if (cleaned || !bed) return;
  cleaned = true;
  const b = bed;
  const steps: (() => void)[] = [
    () => {
      // MIGSIM_INTEROP_DUMP=<file>: keep lldpad's whole -V7 log and the frame trace for diagnosis
      const dump = process.env.MIGSIM_INTEROP_DUMP;
      if (dump) writeFileSync(dump, [...b.lldpadLog, `--- frames on ${BR_IF}:`, ...b.trace.map(describeFrame), ''].join('\n'));
    },
    () => b.sw?.stop(),
    () => { for (const t of [...b.timers]) t.cancel(); },
    () => b.port?.close(),
    () => { if (b.lldpad?.pid !== undefined) stopProcess(b.lldpad.pid); },
    () => { if (b.tools.pkill) runSync(b.tools.pkill, ['-f', b.conf]); }, // anything else still holding our config
    () => removeNetns(b.tools, NS),
    () => runSync(b.tools.ip, ['link', 'del', BR_IF]), // normally gone with the netns
    () => rmSync(b.tmp, { recursive: true, force: true }),
  ];
  for (const step of steps) {
    try { step(); } catch { /* every step runs regardless */ }
  }
}

/** Exists after cleanup? (the veth disappears asynchronously once the netns is gone) */
function leftovers(tools: Tools): string[] {
  const left: string[] = [];
  for (let i = 0; i < 40; i++) {
    left.length = 0;
    if (runSync(tools.ip, ['netns', 'list']).out.split('\n').some((l) => l.split(' ')[0] === NS)) left.push(`netns ${NS}`);
    if (runSync(tools.ip, ['link', 'show', BR_IF]).rc === 0) left.push(`link ${BR_IF}`);
    if (bed && existsSync(bed.tmp)) left.push(bed.tmp);
    if (bed?.lldpad?.pid !== undefined && alive(bed.lldpad.pid)) left.push(`lldpad pid ${bed.lldpad.pid}`);
    if (left.length === 0) break;
    sleepSync(50);
  }
  return left;
}

// ------------------------------------------------------------------------------------------
// vdptool and diagnostics

function vdptool(args: string[]): Promise<CommandResult> {
  const b = bed!;
  return run(b.tools.ip, ['netns', 'exec', NS, b.tools.vdptool, ...args], VDPTOOL_TIMEOUT_MS);
}

/** `vid` 0: the bridge chooses (protocols.md 2.4). */
function vsiArgs(mode: 'assoc' | 'preassoc' | 'deassoc', vsi: { uuid: string; mac: string }, hints: 'to' | 'none', vid = 0): string[] {
  return [
    '-i', ST_IF, '-T', '-W', '-V', mode,
    '-c', `mode=${mode}`, '-c', `mgrid2=${MGRID}`, '-c', `typeid=${TYPE.id}`, '-c', `typeidver=${TYPE.version}`,
    '-c', `uuid=${vsi.uuid}`, '-c', `hints=${hints}`, '-c', `filter=${vid}-${vsi.mac}`,
  ];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function describeFrame(e: TraceEntry): string {
  const f = e.frame;
  const type = f.length >= 14 ? ((f[12]! << 8) | f[13]!).toString(16).padStart(4, '0') : '????';
  return `${e.ms.toFixed(1).padStart(9)} ms ${e.dir === 'in' ? 'station→switch' : 'switch→station'} ${type} len ${f.length} ${hex(f.subarray(0, 96))}${f.length > 96 ? '…' : ''}`;
}

/** lldpad's recent log and every frame on the veth: printed with a failed assertion. */
function diagnostics(): string {
  if (!bed) return '';
  return [
    `--- lldpad (-V7), last 80 lines${bed.lldpadExit !== null ? `, exited ${bed.lldpadExit}` : ''}:`,
    ...bed.lldpadLog.slice(-80),
    `--- frames on ${BR_IF} (${bed.trace.length}):`,
    ...bed.trace.slice(-60).map(describeFrame),
    `--- PcapPort stats: ${JSON.stringify(bed.port?.stats)}${bed.port?.lastError ? ` last error: ${bed.port.lastError.message}` : ''}`,
  ].join('\n');
}

/** What vdptool prints when the bridge answered with success (vdptool.c: print_all_vsis). */
function expectVdpSuccess(r: CommandResult, mode: string, vsi: { uuid: string; mac: string }): void {
  const ctx = `vdptool output:\n${r.out}\n${diagnostics()}`;
  expect(r.rc, ctx).toBe(0);
  // vdptool exits 0 even when no answer came within its 5 s wait; the answer is this block,
  // where an error the bridge returned would be printed instead of the hints line
  expect(r.out, ctx).toContain('Response from VDP');
  expect(r.out, ctx).not.toMatch(/FAILED|Error returned by Bridge|Internal Error/);
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*mode = ${mode}$`, 'm'));
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*mgrid2 = ${MGRID}$`, 'm'));
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*typeid = ${TYPE.id}$`, 'm'));
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*typeidver = ${TYPE.version}$`, 'm'));
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*uuid = ${vsi.uuid}$`, 'mi'));
  // the VID our switch chose for the station's 0 (the VSI type's VLAN)
  expect(r.out, ctx).toMatch(new RegExp(`^\\s*filter = ${TYPE.vlan}-${vsi.mac}$`, 'mi'));
}

// ------------------------------------------------------------------------------------------

describe('lldpad (Debian, station role) against our EdgeSwitch over a veth pair', () => {
  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      cleanUp();
      throw e;
    }
  });

  afterAll(() => {
    const tools = bed?.tools;
    cleanUp();
    if (!tools) return;
    const left = leftovers(tools);
    expect(left, 'cleanup left these behind').toEqual([]);
  });

  it('associates with hints=to once lldpad has heard our EVB TLV; the switch fills in VLAN 10', async () => {
    const b = bed!;
    const started = Date.now();
    const deadline = started + VDP_READY_TIMEOUT_MS;
    // lldpad enables VDP when it hears the bridge's EVB TLV (protocols.md 3.2 gotcha 1): wait
    // for the switch's answer to the station's LLDPDU before the first (5 s-blocking) -W try
    while (!b.trace.some((e) => e.dir === 'out' && e.frame[12] === 0x88 && e.frame[13] === 0xcc) && Date.now() < deadline) await sleep(100);
    await sleep(200);
    let r: CommandResult;
    let tries = 0;
    for (;;) {
      tries++;
      r = await vdptool(vsiArgs('assoc', VSI1, 'to'));
      // refused while lldpad's port or VDP is not up yet; each refusal costs vdptool's 5 s wait
      if (!NOT_READY.test(r.out) || Date.now() > deadline) break;
      await sleep(500);
    }
    console.log(`vdptool assoc (hints=to), try ${tries}, ${Date.now() - started} ms after lldpad's control socket answered:\n${r.out}`);
    expect(r.out, `VDP never became available within ${VDP_READY_TIMEOUT_MS / 1000} s\n${diagnostics()}`).not.toMatch(NOT_READY);
    expectVdpSuccess(r, 'assoc', VSI1);
    expect(bed!.sw!.fdb.lookup(TYPE.vlan, VSI1.mac, wallClock.now())).toBe(bed!.portId);
  });

  it('pre-associates another VSI (hints none)', async () => {
    const r = await vdptool(vsiArgs('preassoc', VSI2, 'none'));
    console.log(`vdptool preassoc:\n${r.out}`);
    expectVdpSuccess(r, 'preassoc', VSI2);
  });

  it('de-associates the first VSI', async () => {
    // lldpad matches a de-associate's filter against the VSI as the bridge answered it
    // (VID 10, not the 0 it asked with): "vdp22_addreq … mismatch filter data" otherwise
    const r = await vdptool(vsiArgs('deassoc', VSI1, 'none', TYPE.vlan));
    console.log(`vdptool deassoc:\n${r.out}`);
    expectVdpSuccess(r, 'deassoc', VSI1);
    expect(bed!.sw!.vdp.vsisOn(bed!.portId).map((v) => v.name)).toEqual([VSI2.uuid]);
  });

  it("the switch's log: the associate carried the M-bit (migratedTo), the pre-associate did not; every answer error 0", () => {
    const sw = bed!.sw!;
    const ctx = `${JSON.stringify(sw.log.events, null, 1)}\n${diagnostics()}`;
    const requests = sw.log.of('vdp-request');
    const first = (mode: string, uuid: string) => requests.find((e) => e.mode === mode && e.vsi === uuid);
    expect(first('assoc', VSI1.uuid), ctx).toMatchObject({ port: BR_IF, mac: VSI1.mac, vid: 0, migratedTo: true, migratedFrom: false });
    expect(first('preassoc', VSI2.uuid), ctx).toMatchObject({ port: BR_IF, mac: VSI2.mac, vid: 0, migratedTo: false, migratedFrom: false });
    // vdptool said hints=none, but lldpad sends a de-associate with the flags the VSI was
    // associated with (protocols.md 2.3: the hint is repeated in keep-alives and the
    // de-associate): the wire has status 0x10 here, so the log must say migratedTo
    expect(first('deassoc', VSI1.uuid), ctx).toMatchObject({ port: BR_IF, mac: VSI1.mac, vid: TYPE.vlan, migratedTo: true, migratedFrom: false });
    const responses = sw.log.of('vdp-response');
    for (const [mode, uuid] of [['assoc', VSI1.uuid], ['preassoc', VSI2.uuid], ['deassoc', VSI1.uuid]] as const) {
      expect(responses.filter((e) => e.mode === mode && e.vsi === uuid).length, `${mode} answered\n${ctx}`).toBeGreaterThan(0);
    }
    expect(responses.map((e) => e.error), ctx).toEqual(responses.map(() => 0));
    // nothing lldpad sent was unparseable, and no ECPDU of ours went unacknowledged
    expect(sw.log.of('malformed'), ctx).toEqual([]);
    expect(sw.port(bed!.portId)!.ecp!.stats.givenUp, ctx).toBe(0);
    expect(bed!.port!.stats.callbackErrors, ctx).toBe(0);
    expect(bed!.port!.stats.sendErrors, ctx).toBe(0);
  });
});
