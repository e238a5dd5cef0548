// The control messages on a run's channel (migsim:<run>:control), one zod schema each, as the
// host agent and the switch check them, with their types; docs/control-protocol.md describes
// each. Senders build them with controlMessage(): a message its receiver would refuse does not
// typecheck. The envelope every message shares ({type, to?}) is redis-bus.ts' ControlMessage.

import { z } from 'zod';
import { isMac } from '../../model/address.js';
import { AutoConverge } from '../../model/memory/precopy.js';
import { THROTTLE_TUNING_PCT } from '../../model/scenario/types.js';
import type { ControlMessage } from './redis-bus.js';

const posInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const nonNegInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const rate = z.number().positive().finite();
/** auto-converge tuning: a whole percent in QEMU's range for cpu-throttle-initial/-increment, 1..99 */
const throttlePct = z.number().int().min(THROTTLE_TUNING_PCT.min).max(THROTTLE_TUNING_PCT.max);

// ---- a VM, as the host agent's messages carry it -----------------------------------------

/** The sim's WorkloadSpec; `trace` names its file (read by the agent), not its pages. */
export const WorkloadJsonSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('idle') }),
  z.strictObject({ kind: z.literal('uniform'), writeRate: rate }),
  z.strictObject({ kind: z.literal('hotset'), writeRate: rate, hotsetBytes: posInt }),
  z.strictObject({ kind: z.literal('zipf'), writeRate: rate, skew: z.number().positive().finite() }),
  z.strictObject({ kind: z.literal('sequential'), writeRate: rate }),
  z.strictObject({ kind: z.literal('trace'), file: z.string().min(1), loop: z.boolean().default(false) }),
]);
export type WorkloadJson = z.infer<typeof WorkloadJsonSchema>;

/** A VmSpec-like object; extra keys (host, vlan, multicast …) are ignored. */
export const VmJsonSchema = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  memoryBytes: posInt.optional(),
  pageSize: posInt.refine((n) => (n & (n - 1)) === 0 && n >= 512, 'a power of two ≥ 512').optional(),
  zeroPages: z.number().min(0).max(1).optional(),
  workload: WorkloadJsonSchema.optional(),
  mac: z.string().refine((m) => isMac(m.toLowerCase()), 'a MAC as aa:bb:cc:dd:ee:ff').optional(),
  vsiType: z.strictObject({ id: z.number().int().min(0).max(0xffffff), version: z.number().int().min(0).max(255) }).optional(),
  vid: z.number().int().min(0).max(4094).optional(),
  tickMs: z.number().positive().max(1000).optional(),
});
export type VmJson = z.infer<typeof VmJsonSchema>;

// ---- to a host agent (`to: "host:<name>"`) ---------------------------------------------------

export const VmCreateMsgSchema = z.looseObject({
  type: z.literal('vm-create'),
  vm: VmJsonSchema,
  seed: z.number().int().min(0).max(0xffffffff).default(1),
});
export type VmCreateMsg = z.infer<typeof VmCreateMsgSchema>;

/** What a host's station is told to do for a VM (libvirt's order: preassoc, assoc, deassoc). */
export const VDP_OPS = ['preassoc', 'assoc', 'deassoc'] as const;
export type VdpOp = (typeof VDP_OPS)[number];

export const VdpMsgSchema = z.looseObject({
  type: z.literal('vdp'),
  op: z.enum(VDP_OPS),
  vm: z.union([z.string().min(1), VmJsonSchema]),
  migrated: z.boolean().default(false),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** send the request under this VSI type instead of the VM's own (a spoofed associate: the scenario's spoofed-associate fault) */
  asType: z.strictObject({ id: z.number().int().min(0).max(0xffffff), version: z.number().int().min(0).max(255) }).optional(),
});
export type VdpMsg = z.infer<typeof VdpMsgSchema>;

export const HoldMsgSchema = z.looseObject({
  type: z.literal('hold'),
  vm: z.string().min(1),
  timeoutMs: z.number().positive().max(3_600_000).default(30_000),
  associate: z.strictObject({ migrated: z.boolean() }).optional(),
});
export type HoldMsg = z.infer<typeof HoldMsgSchema>;

export const ReleaseMsgSchema = z.looseObject({ type: z.literal('release'), vm: z.string().min(1) });
export type ReleaseMsg = z.infer<typeof ReleaseMsgSchema>;

export const ReserveMsgSchema = z.looseObject({ type: z.literal('reserve'), vm: VmJsonSchema });
export type ReserveMsg = z.infer<typeof ReserveMsgSchema>;

export const MigrateMsgSchema = z.looseObject({
  type: z.literal('migrate'),
  vm: z.string().min(1),
  dest: z.string().min(3),
  destHost: z.string().min(1).optional(),
  originNs: z.union([z.number().min(0), z.string().regex(/^\d+$/)]).optional(),
  params: z.looseObject({
    mode: z.enum(['precopy', 'stopcopy', 'postcopy']).default('precopy'),
    downtimeLimitNs: z.number().positive(),
    maxRounds: z.number().int().min(1),
    bandwidthBps: z.number().positive().nullable().default(null),
    linkBandwidthBps: z.number().positive().nullable().default(null),
    deviceStateBytes: nonNegInt.default(0),
    autoConverge: z.boolean().default(false),
    throttleInitialPct: throttlePct.default(AutoConverge.INITIAL_PCT),
    throttleIncrementPct: throttlePct.default(AutoConverge.INCREMENT_PCT),
    replyTimeoutMs: z.number().positive().optional(),
  }),
  deassocOnResume: z.boolean().default(false),
});
export type MigrateMsg = z.infer<typeof MigrateMsgSchema>;

/**
 * Give up a migration out of this host (libvirt's domjobabort): a cancel, the migration's
 * timeout, or a destination declared dead. Refused once the destination runs the VM.
 */
export const AbortMsgSchema = z.looseObject({
  type: z.literal('abort'),
  vm: z.string().min(1),
  reason: z.string().min(1).max(500),
});
export type AbortMsg = z.infer<typeof AbortMsgSchema>;

// ---- to the switch (`to: "switch"`) ----------------------------------------------------------

/** originNs: CLOCK_MONOTONIC ns, a decimal string (the run's time 0). */
export const QuerierStartMsgSchema = z.looseObject({ type: z.literal('querier-start'), originNs: z.string().regex(/^\d{1,20}$/) });
export type QuerierStartMsg = z.infer<typeof QuerierStartMsgSchema>;

// ---- to either (a `stop` with no `to`: to everyone) -----------------------------------------

export const StatsMsgSchema = z.looseObject({ type: z.literal('stats') });
export type StatsMsg = z.infer<typeof StatsMsgSchema>;

export const StopMsgSchema = z.looseObject({ type: z.literal('stop') });
export type StopMsg = z.infer<typeof StopMsgSchema>;

// ---- for senders ------------------------------------------------------------------------------

/**
 * What a sender writes: the schema's input (a field with a default may be left out), without
 * the index signature `looseObject` adds, so a misspelt key is an error to the sender though
 * the receiver would ignore it.
 */
type Sent<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T as string extends K ? never : number extends K ? never : K]: Sent<T[K]> }
    : T;

type Body<S extends z.ZodType> = Omit<Sent<z.input<S>>, 'type'>;

/** A VM as a sender writes it into vm-create, vdp and reserve. */
export type VmJsonInput = Sent<z.input<typeof VmJsonSchema>>;

/** Each message's fields but `type` and `to`, by its type, as a sender writes them. */
export interface ControlBodies {
  'vm-create': Body<typeof VmCreateMsgSchema>;
  vdp: Body<typeof VdpMsgSchema>;
  hold: Body<typeof HoldMsgSchema>;
  release: Body<typeof ReleaseMsgSchema>;
  reserve: Body<typeof ReserveMsgSchema>;
  migrate: Body<typeof MigrateMsgSchema>;
  abort: Body<typeof AbortMsgSchema>;
  'querier-start': Body<typeof QuerierStartMsgSchema>;
  stats: Body<typeof StatsMsgSchema>;
  stop: Body<typeof StopMsgSchema>;
}
export type ControlType = keyof ControlBodies;
export type ControlBody<T extends ControlType> = ControlBodies[T];

/** The message `{...body, type, to}` to publish (no `to`: to everyone). */
export function controlMessage<T extends ControlType>(type: T, body: ControlBody<T>, to?: string): ControlMessage {
  return { ...body, type, ...(to === undefined ? {} : { to }) };
}
