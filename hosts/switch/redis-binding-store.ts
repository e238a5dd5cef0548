// The switch process's DHCP-snooping database in the run's Redis (`switch.bindingDatabase:
// persistent`): a BindingStore (switch/binding-store.ts) whose rows live in the hash
// migsim:<run>:switch:bindings (MAC → JSON row) and the key migsim:<run>:switch:server. The
// switch reads it synchronously, so the rows are loaded before the switch is built; every change
// is written through asynchronously, one command after the other, in the order the switch made them.

import type { BindingStore, StoredBinding, StoredServer } from '../../switch/binding-store.js';
import { runKeys } from '../control/redis-bus.js';

/** The part of an ioredis client the store uses. */
export interface StoreRedis {
  hgetall(key: string): Promise<Record<string, string>>;
  get(key: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<unknown>;
  hdel(key: string, field: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
}

export function bindingKeys(run: string): { bindings: string; server: string } {
  const k = runKeys(run);
  const p = k.switchConfig.replace(/config$/, '');
  return { bindings: `${p}bindings`, server: `${p}server` };
}

function parseRow(mac: string, text: string): StoredBinding | null {
  try {
    const o = JSON.parse(text) as Partial<StoredBinding>;
    if (typeof o.ip !== 'string' || typeof o.vlan !== 'number' || typeof o.port !== 'string' || typeof o.expiresAt !== 'number') return null;
    return { mac, ip: o.ip, vlan: o.vlan, port: o.port, expiresAt: o.expiresAt };
  } catch {
    return null;
  }
}

export class RedisBindingStore implements BindingStore {
  /** writes Redis refused or that failed (the switch serves on; the store is behind) */
  errors = 0;
  /** rows in Redis that were not a binding (skipped at load) */
  readonly skipped: number;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly redis: StoreRedis,
    private readonly keys: { bindings: string; server: string },
    private readonly rows: Map<string, StoredBinding>,
    private server: StoredServer | null,
    skipped: number,
    private readonly onError: (e: Error) => void,
  ) {
    this.skipped = skipped;
  }

  /** Reads what a switch of this run stored before (nothing at the run's first start). */
  static async open(redis: StoreRedis, run: string, onError: (e: Error) => void = () => undefined): Promise<RedisBindingStore> {
    const keys = bindingKeys(run);
    const [raw, serverText] = await Promise.all([redis.hgetall(keys.bindings), redis.get(keys.server)]);
    const rows = new Map<string, StoredBinding>();
    let skipped = 0;
    for (const [mac, text] of Object.entries(raw)) {
      const b = parseRow(mac, text);
      if (b) rows.set(mac, b);
      else skipped++;
    }
    let server: StoredServer | null = null;
    try {
      const s = serverText === null ? null : (JSON.parse(serverText) as Partial<StoredServer>);
      if (s && typeof s.ip === 'string' && typeof s.mac === 'string' && typeof s.port === 'string') server = { ip: s.ip, mac: s.mac, port: s.port };
    } catch {
      skipped++;
    }
    return new RedisBindingStore(redis, keys, rows, server, skipped, onError);
  }

  put(b: StoredBinding): void {
    const row = { ...b };
    this.rows.set(b.mac, row);
    const { mac, ...rest } = row;
    this.write(() => this.redis.hset(this.keys.bindings, mac, JSON.stringify(rest)));
  }

  delete(mac: string): void {
    this.rows.delete(mac);
    this.write(() => this.redis.hdel(this.keys.bindings, mac));
  }

  load(): StoredBinding[] {
    return [...this.rows.values()].map((b) => ({ ...b }));
  }

  putServer(s: StoredServer): void {
    this.server = { ...s };
    const text = JSON.stringify(s);
    this.write(() => this.redis.set(this.keys.server, text));
  }

  loadServer(): StoredServer | null {
    return this.server ? { ...this.server } : null;
  }

  /** Resolves once every change made so far has reached Redis (or failed). */
  flushed(): Promise<void> {
    return this.chain;
  }

  /** One command after the one before: Redis sees the changes in the switch's order. */
  private write(op: () => Promise<unknown>): void {
    this.chain = this.chain.then(op).then(
      () => undefined,
      (e: unknown) => {
        this.errors++;
        this.onError(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }
}
