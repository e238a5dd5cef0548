// A plain TCP stream between two testbed containers, timed as the host agents time a round:
// the reference for the page-transfer benchmark (bench/testbed/transfer.ts). Usage and
// output: bench/RESULTS.md ("How they run", in the testbed section).

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
