import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../test/support/processes.js';
import { WorkloadThread } from './workload-thread.js';
import { mergePages, VmMemory } from './vm-memory.js';
import type { WorkloadSpec } from '../../model/scenario/types.js';

const MiB = 1024 ** 2;

const guests: WorkloadThread[] = [];
afterEach(async () => {
  await Promise.all(guests.splice(0).map((g) => g.stop()));
});

async function boot(workload: WorkloadSpec, memoryBytes = 16 * MiB, zeroPages = 0): Promise<{ mem: VmMemory; guest: WorkloadThread }> {
  const mem = VmMemory.create({ memoryBytes, pageSize: 4096 }, { zeroPages, seed: 7, name: 'vm1' });
  const guest = await WorkloadThread.start(mem, { workload, seed: 7, name: 'vm1' });
  guests.push(guest);
  return { mem, guest };
}

describe('vm memory', () => {
  it('the dirty bitmap: set by the writer, taken and cleared in page order', () => {
    const mem = VmMemory.allocate({ memoryBytes: 100 * 4096, pageSize: 4096 });
    mem.markDirty(5);
    expect(mem.dirtyCount()).toBe(0); // logging is off
    mem.startLogging();
    for (const p of [99, 5, 31, 32, 5, 0]) mem.markDirty(p);
    expect(mem.dirtyCount()).toBe(5);
    expect(Array.from(mem.takeDirty())).toEqual([0, 5, 31, 32, 99]);
    expect(mem.dirtyCount()).toBe(0);
    expect(mem.takeDirty().length).toBe(0);
    expect(Array.from(mergePages(Uint32Array.of(1, 4, 9), Uint32Array.of(0, 4, 10)))).toEqual([0, 1, 4, 9, 10]);
  });

  it('a booted guest is filled, but for its zero share; a fresh destination is all zero', () => {
    const mem = VmMemory.create({ memoryBytes: 8 * MiB, pageSize: 4096 }, { zeroPages: 0.3, seed: 1, name: 'vm1' });
    let zeros = 0;
    for (let p = 0; p < mem.pageCount; p++) if (mem.isZeroPage(p)) zeros++;
    expect(zeros / mem.pageCount).toBeCloseTo(0.3, 1);
    const dest = VmMemory.allocate({ memoryBytes: 8 * MiB, pageSize: 4096 });
    expect(dest.isZeroPage(0) && dest.isZeroPage(dest.pageCount - 1)).toBe(true);
    expect(() => VmMemory.allocate({ memoryBytes: 4097, pageSize: 4096 })).toThrow(/multiple/);
  });
});

describe('workload worker', () => {
  it('writes at the workload rate, and a throttle takes its share', async () => {
    const { mem, guest } = await boot({ kind: 'uniform', writeRate: 50_000 });
    await sleep(50);
    let w0 = mem.writes;
    await sleep(400);
    const full = (mem.writes - w0) / 0.4;
    expect(full / 50_000).toBeGreaterThan(0.85);
    expect(full / 50_000).toBeLessThan(1.15);
    guest.throttle(50);
    await sleep(50);
    w0 = mem.writes;
    await sleep(400);
    const half = (mem.writes - w0) / 0.4;
    expect(half / 25_000).toBeGreaterThan(0.85);
    expect(half / 25_000).toBeLessThan(1.15);
  });

  it('pause really stops writes: no page changes between the pause ack and resume', async () => {
    const { mem, guest } = await boot({ kind: 'hotset', writeRate: 100_000, hotsetBytes: 4 * MiB });
    await sleep(50);
    const { atNs } = await guest.pause();
    expect(atNs).toBeLessThanOrEqual(Number(process.hrtime.bigint()));
    const writes = mem.writes;
    const snapshot = Buffer.from(mem.bytes); // a copy
    await sleep(150);
    expect(mem.writes).toBe(writes);
    expect(Buffer.from(mem.bytes.buffer).equals(snapshot)).toBe(true);
    guest.resume();
    await sleep(50);
    expect(mem.writes).toBeGreaterThan(writes + 1000);
    expect(Buffer.from(mem.bytes.buffer).equals(snapshot)).toBe(false);
  });

  it('every changed page is dirty and every dirty page changed (writes set the bit after the bytes)', async () => {
    const { mem, guest } = await boot({ kind: 'hotset', writeRate: 20_000, hotsetBytes: 2 * MiB }, 16 * MiB, 0.5);
    mem.startLogging();
    await sleep(30);
    await guest.pause();
    mem.takeDirty();
    const before = Buffer.from(mem.bytes);
    guest.resume();
    await sleep(60);
    await guest.pause();
    const dirty = new Set(mem.takeDirty());
    expect(dirty.size).toBeGreaterThan(100);
    const now = Buffer.from(mem.bytes.buffer);
    for (let p = 0; p < mem.pageCount; p++) {
      const changed = now.compare(before, p * 4096, (p + 1) * 4096, p * 4096, (p + 1) * 4096) !== 0;
      if (changed !== dirty.has(p)) throw new Error(`page ${p}: changed ${changed}, dirty ${dirty.has(p)}`);
    }
    expect([...dirty].every((p) => p < 512)).toBe(true); // the hotset is the first 2 MiB
  });

  it('checksums are taken only while paused, and are crc32 of each page', async () => {
    const { mem, guest } = await boot({ kind: 'uniform', writeRate: 10_000 }, 8 * MiB);
    await expect(guest.checksums()).rejects.toThrow(/running/);
    const { atNs } = await guest.pause();
    const sums = await guest.checksums();
    expect(sums.startNs).toBeGreaterThanOrEqual(atNs);
    for (const p of [0, 1, 100, mem.pageCount - 1]) expect(sums.crcs[p]).toBe(crc32(mem.page(p)));
    guest.resume();
  });

  it('stop ends the thread; a stopped guest refuses work', async () => {
    const { guest } = await boot({ kind: 'idle' }, 1 * MiB);
    await guest.stop();
    expect(guest.alive).toBe(false);
    await expect(guest.pause()).rejects.toThrow(/exited/);
  });
});
