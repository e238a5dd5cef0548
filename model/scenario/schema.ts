// The raw YAML shape of a scenario (DOC_EXAMPLE.md "Scenario file", version 1), as zod.
// It checks each field on its own (types, units, ranges, formats) and fills defaults;
// checks that relate fields to each other live in load.ts.
//
// Convention: every issue message this schema produces is the phrase that follows
// "expected" in the error shown to the user (load.ts adds the path and what was found).

import { z } from 'zod';
import { ipWord, isSnoopableGroup } from '../address.js';
import { BANDWIDTH_EXPECTED, DURATION_EXPECTED, parseBandwidth, parseDuration, parsePercent, parseRate, parseSize, PERCENT_EXPECTED, RATE_EXPECTED, SIZE_EXPECTED, UnitError } from '../units.js';
import { defaultOf } from './defaults.js';
import { LIMITS, type LimitName, limitPhrase } from './limits.js';
import { FAULT_KINDS, isThrottleTuningPct } from './types.js';

/** A strict mapping: an unknown key is an error whose message lists the keys it knows. */
function strict<S extends z.ZodRawShape>(shape: S, what: string, keysOf?: string) {
  const keys = Object.keys(shape).join(', ');
  const known = keysOf ? `one of ${keys} (the keys of ${keysOf})` : `one of ${keys}`;
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? known : iss.code === 'invalid_type' ? what : undefined),
  });
}

/** A quantity with a unit: a string run through one of the unit parsers. */
function unit(parse: (v: unknown) => number, expected: string) {
  return z
    .string({
      error: (iss) => (typeof iss.input === 'number' ? `${expected} (a bare number has no unit)` : expected),
    })
    .transform((v, ctx) => {
      try {
        return parse(v);
      } catch (e) {
        if (!(e instanceof UnitError)) throw e;
        ctx.issues.push({ code: 'custom', message: e.expected, input: v });
        return z.NEVER;
      }
    });
}

function int(min: number, max: number, expected: string) {
  return z.number({ error: expected }).int().min(min).max(max);
}

const size = unit(parseSize, SIZE_EXPECTED);
const positiveSize = size.refine((b) => b > 0, { error: `${SIZE_EXPECTED}, above 0` });
/** Refines a parsed quantity to a named limit (limits.ts): `expected …, at most 1e9/s (limit writeRate)`. */
function within<T extends z.ZodType<number>>(schema: T, expected: string, name: LimitName) {
  const l = LIMITS[name];
  // a minimum leaves values ≤ 0 to the schema's own "above 0"
  return schema.refine((v) => (l.bound === 'max' ? v <= l.value : v <= 0 || v >= l.value), { error: `${expected}, ${limitPhrase(name)}` });
}

const anyBandwidth = unit(parseBandwidth, BANDWIDTH_EXPECTED).refine((b) => b > 0, {
  error: `${BANDWIDTH_EXPECTED}, above 0`,
});
const bandwidth = within(within(anyBandwidth, BANDWIDTH_EXPECTED, 'bandwidthMin'), BANDWIDTH_EXPECTED, 'bandwidthMax');
const rate = unit(parseRate, RATE_EXPECTED);
const positiveRate = rate.refine((r) => r > 0, { error: `${RATE_EXPECTED}, above 0` });
const duration = unit(parseDuration, DURATION_EXPECTED);
const positiveDuration = duration.refine((ns) => ns > 0, { error: `${DURATION_EXPECTED}, above 0` });
const runTime = within(duration, DURATION_EXPECTED, 'duration');
const positiveRunTime = within(positiveDuration, DURATION_EXPECTED, 'duration');

const PAGE_SIZE_EXPECTED = 'a page size that is a power of two from 512B to 1GiB, such as 4KiB';
const pageSize = size.refine((b) => b >= 512 && (b & (b - 1)) === 0 && b <= 2 ** 30, { error: PAGE_SIZE_EXPECTED });

const percent = unit(parsePercent, PERCENT_EXPECTED).refine((f) => f <= 1, {
  error: 'a percentage from 0% to 100%',
});

/** Auto-converge tuning, in QEMU's range (cpu-throttle-initial/-increment: an integer 1..99), as whole percent. */
function throttlePct(qemuName: string) {
  const expected = `a whole percentage from 1% to 99%, such as 20% (QEMU's ${qemuName})`;
  return unit(parsePercent, PERCENT_EXPECTED)
    .refine((f) => Math.abs(f * 100 - Math.round(f * 100)) < 1e-9 && isThrottleTuningPct(Math.round(f * 100)), { error: expected })
    .transform((f) => Math.round(f * 100));
}

// ---- addresses and names ----------------------------------------------------

/** Scenario files write IPv4 without leading zeros (octal in some tools). */
const CANONICAL_IPV4 = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/;

/** Dotted-quad IPv4 as a 32-bit number; null if malformed or written with leading zeros. */
export function parseIPv4(s: string): number | null {
  const w = CANONICAL_IPV4.test(s) ? ipWord(s) : -1;
  return w < 0 ? null : w;
}

/** In 224.0.0.0/4 and not link-local control (224.0.0.x, never snooped). */
export function isMulticastGroup(s: string): boolean {
  return CANONICAL_IPV4.test(s) && isSnoopableGroup(s);
}

/** a.b.c.d/len with the host bits zero. */
export function isSubnet(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return false;
  const addr = parseIPv4(m[1] ?? '');
  const len = Number(m[2]);
  if (addr === null || len > 32) return false;
  const hostBits = len === 32 ? 0 : 2 ** (32 - len) - 1;
  return addr % (hostBits + 1) === 0;
}

/** aa:bb:cc:dd:ee:ff, unicast (first octet's low bit 0), not all zero. */
export function isUnicastMac(s: string): boolean {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s)) return false;
  return (parseInt(s.slice(0, 2), 16) & 1) === 0 && !/^00(:00){5}$/.test(s);
}

const GROUP_EXPECTED = 'an IPv4 multicast group in 224.0.0.0/4 outside 224.0.0.x, such as 239.1.1.1';
const group = z.string({ error: GROUP_EXPECTED }).refine(isMulticastGroup, { error: GROUP_EXPECTED });

const MAC_EXPECTED = 'a unicast MAC such as 02:00:00:00:01:01 (first octet even)';
const mac = z
  .string({ error: MAC_EXPECTED })
  .refine(isUnicastMac, { error: MAC_EXPECTED })
  .transform((s) => s.toLowerCase());

const SUBNET_EXPECTED = 'an IPv4 subnet with the host bits zero, such as 10.77.0.0/24';
const subnet = z.string({ error: SUBNET_EXPECTED }).refine(isSubnet, { error: SUBNET_EXPECTED });

export const SCENARIO_NAME = /^[a-z0-9-]+$/;
export const ENTITY_NAME = /^[A-Za-z0-9_-]+$/;

const scenarioName = z
  .string({ error: 'a name of a-z, 0-9 and -' })
  .regex(SCENARIO_NAME)
  .max(LIMITS.nameLength.value, { error: `a name of a-z, 0-9 and -, ${limitPhrase('nameLength')} characters` });
const vmName = z.string({ error: 'a VM name of A-Z, a-z, 0-9, _ and -' }).regex(ENTITY_NAME);
const hostName = z.string({ error: 'a host name of A-Z, a-z, 0-9, _ and -' }).regex(ENTITY_NAME);

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.join(', ')}` });
}

const bool = z.boolean({ error: 'true or false' });

// ---- sections ---------------------------------------------------------------

/** `h1` is short for `{ name: h1 }`. */
const host = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  strict({ name: hostName, memory: positiveSize.optional() }, 'a host name such as h1, or { name: h1, memory: 64GiB }'),
);

function link(which: 'migrationLink' | 'accessLink') {
  return strict(
    {
      bandwidth: bandwidth.prefault(defaultOf(`network.${which}.bandwidth`)),
      latency: within(duration, DURATION_EXPECTED, 'latency').prefault(defaultOf(`network.${which}.latency`)),
    },
    'a link such as { bandwidth: 1Gbit/s, latency: 100us }',
  ).prefault({});
}

export const WORKLOAD_KINDS = ['idle', 'uniform', 'hotset', 'zipf', 'sequential', 'trace'] as const;

const writeRate = within(rate, RATE_EXPECTED, 'writeRate');
const workload = z.discriminatedUnion(
  'kind',
  [
    strict({ kind: z.literal('idle') }, 'an idle workload { kind: idle }', 'an idle workload'),
    strict({ kind: z.literal('uniform'), writeRate }, 'a uniform workload', 'a uniform workload'),
    strict(
      { kind: z.literal('hotset'), writeRate, hotset: positiveSize },
      'a hotset workload',
      'a hotset workload',
    ),
    strict(
      { kind: z.literal('zipf'), writeRate, skew: z.number({ error: 'a number above 0' }).positive() },
      'a zipf workload',
      'a zipf workload',
    ),
    strict({ kind: z.literal('sequential'), writeRate }, 'a sequential workload', 'a sequential workload'),
    strict(
      {
        kind: z.literal('trace'),
        file: z.string({ error: 'a trace file path' }).min(1),
        loop: bool.prefault(defaultOf('vms[].workload.loop')),
      },
      'a trace workload',
      'a trace workload',
    ),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `a workload kind: ${WORKLOAD_KINDS.join(', ')}`
        : 'a workload such as { kind: uniform, writeRate: 1000/s }',
  },
);

const vm = strict(
  {
    name: vmName,
    host: z.string({ error: 'the name of a host in hosts' }),
    memory: within(positiveSize, SIZE_EXPECTED, 'vmMemory'),
    pageSize: pageSize.prefault(defaultOf('vms[].pageSize')),
    mac: mac.optional(),
    vlan: int(1, 4094, 'a VLAN id from 1 to 4094').prefault(defaultOf('vms[].vlan')),
    vsiType: strict(
      {
        id: int(0, 2 ** 24 - 1, 'a VSI type id from 0 to 16777215').prefault(defaultOf('vms[].vsiType.id')),
        version: int(0, 255, 'a VSI type version from 0 to 255').prefault(defaultOf('vms[].vsiType.version')),
      },
      'a VSI type such as { id: 100, version: 1 }',
    ).prefault({}),
    multicast: z
      .array(group, { error: 'a list of multicast groups such as [239.1.1.1]' })
      .max(LIMITS.multicastGroupsPerVm.value, { error: `a list of groups, ${limitPhrase('multicastGroupsPerVm')}` })
      .prefault(defaultOf('vms[].multicast')),
    announceOnResume: oneOf(['none', 'garp', 'garp+igmp']).prefault(defaultOf('vms[].announceOnResume')),
    zeroPages: percent.prefault(defaultOf('vms[].zeroPages')),
    workload: workload.prefault(defaultOf('vms[].workload')),
  },
  'a VM such as { name: vm1, host: h1, memory: 1GiB }',
);

const migration = strict(
  {
    vm: z.string({ error: 'the name of a VM in vms' }),
    to: z.string({ error: 'the name of a host in hosts' }),
    at: runTime,
    mode: oneOf(['precopy', 'stopcopy', 'postcopy']).prefault(defaultOf('migrations[].mode')),
    downtimeLimit: positiveDuration.prefault(defaultOf('migrations[].downtimeLimit')),
    maxRounds: int(1, LIMITS.maxRounds.value, `a whole number of rounds, at least 1 and ${limitPhrase('maxRounds')}`).prefault(
      defaultOf('migrations[].maxRounds'),
    ),
    bandwidth: bandwidth.optional(),
    deviceState: within(size, SIZE_EXPECTED, 'deviceState').prefault(defaultOf('migrations[].deviceState')),
    autoConverge: bool.prefault(defaultOf('migrations[].autoConverge')),
    throttleInitial: throttlePct('cpu-throttle-initial').prefault(defaultOf('migrations[].throttleInitial')),
    throttleIncrement: throttlePct('cpu-throttle-increment').prefault(defaultOf('migrations[].throttleIncrement')),
    postcopyAfterRounds: int(0, LIMITS.maxRounds.value, `a whole number of rounds from 0, ${limitPhrase('maxRounds')}`).prefault(
      defaultOf('migrations[].postcopyAfterRounds'),
    ),
    timeout: positiveRunTime.optional(),
  },
  'a migration such as { vm: vm1, to: h2, at: 2s }',
);

const outage = positiveRunTime;
const lossShare = unit(parsePercent, PERCENT_EXPECTED).refine((f) => f < 1, { error: 'a loss from 0% to below 100%' });
const vsiTypeRef = strict(
  {
    id: int(0, 2 ** 24 - 1, 'a VSI type id from 0 to 16777215'),
    version: int(0, 255, 'a VSI type version from 0 to 255').prefault(defaultOf('vms[].vsiType.version')),
  },
  'a VSI type such as { id: 200, version: 1 }',
);
const fault = z.discriminatedUnion(
  'kind',
  [
    strict({ kind: z.literal('host-crash'), at: runTime, host: hostName }, 'a host crash { at: 3s, kind: host-crash, host: h2 }', 'a host-crash fault'),
    strict({ kind: z.literal('link-down'), at: runTime, host: hostName, for: outage }, 'a link-down fault { at: 3s, kind: link-down, host: h2, for: 2s }', 'a link-down fault'),
    strict(
      { kind: z.literal('link-degrade'), at: runTime, host: hostName, for: outage, bandwidth: bandwidth.optional(), loss: lossShare.prefault(defaultOf('faults[].loss')) },
      'a link-degrade fault { at: 3s, kind: link-degrade, host: h2, bandwidth: 100Mbit/s, loss: 1%, for: 5s }',
      'a link-degrade fault',
    ),
    strict({ kind: z.literal('dhcp-down'), at: runTime, for: outage }, 'a DHCP outage { at: 3s, kind: dhcp-down, for: 10s }', 'a dhcp-down fault'),
    strict({ kind: z.literal('switch-restart'), at: runTime, downFor: runTime }, 'a switch restart { at: 3s, kind: switch-restart, downFor: 2s }', 'a switch-restart fault'),
    strict({ kind: z.literal('cancel'), at: runTime, vm: vmName }, 'a cancel { at: 3s, kind: cancel, vm: vm1 }', 'a cancel fault'),
    strict(
      { kind: z.literal('spoofed-associate'), at: runTime, host: hostName, vm: vmName, vsiType: vsiTypeRef.optional() },
      'a spoofed associate { at: 3s, kind: spoofed-associate, host: h3, vm: vm1 }',
      'a spoofed-associate fault',
    ),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? `a fault kind: ${FAULT_KINDS.join(', ')}` : 'a fault such as { at: 3s, kind: host-crash, host: h2 }',
  },
);

const EQUALS_EXPECTED = 'a number, a string or true/false';
const bound = strict(
  {
    min: z.number({ error: 'a number' }).optional(),
    max: z.number({ error: 'a number' }).optional(),
    equals: z.union([z.number(), z.string(), z.boolean()], { error: EQUALS_EXPECTED }).optional(),
  },
  'a bound such as { max: 400 } or { equals: completed }',
);

const switchSection = strict(
  {
    vdp: oneOf(['standard', 'extended']).prefault(defaultOf('switch.vdp')),
    dhcpRebind: oneOf(['none', 'leasequery', 'assist']).prefault(defaultOf('switch.dhcpRebind')),
    igmpRebind: oneOf(['none', 'query']).prefault(defaultOf('switch.igmpRebind')),
    ipSourceGuard: bool.prefault(defaultOf('switch.ipSourceGuard')),
    igmpQueryInterval: within(positiveDuration, DURATION_EXPECTED, 'igmpQueryInterval').prefault(defaultOf('switch.igmpQueryInterval')),
    bindingDatabase: oneOf(['none', 'persistent']).prefault(defaultOf('switch.bindingDatabase')),
    dhcpRebindFallback: oneOf(['none', 'assist']).prefault(defaultOf('switch.dhcpRebindFallback')),
  },
  'a switch section such as { vdp: extended, dhcpRebind: leasequery }',
);

export const scenarioSchema = strict(
  {
    name: scenarioName,
    description: z.string({ error: 'one line of text' }).prefault(defaultOf('description')),
    seed: int(0, 0xffffffff, 'a whole number from 0 to 4294967295 (32 bits: every seed its own stream)').prefault(defaultOf('seed')),
    engine: oneOf(['sim', 'testbed']).prefault(defaultOf('engine')),
    fidelity: oneOf(['pages', 'fluid']).prefault(defaultOf('fidelity')),
    duration: positiveRunTime.optional(),
    hosts: z.array(host, { error: 'a list of at least two hosts such as [h1, h2]' }).min(2),
    network: strict(
      {
        migrationLink: link('migrationLink'),
        accessLink: link('accessLink'),
        keepalive: strict(
          {
            interval: within(positiveDuration, DURATION_EXPECTED, 'keepaliveInterval').prefault(defaultOf('network.keepalive.interval')),
            count: int(0, 100, 'a whole number of keepalives from 0 to 100').prefault(defaultOf('network.keepalive.count')),
          },
          'a keepalive such as { interval: 5s, count: 5 }',
        ).prefault({}),
      },
      'a network section such as { migrationLink: { bandwidth: 1Gbit/s } }',
    ).prefault({}),
    dhcp: strict(
      { subnet, leaseTime: within(positiveDuration, DURATION_EXPECTED, 'leaseTime').prefault(defaultOf('dhcp.leaseTime')) },
      'a DHCP section such as { subnet: 10.77.0.0/24, leaseTime: 1h }',
    ).optional(),
    multicastSources: z
      .array(
        strict(
          {
            group,
            rate: within(positiveRate, RATE_EXPECTED, 'multicastRate'),
            size: within(positiveSize, SIZE_EXPECTED, 'multicastSize'),
          },
          'a multicast source such as { group: 239.1.1.1, rate: 1000/s, size: 1200B }',
        ),
        { error: 'a list of multicast sources' },
      )
      .prefault(defaultOf('multicastSources[]')),
    probe: strict({ rate: within(positiveRate, RATE_EXPECTED, 'probeRate') }, 'a probe section such as { rate: 1000/s }').optional(),
    switch: switchSection.optional(),
    vms: z.array(vm, { error: 'a list of at least one VM' }).min(1),
    migrations: z.array(migration, { error: 'a list of migrations' }).prefault(defaultOf('migrations[]')),
    faults: z.array(fault, { error: 'a list of faults such as [{ at: 3s, kind: host-crash, host: h2 }]' }).prefault(defaultOf('faults[]')),
    expect: z
      .record(z.string(), bound, { error: 'a mapping of bounds such as { vm1.downtimeMs: { max: 400 } }' })
      .prefault(defaultOf('expect')),
  },
  'a scenario: a mapping with name, hosts and vms',
);

export type RawScenario = z.output<typeof scenarioSchema>;
export type RawVm = RawScenario['vms'][number];
export type RawWorkload = RawVm['workload'];
export type RawMigration = RawScenario['migrations'][number];
export type RawBound = RawScenario['expect'][string];
export type RawFault = RawScenario['faults'][number];
