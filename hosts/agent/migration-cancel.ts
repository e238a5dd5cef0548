// The abort handle of one outgoing migration (libvirt's domjobabort): the host agent's `abort`
// control message pulls it; the sender (sender.ts) arms it while it can still give the
// migration up, and refuses once the destination runs the VM. docs/control-protocol.md.

/** A handle the sender arms while it can still give up: `abort(reason)` says whether it did. */
export class MigrationCancel {
  private handler: ((reason: string) => boolean) | null = null;
  private pending: string | null = null;
  private over = false;

  /** false: nothing to abort (done, or the destination already runs the VM) */
  abort(reason: string): boolean {
    if (this.handler) return this.handler(reason);
    if (this.over) return false;
    // asked before the sender armed it: given up as soon as it starts
    this.pending ??= reason;
    return true;
  }

  /** @internal the sender's side: armed while it can give up, disarmed (null) when it is over */
  arm(handler: ((reason: string) => boolean) | null): void {
    this.handler = handler;
    if (handler === null) this.over = true;
    else if (this.pending !== null) handler(this.pending);
  }
}

