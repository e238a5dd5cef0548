// The orchestrator's event follower against a stand-in for Redis's XREAD: waits resolve on
// the entry they match, time out with the stream's tail, and are given up on an abort.

import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../test/support/processes.js';
import { EventFollower } from './event-follower.js';


/** XREAD that hands out `queued` entries (one batch per call) and otherwise blocks 5 ms. */
function fakeRedis(): { redis: Redis; push: (source: string, kind: string, data?: Record<string, unknown>) => void } {
  let n = 0;
  const queued: [string, string[]][] = [];
  const redis = {
    xread: async () => {
      await sleep(5);
      if (queued.length === 0) return null;
      return [['migsim:r1:events', queued.splice(0)]];
    },
    disconnect: () => undefined,
  } as unknown as Redis;
  const push = (source: string, kind: string, data: Record<string, unknown> = {}): void => {
    n++;
    queued.push([`${n}-0`, ['t', String(1000 + n), 'source', source, 'kind', kind, 'seq', String(n), 'json', JSON.stringify(data)]]);
  };
  return { redis, push };
}

const open: EventFollower[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.stop()));
});

describe('EventFollower', () => {
  it('a wait resolves on the first matching entry after its mark, and an earlier entry is found at once', async () => {
    const { redis, push } = fakeRedis();
    const f = new EventFollower(redis, 'r1');
    open.push(f);
    push('host:h1', 'vm-started', { vm: 'a' });
    const first = await f.waitFor((e) => e.kind === 'vm-started', 1000, 'vm-started');
    expect(first.data).toEqual({ vm: 'a' });
    const mark = f.mark();
    const next = f.waitFor((e) => e.kind === 'vm-started', 1000, 'the next vm-started', mark);
    push('host:h1', 'vm-started', { vm: 'b' });
    expect((await next).data).toEqual({ vm: 'b' });
    expect((await f.waitFor((e) => e.kind === 'vm-started', 1000, 'vm-started', 0)).data).toEqual({ vm: 'a' });
  });

  it('a wait that sees nothing times out, naming what it waited for and the stream tail', async () => {
    const { redis, push } = fakeRedis();
    const f = new EventFollower(redis, 'r1');
    open.push(f);
    push('switch', 'switch-ready');
    await f.waitFor((e) => e.kind === 'switch-ready', 1000, 'switch-ready');
    await expect(f.waitFor((e) => e.kind === 'never', 30, 'the impossible')).rejects.toThrow(/no the impossible within 30 ms; the stream's last entries:\n {2}switch switch-ready/);
  });

  it('an aborted wait is given up at once, and a later matching entry is not handed to it', async () => {
    const { redis, push } = fakeRedis();
    const f = new EventFollower(redis, 'r1');
    open.push(f);
    const ac = new AbortController();
    let handed = 0;
    const w = f.waitFor(
      (e) => {
        handed++;
        return e.kind === 'control-error';
      },
      60_000,
      'control-error',
      0,
      ac.signal,
    );
    const t0 = Date.now();
    ac.abort();
    await expect(w).rejects.toThrow('stopped waiting for control-error');
    expect(Date.now() - t0).toBeLessThan(1000);
    push('host:h1', 'control-error');
    await f.waitFor((e) => e.kind === 'control-error', 1000, 'control-error');
    expect(handed).toBe(0);
    await expect(f.waitFor(() => true, 1000, 'anything', f.mark(), ac.signal)).rejects.toThrow('stopped waiting for anything');
  });
});
