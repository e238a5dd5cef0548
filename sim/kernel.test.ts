import { describe, expect, it } from 'vitest';
import { Kernel, type Process } from './kernel.js';

describe('event kernel', () => {
  it('runs processes in virtual time; at equal times, in the order they were scheduled', () => {
    const k = new Kernel();
    const log: string[] = [];
    function* p(name: string, delays: number[]): Process<string> {
      for (const d of delays) {
        yield k.timeout(d);
        log.push(`${k.now}:${name}`);
      }
      return name;
    }
    const a = k.process(p('a', [5, 5]));
    k.process(p('b', [10]));
    k.run();
    // b's timeout for t=10 was queued at t=0, a's at t=5: b first
    expect(log).toEqual(['5:a', '10:b', '10:a']);
    expect(a.value).toBe('a');
  });

  it('a process waits on another and receives its value', () => {
    const k = new Kernel();
    function* child(): Process<number> {
      yield k.timeout(7);
      return 42;
    }
    let got = 0;
    k.process((function* () {
      got = yield k.process(child());
    })());
    k.run();
    expect(got).toBe(42);
    expect(k.now).toBe(7);
  });

  it('stops at `until`, leaving later events queued; cancelled timers never run', () => {
    const k = new Kernel();
    let ran = 0;
    k.schedule(10, () => ran++);
    const t = k.schedule(5, () => ran += 100);
    t.cancel();
    k.schedule(50, () => ran += 1000);
    expect(k.run(20)).toBe(20);
    expect(ran).toBe(1);
    expect(k.pending).toBe(1);
  });

  it('rounds fractional delays up to whole ns and refuses negative ones', () => {
    const k = new Kernel();
    k.schedule(2.1, () => undefined);
    k.run();
    expect(k.now).toBe(3);
    expect(() => k.schedule(-1, () => undefined)).toThrow();
  });

  it('all() fires when every event has', () => {
    const k = new Kernel();
    const done = k.all([k.timeout(3), k.timeout(9)]);
    let at = -1;
    done.onFire(() => { at = k.now; });
    k.run();
    expect(at).toBe(9);
  });
});
