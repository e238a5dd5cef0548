// The sweep's progress bar on a terminal (cli-progress): runs done of all, runs per second
// and the time left; redrawn in place on stderr and cleared at the end. Not drawn in a pipe,
// a file or with --quiet.

import { SingleBar } from 'cli-progress';

export interface Progress {
  tick(): void;
  stop(): void;
}

export const NO_PROGRESS: Progress = { tick() {}, stop() {} };

export function progressBar(label: string, total: number, done: number, stream: NodeJS.WriteStream): Progress {
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} runs | {rate} runs/s | ETA {eta_formatted}`,
    stream,
    clearOnComplete: true,
    hideCursor: true,
    etaBuffer: 50,
    fps: 4,
    barsize: 30,
  });
  const startedAt = Date.now();
  let n = done;
  bar.start(total, done, { rate: '0' });
  return {
    tick() {
      n++;
      const s = (Date.now() - startedAt) / 1000;
      bar.update(n, { rate: s > 0 ? ((n - done) / s).toFixed(0) : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}
