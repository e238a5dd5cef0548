// Page transfer between two host containers against plain TCP streams of the same bytes
// (Node's, bench/testbed/tcp-stream.ts, and iperf3's) between the same containers.

import { readFileSync, writeFileSync } from 'node:fs';
import type { RunResult } from '../../model/result/format.js';
import { loadScenario } from '../../model/scenario/load.js';
import { runTestbed } from '../../testbed/engine.js';
import { TestbedNetwork } from '../../testbed/network.js';
import { MGMT_NETWORK } from '../../testbed/topo.js';
import { withTimeout } from '../../hosts/runtime/process-kit.js';
import { type Row } from '../report.js';
import { MiB, container, fmt, int, log, median, nodeIn, quick, removeOwnTopology } from './kit.js';

const TCP_PORT = 7101;
// ---- 1. page transfer vs plain TCP --------------------------------------------------------

interface TcpSend {
  bytes: number;
  ms: number;
  connectMs: number;
}
interface TcpRecv {
  bytes: number;
  acceptToEndMs: number;
  firstToLastMs: number;
}

/** One plain TCP stream of `bytes` from host `from` to host `to` over their mgmt addresses. */
async function tcpStream(from: string, to: string, bytes: number): Promise<{ send: TcpSend; recv: TcpRecv }> {
  const src = container('host', from);
  const dst = container('host', to);
  const ip = await dst.networkIp(MGMT_NETWORK);
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const recv = nodeIn<TcpRecv>(dst, 'bench/testbed/tcp-stream.js', ['recv', '--port', String(TCP_PORT)], 600_000, (s) => {
    if (s.includes('listening')) listening();
  });
  recv.catch(() => undefined);
  await Promise.race([ready, recv.then(() => Promise.reject(new Error('the TCP receiver ended before listening')))]);
  const send = await nodeIn<TcpSend>(src, 'bench/testbed/tcp-stream.js', ['send', '--to', `${ip}:${TCP_PORT}`, '--bytes', String(bytes)], 600_000);
  const r = await recv;
  if (r.bytes !== bytes || send.bytes !== bytes) throw new Error(`TCP stream: sent ${send.bytes}, received ${r.bytes}, wanted ${bytes}`);
  return { send, recv: r };
}

const gbps = (bytes: number, ms: number) => (bytes * 8) / (ms * 1e6);

const IPERF_PORT = 7102;
interface Iperf {
  /** the client's (sender's) rate and the server's (receiver's), Gbit/s */
  sentGbps: number;
  receivedGbps: number;
}

/** iperf3 (the C tool, defaults: 128 KiB writes) sending `bytes` from host `from` to host `to` over their mgmt addresses. */
async function iperfStream(from: string, to: string, bytes: number): Promise<Iperf> {
  const src = container('host', from);
  const dst = container('host', to);
  const ip = await dst.networkIp(MGMT_NETWORK);
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  // --forceflush: its stdout is a pipe here, and "Server listening" must arrive before the client starts
  const server = dst.exec(['iperf3', '--server', '--one-off', '--forceflush', '--port', String(IPERF_PORT)], {
    timeoutMs: 600_000,
    onStdout: (s) => {
      if (s.includes('listening')) listening();
    },
  });
  server.catch(() => undefined);
  await withTimeout(
    Promise.race([ready, server.then((r) => Promise.reject(new Error(`iperf3 server ended before listening: ${r.stdout} ${r.stderr}`)))]),
    15_000,
    'iperf3 server listening',
  );
  const c = await src.exec(['iperf3', '--client', ip, '--port', String(IPERF_PORT), '--bytes', String(bytes), '--json'], { timeoutMs: 600_000 });
  await server;
  if (c.code !== 0) throw new Error(`iperf3 client: exit ${c.code}: ${c.stdout.slice(0, 500)} ${c.stderr}`);
  const j = JSON.parse(c.stdout) as { end: { sum_sent: { bits_per_second: number; bytes: number }; sum_received: { bits_per_second: number } } };
  if (j.end.sum_sent.bytes < bytes) throw new Error(`iperf3 sent ${j.end.sum_sent.bytes} bytes, wanted ${bytes}`);
  return { sentGbps: j.end.sum_sent.bits_per_second / 1e9, receivedGbps: j.end.sum_received.bits_per_second / 1e9 };
}

export async function transfer(): Promise<Row[]> {
  let s = loadScenario('bench/testbed/transfer.yaml');
  if (quick) {
    // a quarter of the guest, and moves 4 s apart instead of 12 (its adoption is quicker too)
    s = {
      ...s,
      vms: s.vms.map((v) => ({ ...v, memoryBytes: 256 * MiB, pageCount: (256 * MiB) / v.pageSize })),
      migrations: s.migrations.map((m, i) => ({ ...m, atNs: 3e9 + i * 4e9 })),
    };
  }
  const vm = s.vms[0]!;
  const net = new TestbedNetwork({ log });
  const pages: { from: string; to: string; bytes: number; ms: number; gbps: number; total: number; downtime: number }[] = [];
  const tcp: { from: string; to: string; send: TcpSend; recv: TcpRecv; gbps: number; recvGbps: number }[] = [];
  const iperf: Iperf[] = [];
  /** the destinations' RAM reservations, ms; and the share of each stream read straight into RAM */
  const reservedMs: number[] = [];
  const inPlace: number[] = [];
  let result: RunResult;
  try {
    log(`transfer: ${s.migrations.length} migrations of a ${vm.memoryBytes / MiB} MiB idle guest`);
    const eventsFile = '/tmp/migsim-bench-testbed-transfer.events.ndjson';
    result = await runTestbed(s, { keepTopology: true, log, eventsFile });
    writeFileSync('/tmp/migsim-bench-testbed-transfer.json', JSON.stringify(result, null, 1));
    for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { kind: string; data: Record<string, unknown> };
      if (e.kind === 'vm-reserved') reservedMs.push(Number(e.data.ms));
      if (e.kind === 'incoming-verdict') inPlace.push(Number(e.data.bytesInPlace) / Number(e.data.bytesIn));
    }
    for (const m of result.migrations) {
      const r0 = m.rounds[0];
      if (m.outcome !== 'completed' || m.memoryVerified !== true || !r0) {
        throw new Error(`migration ${m.from}→${m.to}: ${m.outcome}, verified ${String(m.memoryVerified)}: ${m.error ?? ''}`);
      }
      pages.push({ from: m.from, to: m.to, bytes: r0.bytesSent, ms: r0.durationMs, gbps: gbps(r0.bytesSent, r0.durationMs), total: m.totalTimeMs ?? NaN, downtime: m.downtimeMs ?? NaN });
    }
    // the same containers, the same directions, the same bytes: plain TCP
    for (const p of pages) {
      const t = await tcpStream(p.from, p.to, p.bytes);
      tcp.push({ from: p.from, to: p.to, ...t, gbps: gbps(p.bytes, t.send.ms), recvGbps: gbps(p.bytes, t.recv.firstToLastMs) });
      iperf.push(await iperfStream(p.from, p.to, p.bytes));
      log(`transfer: ${p.from}→${p.to} pages ${fmt(p.gbps)} Gbit/s, TCP ${fmt(tcp.at(-1)!.gbps)} Gbit/s, iperf3 ${fmt(iperf.at(-1)!.sentGbps)} Gbit/s`);
    }
  } finally {
    await removeOwnTopology(net, s);
  }
  const pg = median(pages.map((p) => p.gbps));
  const tg = median(tcp.map((t) => t.gbps));
  const ig = median(iperf.map((t) => t.sentGbps));
  const ratio = pg / tg;
  const size = `${vm.memoryBytes / MiB >= 1024 ? `${vm.memoryBytes / 1024 / MiB} GiB` : `${vm.memoryBytes / MiB} MiB`}`;
  const each = (xs: number[]) => xs.map((x) => fmt(x)).join(', ');
  return [
    {
      name: `Page transfer between two host containers: round 0 of a ${size} idle guest, link uncapped (median of ${pages.length} moves)`,
      measured: `${fmt(pg)} Gbit/s = ${fmt(ratio * 100, 0)} % of plain TCP in Node, ${fmt((pg / ig) * 100, 0)} % of iperf3`,
      target: '≥ 80 % of plain TCP (both)',
      ok: ratio >= 0.8 && pg / ig >= 0.8,
      detail: `moves ${pages.map((p) => `${p.from}→${p.to}`).join(', ')}: ${each(pages.map((p) => p.gbps))} Gbit/s; ${int(pages[0]!.bytes)} bytes of page records each; ` +
        `total ${each(pages.map((p) => p.total / 1000))} s, downtime ${pages.map((p) => fmt(p.downtime, 1)).join(', ')} ms; every move verified; ` +
        `read straight into the destination's RAM: ${inPlace.map((x) => fmt(x * 100, 1)).join(', ')} % of each stream; ` +
        `destination RAM reserved ahead in ${reservedMs.map((x) => fmt(x, 0)).join(', ')} ms`,
    },
    {
      name: `Plain TCP stream (Node, bench/testbed/tcp-stream.ts), same containers, mgmt addresses, directions and bytes (reference, median of ${tcp.length})`,
      measured: `${fmt(tg)} Gbit/s`,
      target: 'reference',
      ok: null,
      detail: `sender side (first write → last write handed to the kernel, as a round is timed), 256 KiB writes, each waited out ('drain') before the next, Nagle off: ${each(tcp.map((t) => t.gbps))} Gbit/s; ` +
        `receiver side (first → last byte): ${each(tcp.map((t) => t.recvGbps))} Gbit/s`,
    },
    {
      name: `iperf3 (Debian's, defaults: 128 KiB writes of one buffer), same containers, directions and bytes (reference, median of ${iperf.length})`,
      measured: `${fmt(ig)} Gbit/s`,
      target: 'reference',
      ok: null,
      detail: `sender ${each(iperf.map((t) => t.sentGbps))} Gbit/s; receiver ${each(iperf.map((t) => t.receivedGbps))} Gbit/s`,
    },
  ];
}

// ---- 2. switch forwarding -----------------------------------------------------------------

