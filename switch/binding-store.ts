// The DHCP-snooping database a switch keeps outside itself (as real switches keep theirs in
// flash or on a server), so bindings — and the trusted server they came from — survive a
// restart: `switch.bindingDatabase: persistent`.
// Written through on every change; read once when the switch comes up. The sim keeps it in
// memory across switch instances; the testbed's switch process keeps it in Redis.

import type { Ns } from '../model/time.js';
import type { DhcpSnooping } from './dhcp-snooping.js';

/** A binding as stored: its port by name (port numbers are the switch instance's own). */
export interface StoredBinding {
  mac: string;
  ip: string;
  vlan: number;
  port: string;
  /** on the switch's clock */
  expiresAt: Ns;
}

/** The trusted DHCP server the switch had seen (leasequery goes there), its port by name. */
export interface StoredServer {
  ip: string;
  mac: string;
  port: string;
}

export interface BindingStore {
  put(b: StoredBinding): void;
  delete(mac: string): void;
  load(): StoredBinding[];
  putServer(s: StoredServer): void;
  loadServer(): StoredServer | null;
}

export class MemoryBindingStore implements BindingStore {
  private readonly rows = new Map<string, StoredBinding>();
  private server: StoredServer | null = null;

  put(b: StoredBinding): void {
    this.rows.set(b.mac, { ...b });
  }

  delete(mac: string): void {
    this.rows.delete(mac);
  }

  load(): StoredBinding[] {
    return [...this.rows.values()].map((b) => ({ ...b }));
  }

  putServer(s: StoredServer): void {
    this.server = { ...s };
  }

  loadServer(): StoredServer | null {
    return this.server ? { ...this.server } : null;
  }
}

/** Keep `store` up to date with every binding and server change of `snooping`. */
export function writeThrough(snooping: DhcpSnooping, store: BindingStore, portName: (port: number) => string): void {
  snooping.onChange = (mac, b) => (b ? store.put({ mac, ip: b.ip, vlan: b.vlan, port: portName(b.port), expiresAt: b.expiresAt }) : store.delete(mac));
  snooping.onServer = (s) => store.putServer({ ip: s.ip, mac: s.mac, port: portName(s.port) });
}

/** Place the stored server and the bindings whose lease has not run out by `now` on the ports now named so; returns the bindings placed. */
export function restoreFrom(store: BindingStore, snooping: DhcpSnooping, now: Ns, portId: (name: string) => number | null): number {
  const server = store.loadServer();
  const serverPort = server ? portId(server.port) : null;
  if (server && serverPort !== null) snooping.server = { ip: server.ip, mac: server.mac, port: serverPort };
  let n = 0;
  for (const b of store.load()) {
    if (b.expiresAt <= now) {
      store.delete(b.mac); // its lease ran out while no switch was there to expire it
      continue;
    }
    const port = portId(b.port);
    if (port === null) continue;
    snooping.bind(b.mac, b.ip, b.vlan, port, (b.expiresAt - now) / 1e9, 'database');
    n++;
  }
  return n;
}
