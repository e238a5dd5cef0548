// Receiving into buffers of our choosing: re-homes an accepted, paused socket so the kernel
// copies a batch's pages straight into the VM's RAM. How and why:
// docs/control-protocol.md "The host agent's data path".

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
