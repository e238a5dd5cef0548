import { describe, expect, it } from 'vitest';
import { DHCP, emptyDhcpOptions, type DhcpRepr } from '../wire/dhcp.js';
import { EventLog } from '../model/result/event-log.js';
import type { Clock, Ns } from '../model/time.js';
import { DHCP_CLIENT_TTL_NS, DHCP_MAX_CLIENTS, DhcpSnooping } from './dhcp-snooping.js';

function fakeClock() {
  let now = 0;
  const clock = { now: () => now, schedule: () => ({ cancel: () => {} }) } as unknown as Clock;
  return { clock, advance: (ns: Ns) => { now += ns; } };
}

const mac = (i: number) => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

function msg(op: 1 | 2, type: number, chaddr: string, yiaddr = '0.0.0.0'): DhcpRepr {
  const options = emptyDhcpOptions();
  options.messageType = type;
  if (op === 2) options.leaseTime = 600;
  return {
    op, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, broadcast: false,
    ciaddr: '0.0.0.0', yiaddr, siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr, sname: '', file: '', options,
  };
}

describe('DHCP snooping client table', () => {
  it('a client is forgotten 60 s after its last message: a later ACK binds nothing', () => {
    const { clock, advance } = fakeClock();
    const s = new DhcpSnooping(clock, new EventLog(), (p) => `p${p}`);
    s.fromClient(1, 1, mac(1), msg(1, DHCP.REQUEST, mac(1)));
    advance(DHCP_CLIENT_TTL_NS + 1);
    s.prune();
    expect(s.clientCount).toBe(0);
    s.fromServer(0, 1, '02:d0:00:00:00:01', '10.0.0.1', msg(2, DHCP.ACK, mac(1), '10.0.0.5'));
    expect(s.binding(mac(1))).toBeNull();
    // within the TTL the ACK binds as before
    s.fromClient(1, 1, mac(2), msg(1, DHCP.REQUEST, mac(2)));
    advance(DHCP_CLIENT_TTL_NS - 1);
    s.fromServer(0, 1, '02:d0:00:00:00:01', '10.0.0.1', msg(2, DHCP.ACK, mac(2), '10.0.0.6'));
    expect(s.binding(mac(2))).toMatchObject({ ip: '10.0.0.6', port: 1 });
  });

  it('the table holds at most DHCP_MAX_CLIENTS, forgetting the longest-silent first', () => {
    const { clock, advance } = fakeClock();
    const s = new DhcpSnooping(clock, new EventLog(), (p) => `p${p}`);
    for (let i = 0; i < DHCP_MAX_CLIENTS + 100; i++) {
      s.fromClient(1, 1, mac(i), msg(1, DHCP.DISCOVER, mac(i)));
      advance(1000);
      if (i === 200) s.fromClient(1, 1, mac(0), msg(1, DHCP.DISCOVER, mac(0))); // mac 0 heard again: now recent
    }
    expect(s.clientCount).toBe(DHCP_MAX_CLIENTS);
    expect(s.clientEvictions).toBe(100);
    s.fromServer(0, 1, '02:d0:00:00:00:01', '10.0.0.1', msg(2, DHCP.ACK, mac(0), '10.0.0.7'));
    expect(s.binding(mac(0))).not.toBeNull();
    s.fromServer(0, 1, '02:d0:00:00:00:01', '10.0.0.1', msg(2, DHCP.ACK, mac(1), '10.0.0.8'));
    expect(s.binding(mac(1))).toBeNull();
  });
});
