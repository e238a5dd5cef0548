// A frame blaster for the switch forwarding benchmark (bench/testbed/forwarding.ts): one
// IPv4/UDP frame put on an interface N times through libpcap, flat out or paced. Usage and
// output: bench/RESULTS.md ("How they run", in the testbed section).

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { udpFrame } from '../../wire/compose.js';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
}

const { values } = parseArgs({
  options: {
    if: { type: 'string' },
    src: { type: 'string' },
    dst: { type: 'string' },
    'src-ip': { type: 'string' },
    'dst-ip': { type: 'string' },
    size: { type: 'string' },
    count: { type: 'string' },
    rate: { type: 'string' },
  },
});
const size = Number(values.size ?? 60);
const count = Number(values.count ?? 1);
const rate = Number(values.rate ?? 0);
const HEADERS = 14 + 20 + 8;
if (!values.if || !values.src || !values.dst || !(size >= 60 && size <= 1514) || !(count >= 1)) {
  process.stderr.write('usage: blast.js --if IF --src MAC --dst MAC --src-ip A --dst-ip B --size 60..1514 --count N [--rate FPS]\n');
  process.exit(2);
}

const payload = new Uint8Array(size - HEADERS);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
const frame = udpFrame({
  srcMac: values.src, dstMac: values.dst, srcIp: values['src-ip'] ?? '10.77.0.2', dstIp: values['dst-ip'] ?? '10.77.0.1',
  srcPort: 9, dstPort: 9, payload,
});
if (frame.length !== size) throw new Error(`built a ${frame.length}-byte frame, wanted ${size}`);
const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);

const { Cap } = createRequire(import.meta.url)('cap') as { Cap: new () => CapHandle };
const cap = new Cap();
// a small capture ring: this process only sends (the filter passes nothing back)
cap.open(values.if, 'ether src 00:00:00:00:00:00 and ether dst 00:00:00:00:00:00', 1 << 20, Buffer.alloc(65_535));

let sent = 0;
let errors = 0;
const t0 = process.hrtime.bigint();
if (rate > 0) {
  // paced: catch up to where the schedule says we should be, never ahead of it
  const perNs = rate / 1e9;
  while (sent + errors < count) {
    const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - t0) * perNs) + 1);
    while (sent + errors < due) {
      try {
        cap.send(buf, buf.length);
        sent++;
      } catch {
        errors++;
      }
    }
  }
} else {
  for (let i = 0; i < count; i++) {
    try {
      cap.send(buf, buf.length);
      sent++;
    } catch {
      errors++;
    }
  }
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
cap.close();
process.stdout.write(`${JSON.stringify({ sent, errors, ms, fps: (sent * 1000) / ms })}\n`);
