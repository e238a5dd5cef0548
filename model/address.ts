// Addresses as text — the one form scenarios, configs, results and logs use: MAC
// `aa:bb:cc:dd:ee:ff` and dotted-quad IPv4, with the few classifications both engines
// and the loader need. Byte views of them are in wire/fields.ts.

/** `aa:bb:cc:dd:ee:ff`, lower case: the one MAC text form in migsim. */
export type Mac = string;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function isMac(text: string): boolean {
  return MAC_RE.test(text);
}

export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';

export function isMulticastMac(mac: Mac): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** Dotted-quad IPv4 text. */
export type Ipv4 = string;

/**
 * Dotted-quad text → 32-bit value without regexes or allocation; −1 if the text is not an
 * IPv4 address: four 1–3 digit parts ≤ 255. The one IPv4 text parser.
 */
export function ipWord(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 0x2e; // a virtual '.' closes the last part
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return -1;
      part = part * 10 + (c - 0x30);
    } else if (c === 0x2e) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value >>> 0 : -1;
}

export function ipToU32(ip: Ipv4): number {
  const w = ipWord(ip);
  if (w < 0) throw new RangeError(`not an IPv4 address: ${ip}`);
  return w;
}

export function u32ToIp(v: number): Ipv4 {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function isIpv4(text: string): boolean {
  return ipWord(text) >= 0;
}

/** A 32-bit IPv4 address in 224.0.0.0/4. */
export function isMulticastWord(w: number): boolean {
  return w >= 0 && w >>> 28 === 0xe;
}

/** IPv4 text in 224.0.0.0/4. */
export function isIpv4Multicast(text: string): boolean {
  return isMulticastWord(ipWord(text));
}

/** A group a VM may join and the switch snoops: 224.0.0.0/4 outside link-local 224.0.0.x. */
export function isSnoopableGroup(text: string): boolean {
  const w = ipWord(text);
  return isMulticastWord(w) && w >>> 8 !== 0xe00000;
}
