// A switch port's link watch (hosts/switch/port-watch.ts) on a scripted /sys: down when the
// link vanishes, is replaced or is not up; up again only from `down`; one report per change.

import { describe, expect, it } from 'vitest';
import { PortWatch, type LinkState } from './port-watch.js';

describe('PortWatch', () => {
  it('reports each change once, and a vanished link stays down', () => {
    const state = new Map<string, LinkState>([['sl-h1', { present: true, ifindex: 5, up: true }], ['sl-h2', { present: true, ifindex: 6, up: true }]]);
    const seen: string[] = [];
    const w = new PortWatch([{ name: 'h1', link: 'sl-h1' }, { name: 'h2', link: 'sl-h2' }], (p, r) => seen.push(`${p.name}:${r ?? 'up'}`), 3_600_000, (n) => state.get(n)!);
    w.check();
    expect(seen).toEqual([]);
    state.set('sl-h1', { present: true, ifindex: 5, up: false });
    w.check();
    w.check();
    expect(seen).toEqual(['h1:down']);
    state.set('sl-h1', { present: true, ifindex: 5, up: true });
    w.check();
    expect(seen).toEqual(['h1:down', 'h1:up']);
    state.set('sl-h2', { present: false });
    w.check();
    state.set('sl-h2', { present: true, ifindex: 9, up: true }); // a new device of that name: not the one joined to the port
    w.check();
    expect(seen).toEqual(['h1:down', 'h1:up', 'h2:vanished']);
    expect(w.isDown('h2')).toBe(true);
    expect(w.isDown('h1')).toBe(false);
    w.stop();
  });

  it('a link replaced by one with another ifindex is down', () => {
    let s: LinkState = { present: true, ifindex: 5, up: true };
    const seen: string[] = [];
    const w = new PortWatch([{ name: 'p', link: 'x' }], (_p, r) => seen.push(String(r)), 3_600_000, () => s);
    s = { present: true, ifindex: 7, up: true };
    w.check();
    expect(seen).toEqual(['replaced']);
    w.stop();
  });
});
