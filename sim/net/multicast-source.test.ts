import { describe, expect, it } from 'vitest';
import { multicastMac } from '../../wire/compose.js';
import { be32, readInbound } from './frames.js';
import { MulticastSource } from './multicast-source.js';
import { ManualClock } from '../clock.js';

const CFG = { mac: '02:4d:00:00:00:01', ip: '10.77.0.3', group: '239.1.2.3', ratePerSecond: 3, sizeBytes: 100 };

function rig(cfg = CFG) {
  const clock = new ManualClock();
  const out: { t: number; frame: Uint8Array }[] = [];
  const src = new MulticastSource(clock, (frame) => out.push({ t: clock.now(), frame }), cfg);
  return { clock, out, src };
}

describe('multicast source', () => {
  it('sends the k-th datagram at exactly start + round(k·1e9/rate)', () => {
    const { clock, out, src } = rig();
    clock.advance(17);
    src.start();
    clock.advance(3e9);
    expect(out.map((o) => o.t)).toEqual(Array.from({ length: 10 }, (_, k) => 17 + Math.round((k * 1e9) / 3)));
    expect(src.sent).toBe(10);
  });

  it('does not drift over many datagrams', () => {
    const { clock, out, src } = rig({ ...CFG, ratePerSecond: 700 });
    src.start();
    clock.advance(10e9 - 1);
    expect(out).toHaveLength(7000);
    expect(out[6999]!.t).toBe(Math.round((6999 * 1e9) / 700));
    expect(out.every((o, k) => o.t === Math.round((k * 1e9) / 700))).toBe(true);
  });

  it('sends UDP 5000 → group:5001, TTL 16, to the group MAC; payload = 32-bit seq + zero padding to sizeBytes', () => {
    const { clock, out, src } = rig();
    src.start();
    clock.advance(1e9);
    out.forEach((o, k) => {
      const d = readInbound(o.frame);
      expect(d?.kind).toBe('udp');
      if (d?.kind !== 'udp') return;
      expect([d.eth.dst, d.eth.src, d.ip.src, d.ip.dst, d.ip.ttl, d.udp.srcPort, d.udp.dstPort]).toEqual([multicastMac('239.1.2.3'), CFG.mac, CFG.ip, CFG.group, 16, 5000, 5001]);
      expect(d.udp.payload.length).toBe(100);
      expect(be32(d.udp.payload, 0)).toBe(k);
      expect(d.udp.payload.subarray(4).every((b) => b === 0)).toBe(true);
    });
    const tiny = rig({ ...CFG, sizeBytes: 2 });
    tiny.src.start();
    const d = readInbound(tiny.out[0]!.frame);
    expect(d?.kind === 'udp' && d.udp.payload.length).toBe(4);
  });

  it('stops, and a restart continues the sequence on a new schedule', () => {
    const { clock, out, src } = rig({ ...CFG, ratePerSecond: 10 });
    src.start();
    clock.advance(250e6);
    src.stop();
    expect(src.running).toBe(false);
    clock.advance(1e9);
    expect(out).toHaveLength(3);
    const t = clock.now() + 5;
    clock.advance(5);
    src.start();
    clock.advance(150e6);
    expect(out.slice(3).map((o) => o.t)).toEqual([t, t + 100e6]);
    expect(out.map((o) => { const d = readInbound(o.frame); return d?.kind === 'udp' ? be32(d.udp.payload, 0) : -1; })).toEqual([0, 1, 2, 3, 4]);
  });

  it('ignores everything it receives', () => {
    const { out, src } = rig();
    src.receive(new Uint8Array(60));
    src.receive(new Uint8Array(0));
    expect(out).toEqual([]);
    expect(src.stats.ignored).toBe(2);
  });
});
