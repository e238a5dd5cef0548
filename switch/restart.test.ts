// What a switch that comes back from a restart does: its startup queries (RFC 3376 §8.6–8.7)
// and, with a persistent snooping database, its bindings and DHCP server put back.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../sim/kernel.js';
import { kernelClock } from '../sim/clock.js';
import { Random } from '../model/random.js';
import { EdgeSwitch } from './edge-switch.js';
import { VsiTypeDb } from './vsi-db.js';
import { MemoryBindingStore } from './binding-store.js';
import { parseEthernet } from '../wire/ethernet.js';

const INTERVAL = 60e9;

function harness(store?: MemoryBindingStore) {
  const kernel = new Kernel();
  const clock = kernelClock(kernel);
  const sent: number[] = [];
  const sw = new EdgeSwitch({
    mac: '02:5e:00:00:00:fe', ip: '10.77.0.254', vdp: 'extended', dhcpRebind: 'leasequery', igmpRebind: 'query',
    ipSourceGuard: true, igmpQueryIntervalNs: INTERVAL, rebindQueryMaxRespDs: 1, ...(store ? { bindingStore: store } : {}),
  }, clock, new Random(1), new VsiTypeDb());
  sw.addPort('h1', 'host', () => {}, 10);
  sw.addPort('dhcp', 'dhcp-server', () => {}, 10);
  sw.addPort('probe', 'access', (f) => {
    const e = parseEthernet(f);
    if (e.ok && e.value.dst === '01:00:5e:00:00:01') sent.push(kernel.now);
  }, 10);
  return { kernel, sw, sent };
}

describe('a restarted switch', () => {
  it('sends two startup queries a quarter interval apart, then one an interval; a first start waits an interval', () => {
    const fresh = harness();
    fresh.sw.start(fresh.kernel.now);
    fresh.kernel.run(2 * INTERVAL);
    expect(fresh.sent).toEqual([0, INTERVAL / 4, INTERVAL / 4 + INTERVAL]);

    const first = harness();
    first.sw.start();
    first.kernel.run(2 * INTERVAL);
    expect(first.sent).toEqual([INTERVAL, 2 * INTERVAL]);
  });

  it('keeps its bindings and server in the database, and a new switch on it restores the unexpired ones by port name', () => {
    const store = new MemoryBindingStore();
    const a = harness(store);
    a.sw.snooping.server = { ip: '10.77.0.2', mac: '02:d0:00:00:00:01', port: 1 };
    a.sw.snooping.onServer?.(a.sw.snooping.server);
    a.sw.snooping.bind('02:00:00:00:01:01', '10.77.0.5', 10, 0, 100, 'ack');
    a.sw.snooping.bind('02:00:00:00:01:02', '10.77.0.6', 10, 0, 10, 'ack');
    expect(store.load().map((b) => b.port)).toEqual(['h1', 'h1']);

    const b = harness(store);
    b.kernel.run(50e9); // the new switch comes up 50 s later: the 10 s lease has run out
    expect(b.sw.restoreBindings()).toBe(1);
    expect(b.sw.snooping.binding('02:00:00:00:01:01')).toMatchObject({ ip: '10.77.0.5', port: 0, leaseSeconds: 50 });
    expect(b.sw.snooping.binding('02:00:00:00:01:02')).toBeNull();
    expect(b.sw.snooping.server).toEqual({ ip: '10.77.0.2', mac: '02:d0:00:00:00:01', port: 1 });
    expect(b.sw.log.events.map((e) => e.kind)).toEqual(['binding-restored']);
    // a removal is written through too
    b.kernel.run(200e9);
    expect(store.load()).toEqual([]);
  });

  it('without a database restores nothing', () => {
    const a = harness();
    a.sw.snooping.bind('02:00:00:00:01:01', '10.77.0.5', 10, 0, 100, 'ack');
    expect(harness().sw.restoreBindings()).toBe(0);
  });
});
