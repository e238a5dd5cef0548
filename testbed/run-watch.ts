// What can end or spoil a testbed run while it goes: a signal (Ctrl-C, SIGTERM), the control
// bus (Redis) lost, a component process that dies. RunWatch records the deaths (with the
// container, if it stopped too), gives the run up on a signal or a lost bus (every wait
// fails at once; the phase that was running goes on and is waited for a while before the
// topology is removed), and during set-up a death gives the run up too.
// Bounds and effects: docs/testbed-wiring.md "When things fail".

import type { ContainerProcess, ProcessExit } from './container-process.js';
import type { Death } from './faults.js';

/** What the watch needs of the run it watches (RunContext): stop following the stream, emit, log. */
export interface WatchedRun {
  readonly follower: { stop(): Promise<unknown> } | null;
  emit(kind: string, data: Record<string, unknown>): void;
  log(line: string): void;
}

export type RunAbort =
  | { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM'; atNs: bigint }
  | { kind: 'bus-lost'; lastAnswerNs: bigint; detectedNs: bigint }
  | { kind: 'died'; death: Death };

/** A wait given up because the run was (RunWatch.guard). */
export class RunAborted extends Error {
  constructor(readonly abort: RunAbort) {
    super(
      abort.kind === 'signal'
        ? `interrupted by ${abort.signal}`
        : abort.kind === 'bus-lost'
          ? `the control bus (Redis) was lost: no answer for ${Number(abort.detectedNs - abort.lastAnswerNs) / 1e9} s`
          : `${abort.death.label} died during set-up (exit ${abort.death.code})${abort.death.container ? `: its container ${abort.death.container} stopped` : ''}`,
    );
    this.name = 'RunAborted';
  }
}

/** A process's name in `faults` and in `died()`: `switch`, `dhcpd`, `agent:h1`, `guest:vm1`, `probe`, `msource:0`. */
export function componentOf(role: string, name: string | null): string {
  switch (role) {
    case 'switch': return 'switch';
    case 'dhcp': return 'dhcpd';
    case 'host': return `agent:${name}`;
    case 'vm': return `guest:${name}`;
    case 'probe': return 'probe';
    default: return `${role}:${name}`;
  }
}

export class RunWatch {
  abort: RunAbort | null = null;
  readonly deaths: Death[] = [];
  /** set-up (a death gives the run up), running (a death is recorded), ending (processes stop on purpose) */
  phase: 'setup' | 'running' | 'ending' = 'setup';
  /** the guarded phases still running */
  private readonly inflight = new Set<Promise<unknown>>();
  readonly aborted: Promise<RunAbort>;
  private resolveAborted!: (a: RunAbort) => void;
  private readonly deathWaiters: { component: string; resolve: (d: Death) => void }[] = [];

  constructor(private readonly r: WatchedRun, signal?: AbortSignal) {
    this.aborted = new Promise((res) => (this.resolveAborted = res));
    if (signal) {
      const onSignal = (): void => this.stop({ kind: 'signal', signal: signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT', atNs: process.hrtime.bigint() });
      if (signal.aborted) onSignal();
      else signal.addEventListener('abort', onSignal, { once: true });
    }
  }

  /** Gives the run up (the first reason counts): every wait on the event stream fails now. */
  stop(a: RunAbort): void {
    if (this.abort) return;
    this.abort = a;
    void this.r.follower?.stop().catch(() => undefined);
    this.resolveAborted(a);
  }

  guard<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(() => undefined, () => undefined);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return Promise.race([p, this.aborted.then((a): never => { throw new RunAborted(a); })]);
  }

  /** Waits up to `ms` for the guarded phases that were cut short to finish. */
  async settle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.inflight]), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  died(component: string): Promise<Death> {
    const d = this.deaths.find((x) => x.component === component);
    if (d) return Promise.resolve(d);
    return new Promise((resolve) => this.deathWaiters.push({ component, resolve }));
  }

  /** processes ended on purpose during the run (a switch-restart's kill): their exit is no death */
  private readonly intended = new WeakSet<ContainerProcess>();

  intendEnd(p: ContainerProcess): void {
    this.intended.add(p);
  }

  isIntended(p: ContainerProcess): boolean {
    return this.intended.has(p);
  }

  track(p: ContainerProcess): void {
    void p.exited.then((x) => this.onExit(p, x));
  }

  private async onExit(p: ContainerProcess, x: ProcessExit): Promise<void> {
    if (this.phase === 'ending' || this.abort || this.intended.has(p)) return;
    const atNs = process.hrtime.bigint();
    // a traffic process that ran its --duration out is done, not dead
    if (x.code === 0 && (p.node.role === 'probe' || p.node.role === 'msource')) return;
    // a killed container ends its processes first and says it stopped a moment later
    let container: string | null = null;
    for (let i = 0; i < 10 && container === null; i++) {
      try {
        const info = await p.node.inspect();
        if (!info?.State.Running) container = p.node.containerName;
      } catch {
        container = p.node.containerName;
      }
      if (container === null) await new Promise((res) => setTimeout(res, 100));
    }
    if (this.abort) return;
    const d: Death = { component: componentOf(p.node.role, p.node.name), label: p.label, atNs, code: x.code, container };
    this.deaths.push(d);
    this.r.emit('component-died', { component: d.component, label: d.label, code: d.code, container });
    this.r.log(`${d.label} died (exit ${d.code})${container ? `; its container ${container} stopped` : ''}`);
    for (const w of this.deathWaiters.filter((w) => w.component === d.component)) w.resolve(d);
    if (this.phase === 'setup') this.stop({ kind: 'died', death: d });
  }
}

/** The documented bound from a signal (SIGINT, SIGTERM) to the end of `migsim run`, everything the run made removed. */
export const SIGNAL_EXIT_MS = 10_000;
