// Which pages of a VM start all-zero, in both engines: a salted hash of the page number
// against a limit taken from the scenario's zero share, so no bitmap is stored and the sim
// and the testbed agent pick the very same pages for the same salt (model/random.ts vmStreams).

/** A page's salted hash (a murmur3-style finaliser of page ^ salt), uniform over 32 bits. */
export function zeroPageHash(page: number, salt: number): number {
  let h = (page ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The hash limit for a zero share (0..1, clamped): a page whose hash is below it starts zero. */
export function zeroPageLimit(share: number): number {
  return Math.round(Math.min(1, Math.max(0, share)) * 4294967296);
}

/** Whether `page` starts all-zero, for a VM's salt and the limit from zeroPageLimit. */
export function startsZero(page: number, salt: number, limit: number): boolean {
  return limit > 0 && zeroPageHash(page, salt) < limit;
}
