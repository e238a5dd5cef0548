// The testbed's control bus and store: every component of a `testbed` run (orchestrator,
// host agents, the switch) meets in one Redis, under keys namespaced by the run (`runKeys`).
// Never imported by shared logic or the sim. Keys, write order and times:
// docs/control-protocol.md "Redis keys".

import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { REBIND_QUERY_MAX_RESP_DS } from '../../model/scenario/types.js';
import { VsiTypeDb } from '../../switch/vsi-db.js';
import { isIpv4, isMac } from '../../model/address.js';
import { rateLimitedStderr, withTimeout } from '../runtime/process-kit.js';

/** A run id is part of every key: no colons, no spaces. */
export const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RunKeys {
  events: string;
  vsiTypes: string;
  switchConfig: string;
  switchReady: string;
  control: string;
}

export function runKeys(run: string): RunKeys {
  if (!RUN_ID_RE.test(run)) throw new Error(`run id ${JSON.stringify(run)}: expected ${RUN_ID_RE.source}`);
  const p = `migsim:${run}:`;
  return {
    events: `${p}events`,
    vsiTypes: `${p}vsitypes`,
    switchConfig: `${p}switch:config`,
    switchReady: `${p}switch:ready`,
    control: `${p}control`,
  };
}

/** `HOST:PORT` (an IPv6 host in brackets: `[::1]:6379`). */
export function parseRedisAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`redis address ${JSON.stringify(text)}: expected HOST:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * A connection for a long-lived component: commands issued while Redis is unreachable
 * wait in ioredis' offline queue and go out on reconnect (maxRetriesPerRequest null), so a
 * Redis restart is a delay, not an error; errors are reported through `onError` (stderr by
 * default, at most one line a second), never thrown at the process.
 */
export function connectRedis(address: string, options: RedisOptions & { name?: string; onError?: (e: Error) => void } = {}): Redis {
  const { host, port } = parseRedisAddress(address);
  const { name, onError, ...rest } = options;
  const redis = new Redis({
    host, port,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...(name ? { connectionName: name } : {}),
    ...rest,
  });
  redis.on('error', onError ?? rateLimitedStderr(`redis ${address}`));
  return redis;
}

// here too, for the modules that already import it from the bus

// ------------------------------------------------------------------------------------------
// what is stored

/** One VSI type: what the orchestrator knows from the scenario's VMs. */
export interface VsiTypeEntry {
  id: number;
  version: number;
  vlan: number;
  /** the VM MACs this type authorises (switch/vsi-db.ts); absent in entries written before it existed */
  macs?: string[];
}

const VSI_TYPE_FIELD_RE = /^(\d{1,10})\/(\d{1,3})$/;
const VsiTypeValue = z.strictObject({ vlan: z.number().int().min(1).max(4094), macs: z.array(z.string().refine(isMac, 'a MAC as aa:bb:cc:dd:ee:ff (lower case)')).optional() });

const macText = z.string().refine(isMac, 'a MAC as aa:bb:cc:dd:ee:ff (lower case)');
const ipText = z.string().refine(isIpv4, 'a dotted-quad IPv4 address');

/** The switch's configuration in Redis: the scenario's `switch:` block, resolved, plus its own addresses. */
export const SwitchRunConfigSchema = z
  .strictObject({
    vdp: z.enum(['standard', 'extended']),
    dhcpRebind: z.enum(['none', 'leasequery', 'assist']),
    igmpRebind: z.enum(['none', 'query']),
    ipSourceGuard: z.boolean(),
    igmpQueryIntervalNs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    mac: macText.refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'a unicast MAC'),
    /** the switch's address on the DHCP server's subnet (leasequery's giaddr), or null */
    ip: ipText.nullable(),
    /** the VLAN of untagged frames on non-host ports */
    pvid: z.number().int().min(1).max(4094),
    /** Max Resp Time of the rebind query, tenths of a second (default REBIND_QUERY_MAX_RESP_DS) */
    rebindQueryMaxRespDs: z.number().int().min(1).max(255).optional(),
    leasequery: z.strictObject({ timeoutNs: z.number().positive(), tries: z.number().int().min(1).max(10) }).optional(),
  })
  .refine((c) => c.dhcpRebind !== 'leasequery' || c.ip !== null, {
    message: 'dhcpRebind leasequery needs the switch to have an ip on the DHCP server’s subnet',
    path: ['ip'],
  });

export type SwitchRunConfig = z.infer<typeof SwitchRunConfigSchema>;

/** A message on the run's control channel; `to` names the component (absent: everyone). */
export const ControlMessageSchema = z.looseObject({
  type: z.string().min(1).max(64),
  to: z.string().min(1).max(64).optional(),
});

export type ControlMessage = z.infer<typeof ControlMessageSchema>;

export interface SwitchReady {
  pid: number;
  /** CLOCK_MONOTONIC ns, decimal */
  t: string;
  ports: { name: string; role: string; ifname: string }[];
}

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`).join('; ');
}

export class ConfigError extends Error {}

/** Parse and check a switch config (as stored); throws ConfigError naming every bad field. */
export function parseSwitchConfig(json: string): SwitchRunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ConfigError(`switch config is not JSON: ${(e as Error).message}`);
  }
  const r = SwitchRunConfigSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(`switch config: ${issues(r.error)}`);
  return r.data;
}

/** The EdgeSwitch config for a stored switch config (defaults filled in). */
export function edgeSwitchConfig(c: SwitchRunConfig) {
  return {
    vdp: c.vdp, dhcpRebind: c.dhcpRebind, igmpRebind: c.igmpRebind, ipSourceGuard: c.ipSourceGuard,
    igmpQueryIntervalNs: c.igmpQueryIntervalNs, mac: c.mac, ip: c.ip,
    rebindQueryMaxRespDs: c.rebindQueryMaxRespDs ?? REBIND_QUERY_MAX_RESP_DS,
    ...(c.leasequery ? { leasequery: c.leasequery } : {}),
  };
}

/** A control message from its wire text, or why not. */
export function parseControl(text: string): { ok: true; msg: ControlMessage } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  const r = ControlMessageSchema.safeParse(raw);
  return r.success ? { ok: true, msg: r.data } : { ok: false, reason: issues(r.error) };
}

// ------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One run's view of Redis. `redis` is a normal (non-subscriber) connection. */
export class RedisBus {
  readonly keys: RunKeys;

  constructor(readonly redis: Redis, readonly run: string) {
    this.keys = runKeys(run);
  }

  /** Store the VSI type DB (replacing what was there). */
  async defineVsiTypes(types: Iterable<VsiTypeEntry>): Promise<void> {
    const fields: string[] = [];
    for (const t of types) {
      if (!Number.isInteger(t.id) || t.id < 0 || t.id > 0xffffff) throw new ConfigError(`VSI type id ${t.id}: expected 0..16777215 (24 bits)`);
      if (!Number.isInteger(t.version) || t.version < 0 || t.version > 255) throw new ConfigError(`VSI type ${t.id} version ${t.version}: expected 0..255`);
      const v = VsiTypeValue.safeParse(t.macs === undefined ? { vlan: t.vlan } : { vlan: t.vlan, macs: t.macs });
      if (!v.success) throw new ConfigError(`VSI type ${t.id}/${t.version}: ${issues(v.error)}`);
      fields.push(`${t.id}/${t.version}`, JSON.stringify(v.data));
    }
    const m = this.redis.multi().del(this.keys.vsiTypes);
    if (fields.length > 0) m.hset(this.keys.vsiTypes, ...fields);
    await execOrThrow(m.exec());
  }

  /** Every stored VSI type; a malformed entry is a ConfigError naming its field. */
  async loadVsiTypes(): Promise<VsiTypeEntry[]> {
    const all = await this.redis.hgetall(this.keys.vsiTypes);
    const out: VsiTypeEntry[] = [];
    const bad: string[] = [];
    for (const [field, value] of Object.entries(all)) {
      const k = VSI_TYPE_FIELD_RE.exec(field);
      if (!k) {
        bad.push(`${field}: expected <typeId>/<version>`);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        bad.push(`${field}: not JSON`);
        continue;
      }
      const v = VsiTypeValue.safeParse(parsed);
      if (!v.success) {
        bad.push(`${field}: ${issues(v.error)}`);
        continue;
      }
      out.push({ id: Number(k[1]), version: Number(k[2]), vlan: v.data.vlan, ...(v.data.macs ? { macs: v.data.macs } : {}) });
    }
    if (bad.length > 0) throw new ConfigError(`${this.keys.vsiTypes}: ${bad.join('; ')}`);
    return out.sort((a, b) => a.id - b.id || a.version - b.version);
  }

  async loadVsiTypeDb(): Promise<VsiTypeDb> {
    const db = new VsiTypeDb();
    for (const t of await this.loadVsiTypes()) db.define(t.id, t.version, { vlan: t.vlan, ...(t.macs ? { macs: t.macs } : {}) });
    return db;
  }

  async writeSwitchConfig(c: SwitchRunConfig): Promise<void> {
    const r = SwitchRunConfigSchema.safeParse(c);
    if (!r.success) throw new ConfigError(`switch config: ${issues(r.error)}`);
    await this.redis.set(this.keys.switchConfig, JSON.stringify(r.data));
  }

  /** The stored switch config, or null if there is none yet; a bad one is a ConfigError. */
  async readSwitchConfig(): Promise<SwitchRunConfig | null> {
    const text = await this.redis.get(this.keys.switchConfig);
    return text === null ? null : parseSwitchConfig(text);
  }

  /** Poll for the switch config until it appears or `timeoutMs` passes (then null). */
  async waitForSwitchConfig(timeoutMs: number, pollMs = 100): Promise<SwitchRunConfig | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.readSwitchConfig();
      if (c !== null || Date.now() >= deadline) return c;
      await sleep(pollMs);
    }
  }

  async markSwitchReady(r: SwitchReady): Promise<void> {
    await this.redis.set(this.keys.switchReady, JSON.stringify(r));
  }

  async clearSwitchReady(): Promise<void> {
    await this.redis.del(this.keys.switchReady);
  }

  async readSwitchReady(): Promise<SwitchReady | null> {
    const text = await this.redis.get(this.keys.switchReady);
    return text === null ? null : (JSON.parse(text) as SwitchReady);
  }

  async waitForSwitchReady(timeoutMs: number, pollMs = 50): Promise<SwitchReady | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.readSwitchReady();
      if (r !== null || Date.now() >= deadline) return r;
      await sleep(pollMs);
    }
  }

  /** Publish on the run's control channel; resolves to the number of subscribers that got it. */
  async publishControl(msg: ControlMessage): Promise<number> {
    const r = ControlMessageSchema.safeParse(msg);
    if (!r.success) throw new Error(`control message: ${issues(r.error)}`);
    return this.redis.publish(this.keys.control, JSON.stringify(r.data));
  }

  /**
   * Listen on the run's control channel, on a connection of its own (a subscribed
   * connection can do nothing else; ioredis resubscribes after a reconnect). Resolves once
   * the subscription is in place, to a function that ends it. A message that is not a
   * ControlMessage goes to `onInvalid`, and an exception thrown by `cb` is caught and handed
   * there too: nothing on the channel can take the listener down.
   */
  async subscribeControl(
    cb: (msg: ControlMessage) => void,
    onInvalid: (raw: string, reason: string) => void = () => undefined,
  ): Promise<() => Promise<void>> {
    const sub = this.redis.duplicate();
    sub.on('error', () => undefined); // the main connection reports Redis trouble
    const channel = this.keys.control;
    sub.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      const p = parseControl(text);
      if (!p.ok) return onInvalid(text, p.reason);
      try {
        cb(p.msg);
      } catch (e) {
        onInvalid(text, `handler threw: ${(e as Error).message}`);
      }
    });
    await sub.subscribe(channel);
    return async () => {
      try {
        await sub.unsubscribe(channel);
        await sub.quit();
      } catch {
        sub.disconnect();
      }
    };
  }
}

async function execOrThrow(p: Promise<[Error | null, unknown][] | null>): Promise<void> {
  const r = await p;
  if (r === null) throw new Error('redis transaction aborted');
  for (const [err] of r) if (err) throw err;
}

/** Close a connection politely, or drop it if the server does not answer in 2 s. */
export async function quitRedis(redis: Redis): Promise<void> {
  try {
    await withTimeout(redis.quit(), 2000, 'QUIT');
  } catch {
    redis.disconnect();
  }
}
