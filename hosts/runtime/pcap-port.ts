// A raw Ethernet port on a Linux interface (libpcap), for running the switch and the VDP
// station outside the sim: the testbed's processes and the interop test. Never imported by
// shared logic or the sim. Binding, capture filter and ring size: docs/testbed-processes.md
// "Raw Ethernet ports".

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The part of `cap`'s API this port uses (the package ships no typings). */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}

interface CapModule {
  Cap: new () => CapHandle;
}

/** libpcap's kernel ring: large, so a burst survives a busy event loop (about 256 frames, see above). */
const KERNEL_BUFFER_BYTES = 16 * 1024 * 1024;
/** Largest frame we accept (cap's snaplen is 65535). */
const FRAME_BUFFER_BYTES = 65_535;

export interface PcapPortStats {
  /** frames handed to the callback */
  rx: number;
  rxBytes: number;
  tx: number;
  txBytes: number;
  /** frames received before a callback was registered */
  rxUnhandled: number;
  /** frames longer than the capture buffer (delivered truncated) */
  truncated: number;
  /** exceptions thrown by the receive callback (caught) */
  callbackErrors: number;
  /** frames libpcap refused to send */
  sendErrors: number;
  /** the BPF capture filter in force ('' if the interface's MAC could not be read) */
  filter: string;
}

let capModule: CapModule | null = null;

function loadCap(): CapModule {
  if (capModule) return capModule;
  const require = createRequire(import.meta.url);
  try {
    capModule = require('cap') as CapModule;
  } catch (e) {
    throw new Error(
      `PcapPort needs the npm package 'cap' built against libpcap (apt-get install libpcap-dev; npm install): ${(e as Error).message}`,
    );
  }
  return capModule;
}

function interfaceMac(ifname: string): string | null {
  try {
    const mac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim().toLowerCase();
    return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) ? mac : null;
  } catch {
    return null;
  }
}

export interface PcapPortOptions {
  /** libpcap's kernel ring, bytes (default 16 MiB ≈ 256 frames, see above) */
  bufferBytes?: number;
  /**
   * Only frames of these EtherTypes (untagged) are captured: the kernel filters out the rest
   * before they are copied to the ring or cost a callback (a host's station on an uplink
   * that carries all its VMs' traffic wants ECP and LLDP only). Default: every EtherType.
   */
  etherTypes?: number[];
}

/** The capture filter: never our own frames (see above), and only `etherTypes` if given. */
export function captureFilter(mac: string | null, etherTypes: number[] = []): string {
  for (const t of etherTypes) {
    if (!Number.isInteger(t) || t < 0x600 || t > 0xffff) throw new RangeError(`EtherType ${t} is not 0x0600..0xffff`);
  }
  const own = mac === null ? '' : `not ether src ${mac}`;
  const types = etherTypes.map((t) => `ether proto 0x${t.toString(16).padStart(4, '0')}`).join(' or ');
  if (!types) return own;
  return own ? `${own} and (${types})` : types;
}

export class PcapPort {
  readonly stats: PcapPortStats;
  /** the last exception caught from the callback or from a send */
  lastError: Error | null = null;
  private callback: ((frame: Uint8Array) => void) | null = null;
  private closed = false;

  private constructor(
    readonly ifname: string,
    private readonly cap: CapHandle,
    private readonly buffer: Buffer,
    filter: string,
  ) {
    this.stats = { rx: 0, rxBytes: 0, tx: 0, txBytes: 0, rxUnhandled: 0, truncated: 0, callbackErrors: 0, sendErrors: 0, filter };
    cap.on('packet', (nbytes, truncated) => this.onPacket(nbytes, truncated));
  }

  /** Open `ifname` (needs CAP_NET_RAW). Throws if the interface does not exist or is not Ethernet. */
  static open(ifname: string, options: PcapPortOptions = {}): PcapPort {
    const { Cap } = loadCap();
    const buffer = Buffer.alloc(FRAME_BUFFER_BYTES);
    const mac = interfaceMac(ifname);
    const filter = captureFilter(mac, options.etherTypes);
    const cap = new Cap();
    let linkType: string;
    try {
      linkType = cap.open(ifname, filter, options.bufferBytes ?? KERNEL_BUFFER_BYTES, buffer);
    } catch (e) {
      throw new Error(`PcapPort: cannot open ${ifname}: ${(e as Error).message}`);
    }
    if (linkType !== 'ETHERNET') {
      cap.close();
      throw new Error(`PcapPort: ${ifname} has link type ${linkType}, not Ethernet`);
    }
    return new PcapPort(ifname, cap, buffer, filter);
  }

  /** Every frame received on the interface (a fresh copy each time). One callback; a second call replaces it. */
  onFrame(cb: (frame: Uint8Array) => void): void {
    this.callback = cb;
  }

  /** Put one frame on the wire as is (no padding). Never throws: a failure is counted in `stats.sendErrors`. */
  send(frame: Uint8Array): void {
    if (this.closed) {
      this.stats.sendErrors++;
      this.lastError = new Error(`PcapPort ${this.ifname}: send after close`);
      return;
    }
    const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    try {
      this.cap.send(buf, buf.length);
    } catch (e) {
      this.stats.sendErrors++;
      this.lastError = e as Error;
      return;
    }
    this.stats.tx++;
    this.stats.txBytes += frame.byteLength;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.callback = null;
    this.cap.removeAllListeners('packet');
    this.cap.close();
  }

  private onPacket(nbytes: number, truncated: boolean): void {
    if (this.closed) return;
    try {
      // cap reuses one buffer for every frame: copy before anything else runs
      const frame = new Uint8Array(this.buffer.subarray(0, nbytes));
      if (truncated) this.stats.truncated++;
      if (!this.callback) {
        this.stats.rxUnhandled++;
        return;
      }
      this.stats.rx++;
      this.stats.rxBytes += nbytes;
      this.callback(frame);
    } catch (e) {
      this.stats.callbackErrors++;
      this.lastError = e instanceof Error ? e : new Error(String(e));
    }
  }
}
