// The PcapPort's BPF capture filter, as text (the port itself needs libpcap and an interface:
// test/procs/host-agent.test.ts checks the filter on a real uplink).

import { describe, expect, it } from 'vitest';
import { captureFilter } from './pcap-port.js';

describe('captureFilter', () => {
  it('never our own frames; with EtherTypes, only those', () => {
    expect(captureFilter('02:00:00:00:00:01')).toBe('not ether src 02:00:00:00:00:01');
    expect(captureFilter(null)).toBe('');
    expect(captureFilter('02:00:00:00:00:01', [0x8940, 0x88cc])).toBe('not ether src 02:00:00:00:00:01 and (ether proto 0x8940 or ether proto 0x88cc)');
    expect(captureFilter(null, [0x0800])).toBe('ether proto 0x0800');
  });

  it('refuses what is not an EtherType (a length, or beyond 16 bits)', () => {
    expect(() => captureFilter(null, [0x05dc])).toThrow(/EtherType 1500 is not 0x0600..0xffff/);
    expect(() => captureFilter(null, [0x10000])).toThrow(RangeError);
    expect(() => captureFilter(null, [1.5])).toThrow(RangeError);
  });
});
