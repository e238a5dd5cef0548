// A plain TCP stream between two testbed containers: the reference for the page-transfer
// benchmark (bench/testbed.ts `transfer`). Run inside the containers as the host agents are
// (`node /migsim/dist/bench/testbed/tcp-stream.js …`):
//
//   tcp-stream.js recv --port 7101 [--host 0.0.0.0]
//       prints `listening` once it accepts, takes one connection, counts what arrives until
//       the peer ends it, then prints one JSON line {bytes, acceptToEndMs, firstToLastMs}.
//   tcp-stream.js send --to IP:PORT --bytes N [--chunk 262144]
//       writes N bytes in chunks of 256 KiB, waiting for 'drain' after each (the agents
//       write 256 KiB–1 MiB PAGES batches and keep up to 4 MiB queued: hosts/agent/sender.ts),
//       Nagle off as they have it, and prints one JSON line {bytes, ms, connectMs}: `ms` is
//       from the first write to the last write handed to the kernel — the definition of a
//       pre-copy round's duration in hosts/agent/sender.ts.
//
// The chunk is filled with deterministic non-zero bytes (an LCG), written again and again:
// no copying on the sender, nothing kept on the receiver — the ceiling the agents are held to.

import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function chunkOf(bytes: number): Buffer {
  const b = Buffer.allocUnsafeSlow(bytes);
  let x = 0x12345678;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    b[i] = (x >>> 24) | 1;
  }
  return b;
}

function recv(host: string, port: number): void {
  const server = createServer((sock: Socket) => {
    server.close();
    const tAccept = now();
    let first = 0;
    let last = 0;
    let bytes = 0;
    sock.on('data', (d: Buffer) => {
      if (bytes === 0) first = now();
      bytes += d.length;
      last = now();
    });
    sock.on('end', () => {
      const tEnd = now();
      process.stdout.write(`${JSON.stringify({ bytes, acceptToEndMs: tEnd - tAccept, firstToLastMs: last - first })}\n`);
      sock.end();
    });
    sock.on('error', (e) => {
      process.stderr.write(`tcp-stream recv: ${e.message}\n`);
      process.exit(1);
    });
  });
  server.listen(port, host, () => process.stdout.write('listening\n'));
}

function send(to: string, total: number, chunkBytes: number): void {
  const m = /^(.+):(\d+)$/.exec(to);
  if (!m) throw new Error(`--to ${to}: expected IP:PORT`);
  const chunk = chunkOf(chunkBytes);
  const t0 = now();
  const sock = connect({ host: m[1]!, port: Number(m[2]) });
  sock.setNoDelay(true);
  sock.on('error', (e) => {
    process.stderr.write(`tcp-stream send: ${e.message}\n`);
    process.exit(1);
  });
  sock.on('connect', () => {
    void (async () => {
      const tConnected = now();
      let sent = 0;
      let lastWrite: Promise<void> = Promise.resolve();
      while (sent < total) {
        const n = Math.min(chunkBytes, total - sent);
        sent += n;
        lastWrite = new Promise<void>((resolve) => sock.write(n === chunkBytes ? chunk : chunk.subarray(0, n), () => resolve()));
        if (sock.writableNeedDrain) await new Promise<void>((resolve) => sock.once('drain', resolve));
      }
      await lastWrite;
      const ms = now() - tConnected;
      process.stdout.write(`${JSON.stringify({ bytes: sent, ms, connectMs: tConnected - t0 })}\n`);
      sock.end();
    })();
  });
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    to: { type: 'string' },
    bytes: { type: 'string' },
    chunk: { type: 'string' },
  },
});
if (positionals[0] === 'recv') recv(values.host ?? '0.0.0.0', Number(values.port ?? 7101));
else if (positionals[0] === 'send') send(values.to ?? '', Number(values.bytes), Number(values.chunk ?? 256 * 1024));
else {
  process.stderr.write('usage: tcp-stream.js recv --port P [--host H] | send --to IP:PORT --bytes N [--chunk B]\n');
  process.exit(2);
}
