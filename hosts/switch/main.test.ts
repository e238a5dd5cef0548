// The runner's per-port send pacing (hosts/switch/pacer.ts, PortPacer) on a fake clock, and its
// argument parsing (args.ts). Needs nothing: it runs under `npm test` too.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../runtime/process-kit.js';
import { parseRunnerArgs } from './args.js';
import { isControlFrame, PortPacer, type PacerClock } from './pacer.js';

class FakeClock implements PacerClock {
  ns = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.ns;
  }

  later(fn: () => void, ms: number) {
    const t = { at: this.ns + ms * 1e6, fn, live: true };
    this.timers.push(t);
    return { cancel: () => (t.live = false) };
  }

  get armed(): number {
    return this.timers.filter((t) => t.live).length;
  }

  /** Move time on, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.ns + ms * 1e6;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.ns = Math.max(this.ns, due.at);
      due.fn();
    }
    this.ns = end;
    this.timers = this.timers.filter((t) => t.live);
  }
}

const data = (n: number) => Uint8Array.of(0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, n & 0xff, n >> 8);
const ecp = (n: number) => Uint8Array.of(0x01, 0x80, 0xc2, 0, 0, 0, 0x02, 0, 0, 0, 0, 9, 0x89, 0x40, n & 0xff, n >> 8);
const idOf = (f: Uint8Array) => f[14]! | (f[15]! << 8);

function setUp(opts: { rateFps: number; burst: number; queueLimit: number }) {
  const clock = new FakeClock();
  const out: { ms: number; f: Uint8Array }[] = [];
  const pacer = new PortPacer((f) => out.push({ ms: clock.ns / 1e6, f }), opts, clock);
  return { clock, out, pacer };
}

describe('PortPacer', () => {
  it('lets a burst of `burst` frames through at once, with no timer', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 8, queueLimit: 100 });
    for (let i = 0; i < 8; i++) pacer.send(data(i));
    expect(out.map((o) => idOf(o.f))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(clock.armed).toBe(0);
    expect(pacer.stats).toMatchObject({ sent: 8, immediate: 8, delayed: 0 });
  });

  it('queues the rest of a burst and drains it at the rate, in order', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 4, queueLimit: 100 });
    for (let i = 0; i < 24; i++) pacer.send(data(i));
    expect(out).toHaveLength(4);
    expect(pacer.queued).toBe(20);
    clock.advance(10);
    // 1 frame/ms: ten more after 10 ms (the bucket refills one token per ms)
    expect(out).toHaveLength(14);
    clock.advance(100);
    expect(out.map((o) => idOf(o.f))).toEqual([...Array(24).keys()]);
    expect(pacer.stats).toMatchObject({ sent: 24, immediate: 4, delayed: 20, dropped: 0, maxQueued: 20 });
    // sustained rate: frame k (k ≥ burst) goes at (k - burst + 1) ms
    for (let k = 4; k < 24; k++) expect(out[k]!.ms).toBeCloseTo(k - 3, 5);
    expect(clock.armed).toBe(0);
  });

  it('a frame that finds the queue non-empty waits its turn even if a token is there', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 1, queueLimit: 100 });
    pacer.send(data(0));
    pacer.send(data(1));
    clock.ns += 5e6; // tokens accrued, but frame 1 is queued: frame 2 must not overtake it
    pacer.send(data(2));
    clock.advance(10);
    expect(out.map((o) => idOf(o.f))).toEqual([0, 1, 2]);
  });

  it('sends queued control frames (ECP, LLDP) before queued data', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 2, queueLimit: 100 });
    for (let i = 0; i < 10; i++) pacer.send(data(i));
    pacer.send(ecp(100));
    pacer.send(ecp(101));
    clock.advance(100);
    expect(out.map((o) => idOf(o.f))).toEqual([0, 1, 100, 101, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('drops data beyond the queue limit (counted), but keeps control frames in their own queue', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 1, queueLimit: 3 });
    for (let i = 0; i < 10; i++) pacer.send(data(i));
    pacer.send(ecp(100));
    expect(pacer.stats.dropped).toBe(6); // 1 sent, 3 queued
    clock.advance(100);
    expect(out.map((o) => idOf(o.f))).toEqual([0, 100, 1, 2, 3]);
    expect(pacer.stats).toMatchObject({ sent: 5, dropped: 6, controlDropped: 0 });
  });

  it('close drops what is queued (counted) and cancels its timer; later sends are dropped', () => {
    const { clock, out, pacer } = setUp({ rateFps: 1000, burst: 1, queueLimit: 100 });
    for (let i = 0; i < 5; i++) pacer.send(data(i));
    pacer.send(ecp(7));
    expect(pacer.close()).toBe(5);
    expect(clock.armed).toBe(0);
    pacer.send(data(9));
    clock.advance(100);
    expect(out).toHaveLength(1);
    expect(pacer.stats).toMatchObject({ sent: 1, dropped: 5, controlDropped: 1 });
  });

  it('a throwing port is counted, not propagated', () => {
    const clock = new FakeClock();
    const pacer = new PortPacer(() => {
      throw new Error('boom');
    }, { rateFps: 10, burst: 1, queueLimit: 10 }, clock);
    expect(() => pacer.send(data(0))).not.toThrow();
    pacer.send(data(1));
    expect(() => clock.advance(1000)).not.toThrow();
    expect(pacer.stats).toMatchObject({ sent: 0, sendErrors: 2 });
  });

  it('isControlFrame: 01:80:c2:00:00:00–0f only', () => {
    expect(isControlFrame(ecp(0))).toBe(true);
    expect(isControlFrame(Uint8Array.of(0x01, 0x80, 0xc2, 0, 0, 0x0e))).toBe(true);
    expect(isControlFrame(Uint8Array.of(0x01, 0x80, 0xc2, 0, 0, 0x10))).toBe(false);
    expect(isControlFrame(data(0))).toBe(false);
    expect(isControlFrame(Uint8Array.of(0x01, 0x80))).toBe(false);
  });
});

describe('runner arguments', () => {
  it('parses ports, run and redis, with defaults', () => {
    const a = parseRunnerArgs(['--redis', '127.0.0.1:6379', '--run', 'r1', '--port', 'h1:host:veth0', '--port', 'dhcp:dhcp-server:veth1']);
    expect(a).toMatchObject({
      redis: '127.0.0.1:6379', run: 'r1', flushMs: 2, configWaitMs: 30_000, pcapBufferBytes: null, querier: 'start', dhcpRebindFallback: 'none', bindingDatabase: 'none',
      pace: { rateFps: 50_000, burst: 64, queueLimit: 4096 },
      ports: [{ name: 'h1', role: 'host', ifname: 'veth0' }, { name: 'dhcp', role: 'dhcp-server', ifname: 'veth1' }],
    });
  });

  it('takes the pacing, flush and ring options', () => {
    const a = parseRunnerArgs(['--redis', 'r:1', '--run', 'r', '--port', 'h1:host:v0', '--pace-rate', '1000', '--pace-burst', '8', '--pace-queue', '0',
      '--flush-ms', '0', '--config-wait-ms', '500', '--pcap-buffer-mib', '64', '--querier', 'control', '--dhcp-rebind-fallback', 'assist', '--binding-database', 'redis']);
    expect(a).toMatchObject({ flushMs: 0, configWaitMs: 500, pcapBufferBytes: 64 * 1024 * 1024, pace: { rateFps: 1000, burst: 8, queueLimit: 0 }, querier: 'control', dhcpRebindFallback: 'assist', bindingDatabase: 'redis' });
  });

  it.each([
    [[], /--redis/],
    [['--redis', 'x:1'], /--run/],
    [['--redis', 'x:1', '--run', 'a:b', '--port', 'h1:host:v0'], /--run a:b/],
    [['--redis', 'x:1', '--run', 'r'], /at least one --port/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:switch:v0'], /role switch/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host'], /NAME:ROLE:IFNAME/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--port', 'h1:host:v1'], /given twice/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:averyveryverylongname'], /at most 15/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--pace-rate', '0'], /--pace-rate 0/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--bogus'], /bogus/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--querier', 'later'], /--querier later: expected start or control/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--dhcp-rebind-fallback', 'leasequery'], /--dhcp-rebind-fallback leasequery: expected none or assist/],
    [['--redis', 'x:1', '--run', 'r', '--port', 'h1:host:v0', '--binding-database', 'flash'], /--binding-database flash: expected none or redis/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseRunnerArgs(argv)).toThrow(UsageError);
    expect(() => parseRunnerArgs(argv)).toThrow(message);
  });
});
