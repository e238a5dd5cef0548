// The sim guest's IGMPv3 host with v1/v2 compatibility (Linux net/ipv4/igmp.c, docs/protocols.md
// §5.3): joins its groups with state-change reports, answers queries after a random delay,
// falls back to v2 reports while an older querier is present. Part of guest.ts's GuestStack.

import type { Ipv4, Mac } from '../../model/address.js';
import type { Ns } from '../../model/time.js';
import { igmpFrame, multicastMac } from '../../wire/compose.js';
import { IGMP_ALL_HOSTS, IGMP_RECORD, IGMPV3_ALL_ROUTERS, type IgmpGroupRecord, type IgmpRepr } from '../../wire/igmp.js';
import { ZERO_IP } from './frames.js';
import { type GuestIo, type GuestTimer, isPending } from './guest-io.js';

const ALL_HOSTS_MAC = multicastMac(IGMP_ALL_HOSTS);
/** IGMP_V2_ROUTER_PRESENT_TIMEOUT (v1's is the same 400 s) */
const OLDER_QUERIER_PRESENT_NS = 400e9;
/** IGMP_V3/V2_UNSOLICITED_REPORT_INTERVAL */
const UNSOLICITED_V3_NS = 1e9;
const UNSOLICITED_V2_NS = 10e9;

export class IgmpHost {
  private readonly joined = new Set<Ipv4>();
  private readonly joinedMacs = new Set<Mac>();
  private generalTimer: GuestTimer | null = null;
  private readonly groupTimers = new Map<Ipv4, GuestTimer>();
  private olderQuerierUntil = -Infinity;

  /** `groups`: the groups to join; `ownIp`: the leased address reports come from (0.0.0.0 without). */
  constructor(
    private readonly io: GuestIo,
    private readonly groups: readonly Ipv4[],
    private readonly ownIp: () => Ipv4 | undefined,
  ) {}

  /** The groups joined so far. */
  get joinedGroups(): Ipv4[] {
    return [...this.joined];
  }

  has(group: Ipv4): boolean {
    return this.joined.has(group);
  }

  /** Whether the NIC's multicast filter takes frames to `dst`: all-hosts and the joined groups' MACs. */
  listens(dst: Mac): boolean {
    return dst === ALL_HOSTS_MAC || this.joinedMacs.has(dst);
  }

  /** Linux NETDEV_RESEND_IGMP (ip_mc_rejoin_groups): one report per joined group, now. */
  rejoin(): void {
    for (const g of this.joined) if (this.reportable(g)) this.reportCurrent(g);
  }

  /** 224.0.0.x is never reported (Linux without igmp_link_local_mcast_reports). */
  private reportable(g: Ipv4): boolean {
    return !g.startsWith('224.0.0.');
  }

  private olderQuerier(): boolean {
    return this.io.clock.now() < this.olderQuerierUntil;
  }

  /** Join the configured groups not yet joined (memberships outlive a lost lease, as on Linux). */
  joinGroups(): void {
    for (const g of this.groups) {
      if (this.joined.has(g)) continue;
      this.joined.add(g);
      this.joinedMacs.add(multicastMac(g));
      if (!this.reportable(g)) continue;
      // state-change report now and once more (robustness 2) within the unsolicited report interval
      const v2 = this.olderQuerier();
      this.stateChange(g);
      this.io.after(Math.floor(this.io.rng.next() * (v2 ? UNSOLICITED_V2_NS : UNSOLICITED_V3_NS)), () => this.stateChange(g));
    }
  }

  private stateChange(g: Ipv4): void {
    if (!this.joined.has(g)) return;
    if (this.olderQuerier()) this.sendV2Report(g);
    else this.sendV3Report([{ type: IGMP_RECORD.TO_EX, group: g, sources: [], auxData: new Uint8Array(0) }]);
  }

  /** Current-state report for one group: v2 while an older querier is present, else v3 IS_EX. */
  private reportCurrent(g: Ipv4): void {
    if (this.olderQuerier()) this.sendV2Report(g);
    else this.sendV3Report([{ type: IGMP_RECORD.IS_EX, group: g, sources: [], auxData: new Uint8Array(0) }]);
  }

  private sendV3Report(records: IgmpGroupRecord[]): void {
    const frame = igmpFrame({
      srcMac: this.io.mac, dstMac: multicastMac(IGMPV3_ALL_ROUTERS), srcIp: this.ownIp() ?? ZERO_IP, dstIp: IGMPV3_ALL_ROUTERS,
      igmp: { kind: 'v3report', records },
    });
    if (this.io.send(frame)) this.io.stats.igmpReports++;
  }

  private sendV2Report(g: Ipv4): void {
    const frame = igmpFrame({ srcMac: this.io.mac, dstMac: multicastMac(g), srcIp: this.ownIp() ?? ZERO_IP, dstIp: g, igmp: { kind: 'report', version: 2, group: g } });
    if (this.io.send(frame)) this.io.stats.igmpReports++;
  }

  onIgmp(igmp: IgmpRepr): void {
    if (igmp.kind === 'report' && this.joined.has(igmp.group)) {
      // igmp_heard_report: another member's v1/v2 report for the group suppresses ours
      this.io.cancel(this.groupTimers.get(igmp.group) ?? null);
      this.groupTimers.delete(igmp.group);
      return;
    }
    if (igmp.kind !== 'query') return this.io.ignore();
    const maxNs = igmp.maxRespDs * 1e8;
    const general = igmp.group === ZERO_IP;
    if (igmp.version !== 3) this.olderQuerierUntil = this.io.clock.now() + OLDER_QUERIER_PRESENT_NS;
    if (igmp.version === 3 && general && !this.olderQuerier()) {
      // igmp_gq_start_timer: one interface timer, a pending one that fires sooner is kept
      const delay = this.randomBelow(maxNs);
      const due = this.io.clock.now() + delay;
      if (isPending(this.generalTimer) && this.generalTimer.due <= due) return;
      this.io.cancel(this.generalTimer);
      this.generalTimer = this.io.after(delay, () => this.sendGeneralReport());
      return;
    }
    // v1/v2 queries, v3 queries while an older querier is present, and group-specific queries: per-group timers
    for (const g of general ? this.joined : this.joined.has(igmp.group) ? [igmp.group] : []) {
      if (!this.reportable(g)) continue;
      const delay = this.randomBelow(maxNs);
      const due = this.io.clock.now() + delay;
      const t = this.groupTimers.get(g);
      if (isPending(t) && t.due <= due) continue;
      this.io.cancel(t ?? null);
      this.groupTimers.set(g, this.io.after(delay, () => {
        this.groupTimers.delete(g);
        if (this.joined.has(g)) this.reportCurrent(g);
      }));
    }
  }

  /** Uniform integer ns in [0, max) (0 when max is 0). */
  private randomBelow(maxNs: Ns): Ns {
    return Math.floor(this.io.rng.next() * maxNs);
  }

  /** The answer to a v3 general query: one report, every group IS_EX. */
  private sendGeneralReport(): void {
    this.generalTimer = null;
    const records: IgmpGroupRecord[] = [];
    for (const g of this.joined) if (this.reportable(g)) records.push({ type: IGMP_RECORD.IS_EX, group: g, sources: [], auxData: new Uint8Array(0) });
    if (records.length > 0) this.sendV3Report(records);
  }
}
