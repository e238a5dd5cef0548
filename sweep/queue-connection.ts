// The queue's Redis, from a `--queue redis://[:PASSWORD@]HOST:PORT[/DB]` value: checked as a
// flag (one line naming it), then reached once with a bounded wait, so an address with no
// Redis behind it is an error within seconds, not a hang.

/** The BullMQ queue every sweep and every `migsim worker` uses on a given Redis. */
export const QUEUE_NAME = 'migsim-sweep';
const REACH_MS = 5000;

export class QueueUnreachable extends Error {}

/** The queue's Redis went away during a sweep and stayed away; `dir` holds the runs done (set by sweep/run.ts). */
export class QueueLost extends Error {
  dir: string | null = null;
}

export interface Connection {
  host: string;
  port: number;
  password?: string;
  db?: number;
  /** BullMQ's workers block on Redis; ioredis must not give up on their commands */
  maxRetriesPerRequest: null;
}

/** Parses the flag's value; throws Error with a one-line message naming --queue. */
export function parseQueueUrl(text: string): Connection {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--queue ${JSON.stringify(text)}: expected redis://HOST:PORT, such as redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' || u.hostname === '') throw new Error(`--queue ${JSON.stringify(text)}: expected redis://HOST:PORT (only redis: addresses)`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0 && db < 16)) throw new Error(`--queue ${JSON.stringify(text)}: the database number must be 0 to 15`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Pings the Redis once, within REACH_MS; throws QueueUnreachable saying why. */
export async function reach(text: string, c: Connection): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ ...c, lazyConnect: true, connectTimeout: REACH_MS, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw new QueueUnreachable(`--queue ${text}: no Redis answers there (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    r.disconnect();
  }
}
