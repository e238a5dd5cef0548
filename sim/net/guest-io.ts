// What the parts of a sim guest (guest.ts: its DHCP client, its IGMP host) share: the VM's
// clock, random stream, MAC and counters, timers that stand still while the VM is paused,
// and a send that drops frames while it is paused.

import type { Mac } from '../../model/address.js';
import type { RandomSource } from '../../model/random.js';
import type { Clock, Ns, Timer } from '../../model/time.js';

export interface GuestStats {
  discovers: number;
  /** DHCPREQUESTs sent, every state, retransmissions included */
  dhcpRequests: number;
  /** the DHCPREQUESTs of those sent RENEWING or REBINDING (T1, T2, renewNow) */
  renewals: number;
  acks: number;
  naks: number;
  igmpReports: number;
  garps: number;
  echoReplies: number;
  ignored: number;
}

/** A timer of the guest: it does not run while the VM is paused (it runs at resume if it came due). */
export interface GuestTimer {
  due: Ns;
  fn: () => void;
  handle: Timer | null;
  done: boolean;
}

export interface GuestIo {
  readonly clock: Clock;
  /** the VM's one stream: the client's xids and backoff, the host's report delays, in call order */
  readonly rng: RandomSource;
  readonly mac: Mac;
  readonly stats: GuestStats;
  after(delayNs: Ns, fn: () => void): GuestTimer;
  cancel(t: GuestTimer | null): void;
  /** false (and nothing sent) while paused or detached */
  send(frame: Uint8Array): boolean;
  /** count a frame the guest had no use for */
  ignore(): void;
}

export function isPending(t: GuestTimer | null | undefined): t is GuestTimer {
  return t !== null && t !== undefined && !t.done;
}
