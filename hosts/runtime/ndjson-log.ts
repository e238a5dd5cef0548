// What the testbed processes without Redis (vm, probe, msource, dhcp) share: the NDJSON
// observation log, turning TX checksum offload off, and finding an address's interface.
// Log format and why offload goes off: docs/testbed-processes.md "NDJSON logs".

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname } from 'node:path';

const FLUSH_BYTES = 64 * 1024;

export class NdjsonLog {
  private fd: number | null;
  private buffer: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** lines written (or buffered) so far */
  lines = 0;
  /** write(2) failures (the lines of that flush are lost) */
  errors = 0;

  constructor(readonly file: string, private readonly flushMs = 10) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a');
  }

  /** Append one observation at `t` (now if absent). Never throws. */
  write(kind: string, fields: Record<string, unknown> = {}, t: bigint = process.hrtime.bigint()): void {
    if (this.fd === null) return;
    let line: string;
    try {
      line = JSON.stringify({ t: t.toString(), kind, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    } catch {
      this.errors++;
      return;
    }
    this.buffer.push(line, '\n');
    this.bytes += line.length + 1;
    this.lines++;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Write what is buffered now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fd === null || this.buffer.length === 0) return;
    const data = Buffer.from(this.buffer.join(''));
    this.buffer = [];
    this.bytes = 0;
    try {
      let off = 0;
      while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    } catch {
      this.errors++;
    }
  }

  /** Flush and close; later writes are ignored. Idempotent. */
  close(): void {
    this.flush();
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = null;
    }
  }
}


// ------------------------------------------------------------------------------------------
// TX checksum offload

/**
 * Turns TX checksum offload off on `ifname` (`ethtool -K IF tx off`), so the kernel finishes
 * every UDP/TCP checksum before a frame leaves. Why: a veth offloads it (CHECKSUM_PARTIAL:
 * the checksum field holds only the pseudo-header sum and the peer kernel trusts the skb's
 * flag), which is fine kernel to kernel, but the testbed's switch reads frames with libpcap
 * and writes them out again with libpcap: it sees the unfinished checksum (its UDP codec
 * rejects the datagram: "UDP checksum mismatch") and a frame it re-sends carries the bad
 * checksum to a kernel that drops it. Raw-socket senders (udhcpc's broadcasts, dhcpd's LPF)
 * compute their checksums themselves; every kernel UDP socket needs this. Never throws:
 * returns what happened (`off`, or why not).
 */
export function txChecksumOff(ifname: string, ethtool = 'ethtool'): { ok: boolean; detail: string } {
  const r = spawnSync(ethtool, ['-K', ifname, 'tx', 'off'], { encoding: 'utf8' });
  if (r.error) return { ok: false, detail: `${ethtool}: ${r.error.message}` };
  // exit 0: changed; some ethtool versions exit 1 with "no changes" / "Could not change any device features" when already off
  const show = spawnSync(ethtool, ['-k', ifname], { encoding: 'utf8' });
  const off = /^tx-checksumming: off/m.test(show.stdout ?? '');
  if (off) return { ok: true, detail: 'off' };
  return { ok: false, detail: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
}

/** The `txChecksum` of a start line: `kept` unless `fix`, else what txChecksumOff did (or that there was no interface). */
export function txChecksumSetting(ifname: string | null, fix: boolean): string {
  if (!fix) return 'kept';
  return ifname ? txChecksumOff(ifname).detail : 'no interface';
}

/** The interface that carries `ip` now, or null. */
export function interfaceOf(ip: string): string | null {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.family === 'IPv4' && a.address === ip)) return name;
  }
  return null;
}
