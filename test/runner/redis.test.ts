// The testbed's Redis side against a private redis-server on 127.0.0.1 (a free port, no
// persistence, killed afterwards): the key layout and the control bus (hosts/control/redis-bus.ts),
// the event sink, reader and NDJSON dump, and the switch-log adapter (hosts/control/event-stream.ts),
// including a Redis restart under the sink. `npm run test:runner` (needs redis-server).

import { Random } from '../../model/random.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeSwitch } from '../../switch/edge-switch.js';
import { EventLog, type SwitchEvent } from '../../model/result/event-log.js';
import { eventLogFromStream, readEvents, RedisEventSink, saveStream, streamSwitchLog } from '../../hosts/control/event-stream.js';
import { ConfigError, connectRedis, type ControlMessage, parseControl, parseRedisAddress, parseSwitchConfig, RedisBus, runKeys, type SwitchRunConfig } from '../../hosts/control/redis-bus.js';
import { VsiTypeDb } from '../../switch/vsi-db.js';
import { sleep } from '../support/processes.js';
import { alive, type PrivateRedis, startRedis, stopRedis } from '../support/redis.js';

const ENABLED = process.env.MIGSIM_RUNNER_TESTS === '1';

// ------------------------------------------------------------------------------------------

let tmp = '';
let server: PrivateRedis | null = null;
let redis: Redis;
const clients: Redis[] = [];
const servers: PrivateRedis[] = [];

function client(port = server!.port): Redis {
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 2 });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

let runNo = 0;
const newRun = () => `t${process.pid}-${++runNo}`;

const CONFIG: SwitchRunConfig = {
  vdp: 'extended', dhcpRebind: 'assist', igmpRebind: 'query', ipSourceGuard: true,
  igmpQueryIntervalNs: 125e9, mac: '02:5e:00:00:be:01', ip: null, pvid: 10,
};

process.on('exit', () => {
  for (const s of [server, ...servers]) if (s && alive(s.proc)) s.proc.kill('SIGKILL');
});

describe.skipIf(!ENABLED)('Redis side of the testbed (private redis-server)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'migsim-redis-'));
    server = await startRedis(tmp);
    redis = client();
    await redis.ping();
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    for (const s of [server, ...servers]) await stopRedis(s);
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('redis-bus: keys, config, VSI types, control', () => {
    it('names every key of a run in one place', () => {
      expect(runKeys('r-1')).toEqual({
        events: 'migsim:r-1:events',
        vsiTypes: 'migsim:r-1:vsitypes',
        switchConfig: 'migsim:r-1:switch:config',
        switchReady: 'migsim:r-1:switch:ready',
        control: 'migsim:r-1:control',
      });
      expect(() => runKeys('a:b')).toThrow(/run id/);
      expect(() => runKeys('')).toThrow(/run id/);
    });

    it('parses HOST:PORT', () => {
      expect(parseRedisAddress('127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
      expect(parseRedisAddress('redis:1')).toEqual({ host: 'redis', port: 1 });
      expect(parseRedisAddress('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
      for (const bad of ['redis', '127.0.0.1:0', '127.0.0.1:70000', ':6379', 'a b:1']) expect(() => parseRedisAddress(bad), bad).toThrow(/HOST:PORT/);
    });

    it('stores the switch config as JSON and reads it back; absent is null', async () => {
      const bus = new RedisBus(redis, newRun());
      expect(await bus.readSwitchConfig()).toBeNull();
      await bus.writeSwitchConfig(CONFIG);
      expect(JSON.parse((await redis.get(bus.keys.switchConfig))!)).toEqual(CONFIG);
      expect(await bus.readSwitchConfig()).toEqual(CONFIG);
      expect(await bus.waitForSwitchConfig(10)).toEqual(CONFIG);
    });

    it('rejects a bad switch config naming every bad field', async () => {
      const bad = { ...CONFIG, mac: '01:00:5e:00:00:01', pvid: 0, vdpp: 'x', dhcpRebind: 'leasequery' };
      let err: unknown;
      try {
        parseSwitchConfig(JSON.stringify(bad));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/mac: a unicast MAC/);
      expect(msg).toMatch(/pvid/);
      expect(msg).toMatch(/vdpp/);
      expect(() => parseSwitchConfig(JSON.stringify({ ...CONFIG, dhcpRebind: 'leasequery' }))).toThrow(/ip: dhcpRebind leasequery needs/);
      expect(() => parseSwitchConfig('{nope')).toThrow(/not JSON/);
      const bus = new RedisBus(redis, newRun());
      await expect(bus.writeSwitchConfig(bad as unknown as SwitchRunConfig)).rejects.toThrow(ConfigError);
      await redis.set(bus.keys.switchConfig, JSON.stringify({ ...CONFIG, igmpQueryIntervalNs: '125s' }));
      await expect(bus.readSwitchConfig()).rejects.toThrow(/igmpQueryIntervalNs/);
    });

    it('stores VSI types as a hash <typeId>/<version> → {vlan} and loads them as a VsiTypeDb', async () => {
      const bus = new RedisBus(redis, newRun());
      await bus.defineVsiTypes([{ id: 5, version: 4, vlan: 10 }, { id: 100, version: 1, vlan: 20 }]);
      expect(await redis.hgetall(bus.keys.vsiTypes)).toEqual({ '5/4': '{"vlan":10}', '100/1': '{"vlan":20}' });
      const db = await bus.loadVsiTypeDb();
      expect(db).toBeInstanceOf(VsiTypeDb);
      expect(db.get(5, 4)).toEqual({ vlan: 10 });
      expect(db.get(100, 1)).toEqual({ vlan: 20 });
      expect(db.get(5, 3)).toBeNull();
      // a second definition replaces the first
      await bus.defineVsiTypes([{ id: 7, version: 0, vlan: 30 }]);
      expect(await bus.loadVsiTypes()).toEqual([{ id: 7, version: 0, vlan: 30 }]);
      await bus.defineVsiTypes([]);
      expect(await bus.loadVsiTypes()).toEqual([]);
      await expect(bus.defineVsiTypes([{ id: 1, version: 1, vlan: 4095 }])).rejects.toThrow(/vlan/);
      await expect(bus.defineVsiTypes([{ id: 1, version: 256, vlan: 1 }])).rejects.toThrow(/version 256/);
    });

    it('stores and loads the MACs a VSI type authorises (an optional field: entries without it still load)', async () => {
      const bus = new RedisBus(redis, newRun());
      await bus.defineVsiTypes([{ id: 5, version: 4, vlan: 10, macs: ['02:00:00:00:01:01'] }, { id: 6, version: 1, vlan: 20 }]);
      expect(await redis.hget(bus.keys.vsiTypes, '5/4')).toBe('{"vlan":10,"macs":["02:00:00:00:01:01"]}');
      const db = await bus.loadVsiTypeDb();
      expect(db.authorises(5, 4, '02:00:00:00:01:01')).toBe(true);
      expect(db.authorises(5, 4, '02:00:00:00:02:01')).toBe(false);
      expect(db.authorises(6, 1, '02:00:00:00:01:01')).toBe(false);
      await expect(bus.defineVsiTypes([{ id: 1, version: 1, vlan: 1, macs: ['not-a-mac'] }])).rejects.toThrow(/macs/);
    });

    it('refuses a malformed VSI type entry, naming it', async () => {
      const bus = new RedisBus(redis, newRun());
      await redis.hset(bus.keys.vsiTypes, '5/4', '{"vlan":10}', 'five', '{"vlan":1}', '6/1', '{"vlan":"x"}', '7/1', 'nope');
      const err = await bus.loadVsiTypeDb().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/five: expected <typeId>\/<version>/);
      expect((err as Error).message).toMatch(/6\/1: vlan/);
      expect((err as Error).message).toMatch(/7\/1: not JSON/);
    });

    it('control: publish reaches a subscriber; garbage and a throwing handler go to onInvalid; unsubscribe ends it', async () => {
      const bus = new RedisBus(redis, newRun());
      const got: ControlMessage[] = [];
      const invalid: string[] = [];
      const unsubscribe = await bus.subscribeControl((m) => {
        if (m.type === 'explode') throw new Error('handler bug');
        got.push(m);
      }, (raw, reason) => invalid.push(`${raw} → ${reason}`));
      expect(await bus.publishControl({ type: 'stop', to: 'switch' })).toBe(1);
      await redis.publish(bus.keys.control, 'not json');
      await redis.publish(bus.keys.control, '{"to":"switch"}');
      await bus.publishControl({ type: 'explode' });
      await bus.publishControl({ type: 'stats', extra: 1 });
      for (let i = 0; i < 100 && got.length + invalid.length < 5; i++) await sleep(10);
      expect(got).toEqual([{ type: 'stop', to: 'switch' }, { type: 'stats', extra: 1 }]);
      expect(invalid).toHaveLength(3);
      expect(invalid[0]).toMatch(/not json → not JSON/);
      expect(invalid[1]).toMatch(/type/);
      expect(invalid[2]).toMatch(/handler threw: handler bug/);
      await expect(bus.publishControl({ type: '' })).rejects.toThrow(/control message/);
      await unsubscribe();
      expect(await bus.publishControl({ type: 'stop' })).toBe(0);
      expect(parseControl('{"type":"stop"}')).toEqual({ ok: true, msg: { type: 'stop' } });
    });

    it('ready key: written, waited for, cleared', async () => {
      const bus = new RedisBus(redis, newRun());
      expect(await bus.waitForSwitchReady(30)).toBeNull();
      setTimeout(() => void bus.markSwitchReady({ pid: 1, t: '123', ports: [] }), 50);
      expect(await bus.waitForSwitchReady(2000)).toEqual({ pid: 1, t: '123', ports: [] });
      await bus.clearSwitchReady();
      expect(await bus.readSwitchReady()).toBeNull();
    });
  });

  describe('event-stream: sink, reader, NDJSON, switch log adapter', () => {
    it('XADDs t (ns, decimal), source, kind, seq and the whole event as json', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'host:h1');
      const before = process.hrtime.bigint();
      sink.emit({ kind: 'page-round', t: 1_234_567_890_123_456_789n, round: 1 });
      sink.emit({ kind: 'vm-paused', t: 42.6, vm: 'vm1' });
      sink.emit({ kind: 'now' });
      await sink.close();
      const after = process.hrtime.bigint();
      const raw = await redis.xrange(runKeys(run).events, '-', '+');
      expect(raw).toHaveLength(3);
      expect(raw[0]![1]).toEqual(['t', '1234567890123456789', 'source', 'host:h1', 'kind', 'page-round', 'seq', '0', 'json', '{"kind":"page-round","t":"1234567890123456789","round":1}']);
      expect(raw[1]![1].slice(0, 2)).toEqual(['t', '43']);
      const ev = await readEvents(redis, run);
      expect(ev.map((e) => [e.source, e.kind, e.seq])).toEqual([['host:h1', 'page-round', 0], ['host:h1', 'vm-paused', 1], ['host:h1', 'now', 2]]);
      expect(ev[0]!.t).toBe(1_234_567_890_123_456_789n);
      expect(ev[1]!.data).toEqual({ kind: 'vm-paused', t: 42.6, vm: 'vm1' });
      expect(ev[2]!.t >= before && ev[2]!.t <= after).toBe(true);
      expect(sink.stats).toMatchObject({ emitted: 3, written: 3, failed: 0, dropped: 0, lost: 0 });
    });

    it('batches: nothing is sent before the flush interval; close() sends and awaits everything', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch', { flushIntervalMs: 60_000 });
      for (let i = 0; i < 100; i++) sink.emit({ kind: 'x', i });
      await sleep(100);
      expect(await redis.xlen(runKeys(run).events)).toBe(0);
      expect(sink.pending).toBe(100);
      const st = await sink.close();
      expect(await redis.xlen(runKeys(run).events)).toBe(100);
      expect(st).toMatchObject({ written: 100, batches: 1, lost: 0 });
      // after close: refused and counted, never thrown
      sink.emit({ kind: 'late' });
      expect(sink.stats.dropped).toBe(1);
      expect(await sink.close()).toBe(st);
    });

    it('a batch goes out when it reaches maxBatch, and after flushIntervalMs otherwise', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch', { flushIntervalMs: 60_000, maxBatch: 10 });
      for (let i = 0; i < 25; i++) sink.emit({ kind: 'x', i });
      await sleep(100);
      expect(await redis.xlen(runKeys(run).events)).toBe(20);
      await sink.close();
      expect(await redis.xlen(runKeys(run).events)).toBe(25);
      const run2 = newRun();
      const quick = new RedisEventSink(redis, run2, 'switch', { flushIntervalMs: 5 });
      quick.emit({ kind: 'x' });
      await sleep(100);
      expect(await redis.xlen(runKeys(run2).events)).toBe(1);
      await quick.close();
    });

    it('an error reply from Redis (WRONGTYPE) is counted and reported, not retried, and does not stop the sink', async () => {
      const run = newRun();
      await redis.set(runKeys(run).events, 'not a stream');
      const errors: string[] = [];
      const sink = new RedisEventSink(redis, run, 'switch', { onError: (e) => errors.push(e.message) });
      sink.emit({ kind: 'x' });
      sink.emit({ kind: 'y' });
      await sink.flush();
      expect(sink.stats).toMatchObject({ failed: 2, written: 0, retried: 0 });
      expect(errors[0]).toMatch(/XADD x: WRONGTYPE/);
      await redis.del(runKeys(run).events);
      sink.emit({ kind: 'z' });
      expect(await sink.close()).toMatchObject({ failed: 2, written: 1, lost: 0 });
      expect((await readEvents(redis, run)).map((e) => e.kind)).toEqual(['z']);
    });

    it('readEvents pages through a long stream in order, and drops repeated entries', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch', { maxBatch: 500 });
      for (let i = 0; i < 2345; i++) sink.emit({ kind: 'x', t: 1000 + i, i });
      await sink.close();
      const ev = await readEvents(redis, run, { pageSize: 100 });
      expect(ev).toHaveLength(2345);
      expect(ev.every((e, i) => e.seq === i && e.t === BigInt(1000 + i) && e.data.i === i)).toBe(true);
      // a resent entry (same source, seq, t), and an entry that is no event at all
      await redis.xadd(runKeys(run).events, '*', 't', '1000', 'source', 'switch', 'kind', 'x', 'seq', '0', 'json', '{"i":0}');
      await redis.xadd(runKeys(run).events, '*', 'hello', 'world');
      const skipped = { count: 0 };
      expect(await readEvents(redis, run, { pageSize: 7, skipped })).toHaveLength(2345);
      expect(skipped.count).toBe(1);
      expect(await readEvents(redis, run, { keepDuplicates: true })).toHaveLength(2346);
      expect(await readEvents(redis, newRun())).toEqual([]);
    });

    it('saveStream writes NDJSON, one entry a line, t as a decimal string', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch');
      for (let i = 0; i < 30; i++) sink.emit({ kind: i % 2 ? 'a' : 'b', t: 10n ** 18n + BigInt(i), i });
      await sink.close();
      const file = join(tmp, 'events.ndjson');
      expect(await saveStream(redis, run, file, { pageSize: 8 })).toBe(30);
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(30);
      expect(lines[3]).toMatchObject({ t: '1000000000000000003', source: 'switch', kind: 'a', seq: 3, data: { i: 3, kind: 'a' } });
      expect(typeof lines[3]!.id).toBe('string');
    });

    it('the adapter streams every event the switch log keeps, and each source-guard drop; unwrap restores the log', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch');
      const log = new EventLog();
      const unwrap = streamSwitchLog(log, sink);
      const e1: SwitchEvent = { t: 1e9, kind: 'fdb-move', mac: '02:00:00:00:01:01', vlan: 10, from: null, to: 'h1', cause: 'vdp' };
      log.add(e1);
      log.sourceGuardDrop('02:00:00:00:01:01', 2e9);
      for (let i = 0; i < EventLog.MAX_MALFORMED_LOGGED + 20; i++) log.add({ t: 3e9 + i, kind: 'malformed', port: 'h1', layer: 'ipv4', reason: 'short' });
      expect(log.events).toHaveLength(1 + EventLog.MAX_MALFORMED_LOGGED);
      expect(log.malformedCount).toBe(EventLog.MAX_MALFORMED_LOGGED + 20);
      expect(log.sourceGuardDrops.get('02:00:00:00:01:01')).toEqual([{ t: 2e9, n: 1 }]);
      unwrap();
      expect(Object.hasOwn(log, 'add')).toBe(false);
      expect(Object.hasOwn(log, 'sourceGuardDrop')).toBe(false);
      log.add(e1); // not streamed any more
      await sink.close();
      const ev = await readEvents(redis, run);
      expect(ev).toHaveLength(2 + EventLog.MAX_MALFORMED_LOGGED);
      expect(ev[0]).toMatchObject({ t: 1_000_000_000n, kind: 'fdb-move', data: e1 });
      expect(ev[1]).toMatchObject({ t: 2_000_000_000n, kind: 'source-guard-drop', data: { kind: 'source-guard-drop', mac: '02:00:00:00:01:01', t: 2e9 } });
      // and back: an EventLog the sim's metrics can read
      const back = eventLogFromStream(ev);
      expect(back.events).toEqual(log.events.slice(0, -1));
      expect(back.sourceGuardDrops).toEqual(log.sourceGuardDrops);
    });

    it('the adapter on a live EdgeSwitch: a malformed frame becomes a streamed `malformed` event', async () => {
      const run = newRun();
      const sink = new RedisEventSink(redis, run, 'switch');
      const types = new VsiTypeDb();
      const clock = { now: () => Number(process.hrtime.bigint()), schedule: () => ({ cancel: () => undefined }) };
      const sw = new EdgeSwitch({ ...CONFIG, rebindQueryMaxRespDs: 1 }, clock, new Random(1), types);
      streamSwitchLog(sw.log, sink);
      const p = sw.addPort('h1', 'access', () => undefined, 10);
      // IPv4 ethertype, 6 bytes of "IPv4"
      sw.receive(p, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 20, 0, 0));
      await sink.close();
      const ev = await readEvents(redis, run);
      expect(ev.map((e) => e.kind)).toEqual(['malformed']);
      expect(ev[0]!.data).toMatchObject({ port: 'h1', layer: 'ipv4' });
    });
  });

  describe('a Redis restart under the sink', () => {
    it('events emitted while Redis is down are written once it is back; none lost', async () => {
      const second = await startRedis(tmp);
      servers.push(second);
      const errors: string[] = [];
      const conn = connectRedis(`127.0.0.1:${second.port}`, { onError: (e) => errors.push(e.message) });
      clients.push(conn);
      const run = newRun();
      const sink = new RedisEventSink(conn, run, 'switch', { onError: (e) => errors.push(e.message) });
      sink.emit({ kind: 'before' });
      await sink.flush();
      await stopRedis(second, 'SIGKILL');
      for (let i = 0; i < 50; i++) sink.emit({ kind: 'during', i });
      await sleep(300);
      expect(sink.pending).toBe(50);
      const again = await startRedis(tmp, second.port);
      servers.push(again);
      const st = await sink.close();
      expect(st.lost).toBe(0);
      const check = client(again.port);
      const ev = await readEvents(check, run);
      // the server lost what it held (no persistence); everything sent since is there, once
      expect(ev.map((e) => e.data.i)).toEqual([...Array(50).keys()]);
      expect(errors.length).toBeGreaterThan(0); // the outage was reported
    });

    it('a batch that fails as a whole (a client without an offline queue) is queued again and written once Redis is back', async () => {
      const srv = await startRedis(tmp);
      servers.push(srv);
      const conn = new Redis({ host: '127.0.0.1', port: srv.port, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      conn.on('error', () => undefined);
      clients.push(conn);
      await new Promise<void>((r) => conn.once('ready', () => r()));
      const run = newRun();
      const errors: string[] = [];
      const sink = new RedisEventSink(conn, run, 'switch', { onError: (e) => errors.push(e.message) });
      await stopRedis(srv, 'SIGKILL');
      for (let i = 0; i < 20; i++) sink.emit({ kind: 'during', i });
      await sleep(300);
      expect(sink.stats.retried).toBeGreaterThan(0);
      expect(errors.some((e) => /batch of \d+ events failed, retrying/.test(e))).toBe(true);
      const again = await startRedis(tmp, srv.port);
      servers.push(again);
      const st = await sink.close();
      expect(st).toMatchObject({ lost: 0, written: 20 });
      expect((await readEvents(client(again.port), run)).map((e) => e.data.i)).toEqual([...Array(20).keys()]);
    });

    it('close() gives up after closeTimeoutMs when Redis stays away, and counts what it lost', async () => {
      const third = await startRedis(tmp);
      servers.push(third);
      const conn = connectRedis(`127.0.0.1:${third.port}`, { onError: () => undefined });
      clients.push(conn);
      await conn.ping();
      await stopRedis(third, 'SIGKILL');
      const sink = new RedisEventSink(conn, newRun(), 'switch', { closeTimeoutMs: 300, onError: () => undefined });
      for (let i = 0; i < 7; i++) sink.emit({ kind: 'x' });
      const t0 = Date.now();
      const st = await sink.close();
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(st.lost).toBe(7);
      conn.disconnect();
    });
  });
});
