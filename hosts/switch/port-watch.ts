// Watches each switch port's link: the interface whose presence means the port's cable is
// plugged in (in the testbed, the veth end facing the peer container; the capture itself is
// on a private veth the link is joined to by tc, so its removal never reaches libpcap).
// Polled in /sys/class/net; a port whose link vanished, was replaced or is not up is reported
// down once, and up again when it is back. Why: docs/testbed-wiring.md "When things fail".

import { readFileSync } from 'node:fs';

export type LinkState = { present: false } | { present: true; ifindex: number; up: boolean };

/** An interface's state as this namespace's sysfs shows it. */
export function readLink(ifname: string, sys = '/sys/class/net'): LinkState {
  try {
    const ifindex = Number(readFileSync(`${sys}/${ifname}/ifindex`, 'utf8').trim());
    const oper = readFileSync(`${sys}/${ifname}/operstate`, 'utf8').trim();
    // a veth whose peer is gone or down reports `down` / `lowerlayerdown`; `unknown` is a device without carrier reporting
    return { present: true, ifindex, up: oper === 'up' || oper === 'unknown' };
  } catch {
    return { present: false };
  }
}

export type DownReason = 'vanished' | 'replaced' | 'down';

export interface WatchedPort {
  name: string;
  link: string;
}

/**
 * Polls every port's link every `intervalMs`. `onChange(port, null)` when a port comes back up,
 * `onChange(port, reason)` when it goes down. A link that vanished or was replaced (a new
 * ifindex: not the device this port was joined to) stays down.
 */
export class PortWatch {
  private readonly known = new Map<string, { ifindex: number | null; down: DownReason | null }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ports: WatchedPort[],
    private readonly onChange: (port: WatchedPort, reason: DownReason | null) => void,
    intervalMs = 100,
    private readonly read: (ifname: string) => LinkState = readLink,
  ) {
    for (const p of ports) {
      const s = read(p.link);
      this.known.set(p.name, { ifindex: s.present ? s.ifindex : null, down: null });
    }
    this.check();
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  /** Whether `port` is down now. */
  isDown(port: string): boolean {
    return this.known.get(port)?.down != null;
  }

  check(): void {
    for (const p of this.ports) {
      const k = this.known.get(p.name)!;
      if (k.down === 'vanished' || k.down === 'replaced') continue;
      const s = this.read(p.link);
      let reason: DownReason | null = null;
      if (!s.present) reason = 'vanished';
      else if (k.ifindex !== null && s.ifindex !== k.ifindex) reason = 'replaced';
      else if (!s.up) reason = 'down';
      if (s.present && k.ifindex === null) k.ifindex = s.ifindex;
      if (reason === k.down) continue;
      k.down = reason;
      this.onChange(p, reason);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
