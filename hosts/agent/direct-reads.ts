// Receiving into buffers of our choosing: the destination agent lets the kernel copy a
// batch's pages straight into the VM's RAM (as QEMU's multifd receive reads pages into guest
// memory by iovec), instead of into a fresh 64 KiB chunk per read that is then copied again.
//
// Node reads into caller-chosen buffers only for sockets it constructs with `onread` (the
// buffer may be a function, asked before every read); a listener's sockets are constructed
// for it. So an accepted socket, still paused (the server has `pauseOnConnect`), is re-homed:
// its TCP handle moves to a socket constructed with `onread`, and the emptied one is
// destroyed (which also closes it in the server's count). This uses Socket's `handle`
// option and `_handle`, which Node itself uses for accepted sockets but does not document;
// where they are not there, `rehome` says so (null) and the caller reads as usual.

import { Socket } from 'node:net';

export interface DirectReader {
  /** the buffer the next read goes into (never empty) */
  next(): Uint8Array;
  /** `n` bytes were read into `buf` (the buffer next() gave) */
  read(n: number, buf: Uint8Array): void;
}

interface HandleOwner {
  _handle: { useUserBuffer?: unknown; reading?: boolean } | null;
}

/** The accepted, paused `accepted` as a socket that reads through `reader`; null if this Node cannot. */
export function rehome(accepted: Socket, reader: DirectReader): Socket | null {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function' || handle.reading || accepted.destroyed) return null;
  owner._handle = null;
  const socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: { buffer: () => reader.next(), callback: (n: number, buf: Uint8Array) => void reader.read(n, buf) },
  } as ConstructorParameters<typeof Socket>[0]);
  accepted.destroy();
  return socket;
}
