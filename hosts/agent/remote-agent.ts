// Test helper: a destination HostAgent in its own worker thread, as it would be in its own
// container — so a loopback transfer is not a single event loop talking to itself.
// Start it with startRemoteAgent(); it reports its port, its events and each incoming result
// (the results arrive by message: poll `incoming`, or read it after close()).

import { parentPort, workerData, type Worker } from 'node:worker_threads';
import { HostAgent } from './agent.js';
import type { AgentEvent } from './events.js';
import { siblingModule, spawnWorker } from './spawn-worker.js';

type FromRemote =
  | { type: 'listening'; port: number }
  | { type: 'event'; event: AgentEvent }
  | { type: 'incoming'; outcome: string; vm: string | null; verified: boolean | null; reason: string | null; bytesIn: number }
  | { type: 'reserved'; ms: number }
  | { type: 'closed' };

export interface RemoteAgent {
  port: number;
  events: AgentEvent[];
  incoming: Extract<FromRemote, { type: 'incoming' }>[];
  /** HostAgent.reserve in the agent's thread; resolves with the ms it took */
  reserve(vm: string, g: { memoryBytes: number; pageSize: number }): Promise<number>;
  close(): Promise<void>;
}

export async function startRemoteAgent(name: string): Promise<RemoteAgent> {
  const worker: Worker = await spawnWorker(siblingModule(import.meta.url, 'remote-agent'), { workerData: { remoteAgent: true, name } });
  const events: AgentEvent[] = [];
  const incoming: Extract<FromRemote, { type: 'incoming' }>[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromRemote) => {
      if (m.type === 'listening') resolve(m.port);
      else if (m.type === 'event') events.push(m.event);
      else if (m.type === 'incoming') incoming.push(m);
    });
  });
  return {
    port,
    events,
    incoming,
    reserve: (vm, g) =>
      new Promise<number>((resolve) => {
        const on = (m: FromRemote): void => {
          if (m.type !== 'reserved') return;
          worker.off('message', on);
          resolve(m.ms);
        };
        worker.on('message', on);
        worker.postMessage({ type: 'reserve', vm, g });
      }),
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' });
      const t = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function main(port: NonNullable<typeof parentPort>, name: string): Promise<void> {
  const agent = new HostAgent(name, { onEvent: (event) => port.postMessage({ type: 'event', event } satisfies FromRemote) });
  const watched = new Set<Promise<unknown>>();
  const watch = (): void => {
    for (const p of agent.incoming) {
      if (watched.has(p)) continue;
      watched.add(p);
      void p.then((r) =>
        port.postMessage({ type: 'incoming', outcome: r.outcome, vm: r.vm, verified: r.verified, reason: r.reason, bytesIn: r.bytesIn } satisfies FromRemote),
      );
    }
  };
  const timer = setInterval(watch, 5);
  port.on('message', (m: { type: string; vm?: string; g?: { memoryBytes: number; pageSize: number } }) => {
    if (m.type === 'reserve') {
      void agent.reserve(m.vm!, m.g!).then((r) => port.postMessage({ type: 'reserved', ms: r.ms } satisfies FromRemote));
      return;
    }
    if (m.type !== 'close') return;
    clearInterval(timer);
    void agent.close().then(() => {
      watch();
      port.postMessage({ type: 'closed' } satisfies FromRemote);
      port.close();
    });
  });
  port.postMessage({ type: 'listening', port: await agent.listen(0) } satisfies FromRemote);
}

const data = workerData as { remoteAgent?: true; name: string } | null;
if (parentPort && data?.remoteAgent) void main(parentPort, data.name);
