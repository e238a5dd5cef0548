// The progress line of a long run: one line on stderr, redrawn in place, shown only on a
// terminal (never in a pipe or a file, never with --quiet) and only once a run has taken
// about a second; cleared when the run ends, so nothing of it stays in the output.

/** `0.4 s`, `12.5 s`, `3 m 05 s`, `2 h 07 m`: what a glance at a progress line needs. */
export function clock(ns: number): string {
  const s = ns / 1e9;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} m ${String(whole % 60).padStart(2, '0')} s`;
  const m = Math.floor(whole / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** Wall time before the line appears (ms). */
export const PROGRESS_AFTER_MS = 1000;
const REDRAW_MS = 250;

/** What a running simulation has reached, read by the line when it redraws. */
export interface Reached {
  /** virtual time reached (ns), null before the run reported any */
  simNs: number | null;
  migrationsDone: number;
}

export class ProgressLine {
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private startedAt = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  /** Start showing `label`'s progress (after PROGRESS_AFTER_MS), reading `reached` at each redraw. */
  begin(label: string, migrations: number, reached: () => Reached): void {
    this.end();
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.draw(label, migrations, reached()), REDRAW_MS);
  }

  /** Stop and wipe the line. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }

  private draw(label: string, migrations: number, r: Reached): void {
    const wallMs = Date.now() - this.startedAt;
    if (wallMs < PROGRESS_AFTER_MS) return;
    const sim = r.simNs === null ? 'starting' : `simulated ${clock(r.simNs)}`;
    let text = `migsim: ${label}: ${sim}, migrations ${r.migrationsDone}/${migrations} done, ${clock(wallMs * 1e6)} wall`;
    // a line longer than the terminal wraps, and \r would then redraw only its last part
    const width = (this.out.columns || 80) - 1;
    if (text.length > width) text = `${text.slice(0, Math.max(0, width - 1))}…`;
    this.out.write(`\r\x1b[K${text}`);
    this.shown = true;
  }
}
