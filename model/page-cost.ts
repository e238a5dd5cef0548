// What a page costs on the migration stream, as both engines send it and the scenario's run
// estimate counts it: QEMU's per-page header, and a zero page as a marker.

/** Per-page header on the migration stream: QEMU's be64 (offset | flags). */
export const PAGE_HEADER_BYTES = 8;
/** A zero page goes as its header plus one fill byte (QEMU RAM_SAVE_FLAG_ZERO), never as a page. */
export const ZERO_PAGE_BYTES = PAGE_HEADER_BYTES + 1;

export function pageWireBytes(pageSize: number): number {
  return pageSize + PAGE_HEADER_BYTES;
}

/** Bytes on the wire for `pages` pages of which `zeroPages` are all-zero. */
export function wireBytes(pages: number, zeroPages: number, pageSize: number): number {
  return (pages - zeroPages) * pageWireBytes(pageSize) + zeroPages * ZERO_PAGE_BYTES;
}
