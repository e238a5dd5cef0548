// The Redis snooping database: writes reach Redis in the switch's order whatever each command
// takes, a new store reads back what an earlier one wrote, bad rows are skipped, a failed write
// is counted and the ones after it still go.

import { describe, expect, it } from 'vitest';
import { bindingKeys, RedisBindingStore, type StoreRedis } from './redis-binding-store.js';

/** An in-memory Redis whose commands finish after a random delay; `log` is the order they ran in. */
function fakeRedis(seed = 1, failOn: (cmd: string) => boolean = () => false) {
  const hashes = new Map<string, Map<string, string>>();
  const strings = new Map<string, string>();
  const log: string[] = [];
  let x = seed;
  const delay = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return new Promise<void>((r) => setTimeout(r, x % 5));
  };
  const hash = (k: string) => hashes.get(k) ?? hashes.set(k, new Map()).get(k)!;
  const redis: StoreRedis = {
    hgetall: async (k) => Object.fromEntries(hash(k)),
    get: async (k) => strings.get(k) ?? null,
    hset: async (k, f, v) => {
      await delay();
      if (failOn(`hset ${f}`)) throw new Error('refused');
      log.push(`hset ${f} ${v}`);
      hash(k).set(f, v);
    },
    hdel: async (k, f) => {
      await delay();
      log.push(`hdel ${f}`);
      hash(k).delete(f);
    },
    set: async (k, v) => {
      await delay();
      log.push(`set ${v}`);
      strings.set(k, v);
    },
  };
  return { redis, log, hashes, strings };
}

const row = (mac: string, ip: string, expiresAt: number) => ({ mac, ip, vlan: 10, port: 'h1', expiresAt });

describe('RedisBindingStore', () => {
  it('writes in the order of the changes, though each command takes a random time', async () => {
    const f = fakeRedis(7);
    const s = await RedisBindingStore.open(f.redis, 'run1');
    s.put(row('02:00:00:00:00:01', '10.0.0.5', 100));
    s.put(row('02:00:00:00:00:02', '10.0.0.6', 200));
    s.delete('02:00:00:00:00:01');
    s.put({ ...row('02:00:00:00:00:02', '10.0.0.6', 300), port: 'h2' });
    s.putServer({ ip: '10.0.0.1', mac: '02:00:00:00:00:aa', port: 'dhcp' });
    await s.flushed();
    expect(f.log.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'hset 02:00:00:00:00:01', 'hset 02:00:00:00:00:02', 'hdel 02:00:00:00:00:01', 'hset 02:00:00:00:00:02', `set {"ip":"10.0.0.1","mac":"02:00:00:00:00:aa","port":"dhcp"}`,
    ]);
    // the last write of a MAC stands
    expect(JSON.parse(f.hashes.get(bindingKeys('run1').bindings)!.get('02:00:00:00:00:02')!)).toEqual({ ip: '10.0.0.6', vlan: 10, port: 'h2', expiresAt: 300 });
    expect(f.hashes.get(bindingKeys('run1').bindings)!.has('02:00:00:00:00:01')).toBe(false);
    // read synchronously as the switch does
    expect(s.load()).toEqual([{ ...row('02:00:00:00:00:02', '10.0.0.6', 300), port: 'h2' }]);
  });

  it('a store opened later (the restarted switch) reads back the rows and the server; bad rows are skipped', async () => {
    const f = fakeRedis(3);
    const a = await RedisBindingStore.open(f.redis, 'run1');
    a.put(row('02:00:00:00:00:01', '10.0.0.5', 100));
    a.putServer({ ip: '10.0.0.1', mac: '02:00:00:00:00:aa', port: 'dhcp' });
    await a.flushed();
    f.hashes.get(bindingKeys('run1').bindings)!.set('02:00:00:00:00:09', 'not json');
    const b = await RedisBindingStore.open(f.redis, 'run1');
    expect(b.load()).toEqual([row('02:00:00:00:00:01', '10.0.0.5', 100)]);
    expect(b.loadServer()).toEqual({ ip: '10.0.0.1', mac: '02:00:00:00:00:aa', port: 'dhcp' });
    expect(b.skipped).toBe(1);
    // another run's keys are another database
    expect((await RedisBindingStore.open(f.redis, 'run2')).load()).toEqual([]);
  });

  it('a write Redis refuses is counted and reported; the ones after it still go, in order', async () => {
    const f = fakeRedis(5, (cmd) => cmd === 'hset 02:00:00:00:00:01');
    const errors: string[] = [];
    const s = await RedisBindingStore.open(f.redis, 'run1', (e) => errors.push(e.message));
    s.put(row('02:00:00:00:00:01', '10.0.0.5', 100));
    s.put(row('02:00:00:00:00:02', '10.0.0.6', 100));
    await s.flushed();
    expect(s.errors).toBe(1);
    expect(errors).toEqual(['refused']);
    expect(f.log.map((l) => l.split(' ')[1])).toEqual(['02:00:00:00:00:02']);
  });
});
