// Every scenario field, its default as a user would write it in YAML, and a one-line doc.
// The schema feeds these values through the same unit parsers as user input, so a default
// can never disagree with what writing it out by hand would give. `explain.ts` prints this table.

/** Marks a field the user must give. */
export const REQUIRED = Symbol('required');

export type DefaultValue = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };

export interface FieldDoc {
  /** the default as written in YAML; null = none (what none means is in the doc); REQUIRED = no default */
  readonly value: DefaultValue | typeof REQUIRED;
  readonly doc: string;
}

/** Keys are YAML paths; `[]` stands for any list entry. */
export const FIELDS = {
  name: { value: REQUIRED, doc: 'scenario name, [a-z0-9-]+; names the results directory' },
  description: { value: '', doc: 'one line, shown in reports' },
  seed: { value: 1, doc: 'PRNG seed, 0 to 4294967295: same seed, same results (sim)' },
  engine: { value: 'sim', doc: 'sim | testbed' },
  fidelity: { value: 'pages', doc: 'sim only: pages (every page tracked) | fluid (expected dirty-set sizes)' },
  duration: { value: null, doc: 'when the run ends; none = when the last migration settles' },

  'hosts[]': { value: REQUIRED, doc: 'hypervisor hosts, at least two: a name `h1` or { name: h1, memory: 64GiB }' },
  'hosts[].name': { value: REQUIRED, doc: 'host name, [A-Za-z0-9_-]+, unique' },
  'hosts[].memory': { value: null, doc: 'RAM for VMs; none = no capacity check' },

  'network.migrationLink.bandwidth': { value: '10Gbit/s', doc: 'page transfer path between hosts' },
  'network.migrationLink.latency': { value: '100us', doc: 'one-way latency of the migration link' },
  'network.accessLink.bandwidth': { value: '10Gbit/s', doc: "each port's link to the switch" },
  'network.accessLink.latency': { value: '20us', doc: 'one-way latency of an access link' },
  'network.keepalive.interval': { value: '5s', doc: "libvirt's keepalive between hosts (keepalive_interval): how a crashed peer is noticed" },
  'network.keepalive.count': { value: 5, doc: 'unanswered keepalives before the peer is dead: after interval × (count + 1)' },

  dhcp: { value: null, doc: 'DHCP server; none = no DHCP in the run' },
  'dhcp.subnet': { value: REQUIRED, doc: 'IPv4 CIDR the server leases from, e.g. 10.77.0.0/24' },
  'dhcp.leaseTime': { value: '1h', doc: 'lease length; clients renew at half of it' },

  'multicastSources[]': { value: [] as never[], doc: 'multicast streams sent into the network' },
  'multicastSources[].group': { value: REQUIRED, doc: 'IPv4 multicast group, 224.0.0.0/4 outside 224.0.0.x' },
  'multicastSources[].rate': { value: REQUIRED, doc: 'datagrams per second' },
  'multicastSources[].size': { value: REQUIRED, doc: 'datagram payload size' },

  probe: { value: null, doc: 'UDP echo to every VM; none = no probe (no serviceInterruptionMs)' },
  'probe.rate': { value: REQUIRED, doc: 'echo requests per second per VM' },

  switch: { value: null, doc: 'the edge switch section; none = not given (the engine decides)' },
  'switch.vdp': { value: 'standard', doc: 'standard (prior art: no migration hint) | extended (M-bit)' },
  'switch.dhcpRebind': { value: 'none', doc: 'none | leasequery | assist: how a migrated binding is rebuilt' },
  'switch.igmpRebind': { value: 'none', doc: 'none | query: whether to query the VM at once' },
  'switch.ipSourceGuard': { value: true, doc: 'drop IP traffic that matches no DHCP-snooping binding' },
  'switch.igmpQueryInterval': { value: '125s', doc: 'the periodic IGMP general query' },
  'switch.bindingDatabase': { value: 'none', doc: 'none | persistent: DHCP-snooping bindings survive a switch restart (a snooping database)' },
  'switch.dhcpRebindFallback': { value: 'none', doc: 'none | assist: when leasequery gets no answer, send the assistance request' },

  'vms[]': { value: REQUIRED, doc: 'the virtual machines, at least one' },
  'vms[].name': { value: REQUIRED, doc: 'VM name, [A-Za-z0-9_-]+, unique' },
  'vms[].host': { value: REQUIRED, doc: 'host the VM starts on' },
  'vms[].memory': { value: REQUIRED, doc: 'guest RAM, a multiple of pageSize' },
  'vms[].pageSize': { value: '4KiB', doc: 'page size, a power of two from 512B to 1GiB' },
  'vms[].mac': { value: '02:00:00:00:HH:LL', doc: "unicast MAC; default from the VM's 1-based index (HH:LL in hex)" },
  'vms[].vlan': { value: 1, doc: 'VLAN id 1..4094' },
  'vms[].vsiType.id': { value: 1, doc: 'VDP VSI type id, 0..2^24-1' },
  'vms[].vsiType.version': { value: 1, doc: 'VDP VSI type version, 0..255' },
  'vms[].multicast': { value: [] as never[], doc: 'IPv4 multicast groups the guest has joined' },
  'vms[].announceOnResume': { value: 'none', doc: 'none | garp | garp+igmp: what the guest sends after resume' },
  'vms[].zeroPages': { value: '0%', doc: 'share of pages that are all-zero: sent as a marker, not a page' },
  'vms[].workload': { value: { kind: 'idle' }, doc: 'how the guest writes memory' },
  'vms[].workload.kind': { value: REQUIRED, doc: 'idle | uniform | hotset | zipf | sequential | trace' },
  'vms[].workload.writeRate': { value: REQUIRED, doc: 'page writes per second (uniform, hotset, zipf, sequential)' },
  'vms[].workload.hotset': { value: REQUIRED, doc: 'hotset: writes fall uniformly on the first this-many bytes' },
  'vms[].workload.skew': { value: REQUIRED, doc: 'zipf: exponent, > 0' },
  'vms[].workload.file': { value: REQUIRED, doc: 'trace: file of `timeUs page` lines, relative to the scenario' },
  'vms[].workload.loop': { value: false, doc: 'trace: replay from the start when the trace ends' },

  'migrations[]': { value: [] as never[], doc: 'migrations to run; none = a baseline run' },
  'migrations[].vm': { value: REQUIRED, doc: 'the VM to move' },
  'migrations[].to': { value: REQUIRED, doc: 'destination host' },
  'migrations[].at': { value: REQUIRED, doc: 'start time on the run clock' },
  'migrations[].mode': { value: 'precopy', doc: 'precopy | stopcopy | postcopy' },
  'migrations[].downtimeLimit': { value: '300ms', doc: "target pause for switchover (QEMU's default)" },
  'migrations[].maxRounds': { value: 30, doc: 'live rounds before switchover is forced' },
  'migrations[].bandwidth': { value: null, doc: "cap on live rounds; none = the migration link's bandwidth" },
  'migrations[].deviceState': { value: '256KiB', doc: 'non-RAM state sent while paused' },
  'migrations[].autoConverge': { value: false, doc: 'throttle the guest when rounds do not converge' },
  'migrations[].throttleInitial': { value: '20%', doc: "autoConverge: the first throttle, a whole 1%..99% (QEMU's cpu-throttle-initial); only with autoConverge: true" },
  'migrations[].throttleIncrement': { value: '10%', doc: 'autoConverge: added at each further round that does not converge, 1%..99% (cpu-throttle-increment); at most 99% in all' },
  'migrations[].postcopyAfterRounds': { value: 0, doc: 'postcopy: live pre-copy rounds before the switch to post-copy (migrate-start-postcopy after N); only with mode: postcopy' },
  'migrations[].timeout': { value: null, doc: 'give up and revert if the VM has not resumed on the destination by then; none = no limit' },

  'faults[]': { value: [] as never[], doc: 'failures injected on purpose: { at, kind, … } (docs/faults.md)' },
  'faults[].at': { value: REQUIRED, doc: 'when, on the run clock' },
  'faults[].kind': { value: REQUIRED, doc: 'host-crash | link-down | link-degrade | dhcp-down | switch-restart | cancel | spoofed-associate' },
  'faults[].host': { value: REQUIRED, doc: 'host-crash, link-down, link-degrade: the host; spoofed-associate: the host it comes from' },
  'faults[].vm': { value: REQUIRED, doc: "cancel: the VM whose migration is cancelled; spoofed-associate: the VM whose MAC is claimed" },
  'faults[].for': { value: REQUIRED, doc: 'link-down, link-degrade, dhcp-down: how long' },
  'faults[].bandwidth': { value: null, doc: 'link-degrade: the NIC rate meanwhile; none = unchanged' },
  'faults[].loss': { value: '0%', doc: 'link-degrade: packet loss meanwhile, below 100%' },
  'faults[].downFor': { value: REQUIRED, doc: 'switch-restart: how long the switch is gone (0s: a reboot too quick to see)' },
  'faults[].vsiType': { value: null, doc: 'spoofed-associate: the VSI type it claims; none = that of a VM on its host' },

  expect: { value: {}, doc: 'regression bounds `VM.FIELD` or `VM[N].FIELD`: { min, max } or { equals }' },
} as const satisfies Readonly<Record<string, FieldDoc>>;

export type FieldPath = keyof typeof FIELDS;

/** Fields that have a value default (not REQUIRED, not none). */
export type DefaultedField = {
  [K in FieldPath]: (typeof FIELDS)[K]['value'] extends typeof REQUIRED | null ? never : K;
}[FieldPath];

/** The default of a field, typed as written in the table. */
export function defaultOf<K extends DefaultedField>(field: K): (typeof FIELDS)[K]['value'] {
  return FIELDS[field].value;
}

/** The MAC a VM gets when none is given: 02:00:00:00:HH:LL from its 1-based index (locally administered, unicast). */
export function defaultMac(index1: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return FIELDS['vms[].mac'].value.replace('HH', hex((index1 >> 8) & 0xff)).replace('LL', hex(index1 & 0xff));
}
