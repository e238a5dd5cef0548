// DHCP snooping (protocols.md 6): bindings of client MAC → leased IP, VLAN, port, lease end,
// learned from ACKs a trusted port sends, removed on RELEASE/DECLINE/NAK and at lease end.
// A binding moves to another port only on evidence — a snooped ACK or a DHCPLEASEACTIVE —
// never on a VDP message alone. IP source guard asks `permits`.

import { DHCP, type DhcpRepr } from '../wire/dhcp.js';
import type { EventLog } from '../model/result/event-log.js';
import type { Clock, Ns, Timer } from '../model/time.js';

export interface Binding {
  mac: string;
  ip: string;
  vlan: number;
  port: number;
  leaseSeconds: number;
  expiresAt: Ns;
  timer: Timer;
}

export interface DhcpServerSeen {
  ip: string;
  mac: string;
  port: number;
}

export type Verdict = { forward: true } | { forward: false; reason: string };

/** a client's last request is remembered this long (its ACK places the binding) */
export const DHCP_CLIENT_TTL_NS = 60e9;
/** clients remembered at most; beyond, the longest-silent is forgotten */
export const DHCP_MAX_CLIENTS = 4096;

const FORWARD: Verdict = { forward: true };
const drop = (reason: string): Verdict => ({ forward: false, reason });

export class DhcpSnooping {
  private readonly bindings = new Map<string, Binding>();
  /** where each client's last request came from, for placing the binding its ACK makes */
  /** (Map order: by last message, oldest first; pruned by age and size) */
  private readonly clientPort = new Map<string, { port: number; seen: Ns }>();
  /** clients forgotten because the table was full (exact) */
  clientEvictions = 0;
  /** the server, as seen answering from a trusted port (the switch's leasequeries go there) */
  server: DhcpServerSeen | null = null;
  /** told of every binding placed (or refreshed) and removed: the persistent database's feed */
  onChange: ((mac: string, b: Binding | null) => void) | null = null;
  /** told when the trusted server is first seen or changes: the database keeps it too */
  onServer: ((s: DhcpServerSeen) => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly log: EventLog,
    private readonly portName: (port: number) => string,
  ) {}

  binding(mac: string): Binding | null {
    return this.bindings.get(mac) ?? null;
  }

  all(): Binding[] {
    return [...this.bindings.values()];
  }

  /** A client message (BOOTREQUEST) from an untrusted port. */
  fromClient(port: number, vlan: number, srcMac: string, m: DhcpRepr): Verdict {
    if (m.op !== 1) return drop('a server message from an untrusted port');
    if (m.chaddr !== srcMac) return drop('chaddr does not match the source MAC');
    const type = m.options.messageType;
    if (type === DHCP.RELEASE || type === DHCP.DECLINE) {
      const b = this.bindings.get(srcMac);
      if (b && (b.port !== port || b.vlan !== vlan)) return drop('RELEASE/DECLINE from a port other than the binding’s');
      if (b) this.remove(b, type === DHCP.RELEASE ? 'release' : 'decline');
      return FORWARD;
    }
    if (type === DHCP.LEASEQUERY) return drop('a leasequery from a client port');
    const now = this.clock.now();
    this.clientPort.delete(srcMac);
    this.clientPort.set(srcMac, { port, seen: now });
    this.prune(now);
    return FORWARD;
  }

  /** A server message (BOOTREPLY) from a trusted port. */
  fromServer(port: number, vlan: number, srcMac: string, srcIp: string, m: DhcpRepr): Verdict {
    if (m.op !== 2) return FORWARD; // a request relayed towards the server side
    const type = m.options.messageType;
    if (type === DHCP.OFFER || type === DHCP.ACK) {
      const seen = { ip: m.options.serverId ?? srcIp, mac: srcMac, port };
      const changed = this.server?.ip !== seen.ip || this.server.mac !== seen.mac || this.server.port !== port;
      this.server = seen;
      if (changed) this.onServer?.(seen);
    }
    if (!m.chaddr) return FORWARD;
    if (type === DHCP.NAK) {
      const b = this.bindings.get(m.chaddr);
      if (b) this.remove(b, 'nak');
      return FORWARD;
    }
    if (type === DHCP.ACK && m.yiaddr !== '0.0.0.0' && m.options.leaseTime !== null) {
      const client = this.clientPort.get(m.chaddr);
      // an ACK for a request we never saw (or forgot): nothing to bind to
      if (client === undefined || this.clock.now() - client.seen > DHCP_CLIENT_TTL_NS) return FORWARD;
      this.bind(m.chaddr, m.yiaddr, vlan, client.port, m.options.leaseTime, 'ack');
    }
    return FORWARD;
  }

  /** Evidence that `mac` holds `ip` on `port` for `leaseSeconds` more: add, refresh or move the binding. */
  bind(mac: string, ip: string, vlan: number, port: number, leaseSeconds: number, evidence: 'ack' | 'leaseactive' | 'database'): void {
    const now = this.clock.now();
    const old = this.bindings.get(mac);
    old?.timer.cancel();
    const expiresAt = now + leaseSeconds * 1e9;
    const b: Binding = {
      mac, ip, vlan, port, leaseSeconds, expiresAt,
      timer: this.clock.schedule(leaseSeconds * 1e9, () => {
        if (this.bindings.get(mac) === b) this.remove(b, 'expired');
      }),
    };
    this.bindings.set(mac, b);
    this.onChange?.(mac, b);
    if (evidence === 'database') {
      this.log.add({ t: now, kind: 'binding-restored', mac, ip, vlan, port: this.portName(port), leaseSeconds });
    } else if (old && old.port !== port) {
      this.log.add({ t: now, kind: 'binding-moved', mac, ip, from: this.portName(old.port), to: this.portName(port), evidence });
    } else if (!old || old.ip !== ip) {
      this.log.add({ t: now, kind: 'binding-added', mac, ip, vlan, port: this.portName(port), leaseSeconds });
    }
  }

  /** Forget clients silent for longer than DHCP_CLIENT_TTL_NS, then the oldest beyond DHCP_MAX_CLIENTS. */
  prune(now: Ns = this.clock.now()): void {
    for (const [mac, c] of this.clientPort) {
      if (now - c.seen <= DHCP_CLIENT_TTL_NS) break;
      this.clientPort.delete(mac);
    }
    for (const mac of this.clientPort.keys()) {
      if (this.clientPort.size <= DHCP_MAX_CLIENTS) break;
      this.clientPort.delete(mac);
      this.clientEvictions++;
    }
  }

  /** clients remembered (requests seen, awaiting or past their ACK) */
  get clientCount(): number {
    return this.clientPort.size;
  }

  /** IP source guard: may `mac` send from `ip` on `port` in `vlan`? */
  permits(vlan: number, mac: string, ip: string, port: number): boolean {
    const b = this.bindings.get(mac);
    return b !== undefined && b.ip === ip && b.port === port && b.vlan === vlan;
  }

  private remove(b: Binding, cause: 'release' | 'decline' | 'nak' | 'expired'): void {
    b.timer.cancel();
    this.bindings.delete(b.mac);
    this.onChange?.(b.mac, null);
    this.log.add({ t: this.clock.now(), kind: 'binding-removed', mac: b.mac, ip: b.ip, port: this.portName(b.port), cause });
  }
}
