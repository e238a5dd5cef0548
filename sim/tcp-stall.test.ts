import { describe, expect, it } from 'vitest';
import { Kernel } from './kernel.js';
import { MigrationNics } from './migration-nics.js';
import { mathisBps, resumeAfterStall, TCP_GIVE_UP_NS } from './tcp-stall.js';

const s = 1e9;
const link = { bandwidthBps: 1e9, latencyNs: 100_000 };

describe('TCP over a cut path (Linux defaults)', () => {
  it('retransmits at 0.2, 0.6, 1.4, 3.0 s … after the stall and gives up after 15 retransmissions (924.6 s)', () => {
    // RTOs 0.2·2^k s up to 120 s: the sum of the first 10 is 204.6 s, then six of 120 s
    expect(TCP_GIVE_UP_NS).toBe(924.6 * s);
    expect(resumeAfterStall(0.1 * s)).toBeCloseTo(0.2 * s, 0);
    expect(resumeAfterStall(0.2 * s)).toBeCloseTo(0.2 * s, 0);
    expect(resumeAfterStall(2 * s)).toBeCloseTo(3.0 * s, 0);
    expect(resumeAfterStall(300 * s)).toBeCloseTo(324.6 * s, 0);
    expect(resumeAfterStall(804.6 * s)).toBeCloseTo(804.6 * s, 0);
    // the 15th retransmission goes at 804.6 s; after it only the give-up
    expect(resumeAfterStall(805 * s)).toBeNull();
  });

  it('bounds a lossy flow by Mathis: MSS/RTT·√(3/2)/√p', () => {
    // 1448 B × 8 / 200 µs = 57.92 Mbit/s, × √150 at 1 % loss
    expect(mathisBps(0.01, 200_000)).toBeCloseTo(57.92e6 * Math.sqrt(150), -3);
    expect(mathisBps(0, 200_000)).toBe(Infinity);
  });
});

function run(setup: (net: MigrationNics, k: Kernel) => void): { k: Kernel; net: MigrationNics } {
  const k = new Kernel();
  const net = new MigrationNics(k, ['h1', 'h2', 'h3'], link);
  setup(net, k);
  return { k, net };
}

describe('migration NICs under faults', () => {
  it('a 2 s cut stalls a transfer; it moves again at the retransmission 3.0 s after the cut', () => {
    let doneAt = -1;
    let ok: boolean | null = null;
    const { k } = run((net, k) => {
      net.transfer('h1', 'h2', 250_000_000, null).onFire((v) => { doneAt = k.now; ok = v; });
      k.schedule(1 * s, () => net.setUp('h2', false));
      k.schedule(3 * s, () => net.setUp('h2', true));
    });
    k.run();
    // 2 s of sending at 1 Gbit/s: 1 s before the cut, 1 s after the stream moves at 4.0 s
    expect(ok).toBe(true);
    expect(doneAt).toBe(5 * s);
  });

  it('a cut longer than TCP holds breaks the transfer at 924.6 s after the stall', () => {
    let doneAt = -1;
    let ok: boolean | null = null;
    const { k } = run((net, k) => {
      net.transfer('h1', 'h2', 250_000_000, null).onFire((v) => { doneAt = k.now; ok = v; });
      k.schedule(1 * s, () => net.setUp('h1', false));
    });
    k.run(2000 * s);
    expect(ok).toBe(false);
    expect(doneAt).toBe(1 * s + TCP_GIVE_UP_NS);
  });

  it('a degraded NIC carries its rate; loss caps each flow; restoring it restores the rate', () => {
    const times: number[] = [];
    const { k } = run((net, k) => {
      net.degrade('h2', 100e6, 0);
      net.transfer('h1', 'h2', 12_500_000, null).onFire(() => times.push(k.now));
    });
    k.run();
    expect(times[0]).toBe(1 * s); // 100 Mbit at 100 Mbit/s

    const lossy: number[] = [];
    const r = run((net, k) => {
      net.degrade('h3', null, 0.01);
      net.transfer('h1', 'h3', 125_000_000, null).onFire(() => lossy.push(k.now));
    });
    r.k.run();
    expect(lossy[0]).toBeCloseTo((1e9 / mathisBps(0.01, 200_000)) * s, -3);
  });

  it('abort stops a flow and reports the bytes it had sent; the others get its share', () => {
    let sent = -1;
    const times: number[] = [];
    const { k } = run((net, k) => {
      const a = net.transfer('h1', 'h2', 1e9, null);
      a.onFire(() => times.push(-1));
      net.transfer('h1', 'h3', 125_000_000, null).onFire(() => times.push(k.now));
      k.schedule(1 * s, () => { sent = net.abort(a); });
    });
    k.run();
    // both at 0.5 Gbit/s for 1 s: 62.5 MB each; then the second alone: 62.5 MB at 1 Gbit/s
    expect(sent).toBeCloseTo(62_500_000, 0);
    expect(times).toEqual([1.5 * s]);
  });

  it('remembers a finished cut, so a post-copy fault made during it waits for its end', () => {
    const { k, net } = run((net, k) => {
      net.transfer('h1', 'h2', 250_000_000, null);
      k.schedule(1 * s, () => net.setUp('h2', false));
      k.schedule(3 * s, () => net.setUp('h2', true));
    });
    k.run();
    expect(net.pathResumesAt('h1', 'h2', 2 * s)).toBe(4 * s);
    expect(net.pathResumesAt('h1', 'h2', 0.5 * s)).toBe(0.5 * s);
    expect(net.pathResumesAt('h1', 'h3', 2 * s)).toBe(2 * s);
  });
});
