// The edge switch as a testbed process: one EdgeSwitch on real interfaces (libpcap), with its
// configuration and VSI type DB from Redis and every event it logs streamed to the run's
// Redis stream (redis-bus.ts has the key layout, event-stream.ts the entry format).
//
//   node dist/hosts/switch/main.js --redis HOST:PORT --run ID --port NAME:ROLE:IFNAME [--port …]
//        [--flush-ms 2] [--pace-rate 50000] [--pace-burst 64] [--pace-queue 4096] [--config-wait-ms 30000]
//        [--pcap-buffer-mib 16] [--querier start|control]
//
// ROLE is host | dhcp-server | mrouter | access (EdgeSwitch's PortRole). Startup: wait for
// migsim:<run>:switch:config (up to --config-wait-ms), load migsim:<run>:vsitypes, open one
// PcapPort per --port, start the IGMP querier (not with --querier control), subscribe to
// migsim:<run>:control, then announce readiness: a `switch-ready` event {pid, ports} in the
// stream (flushed) and the key migsim:<run>:switch:ready. Control messages (to absent or
// "switch"): `stop` shuts down, `stats` appends a `switch-stats` event (counters, per-port
// pcap/pacing/ECP stats), `querier-start {originNs}` (re)starts the IGMP querier with its
// first general query at originNs (CLOCK_MONOTONIC ns, a decimal string: the run's time 0)
// plus the query interval, and appends `querier-started {originNs, firstQueryNs}`. The
// testbed starts the switch well before its time 0 and sends that at time 0, so the
// queries fall where the sim's do, whatever the set-up took.
//
// Shutdown (SIGTERM, SIGINT or `stop`): close the ports (no more frames in), stop the
// querier, append `switch-stopped` (the same snapshot), wait until Redis has acknowledged
// every event, delete the ready key, quit Redis. Exit status: 0 stopped with every event
// in the stream; 1 could not start (an interface would not open, Redis unreachable);
// 2 bad arguments or a bad config/VSI type in Redis; 3 stopped, but events were lost
// (Redis gone at shutdown, more than 200,000 waiting, or XADDs Redis refused).
//
// Faults never kill the process: a frame that throws inside the switch is caught, counted
// (`runner.receiveErrors`) and reported on stderr (at most a line a second); a malformed
// frame is the switch's own `malformed` event; Redis errors are reported and retried
// (commands wait for a reconnect); a bad control message is counted and ignored; any other
// uncaught exception or rejection is counted and reported, and the switch keeps running.
//
// Pacing (what goes out of each port): a token bucket per port — up to `burst` (64) frames
// back to back, then `rate` (50,000) frames/s — in front of libpcap's send. A frame that finds
// a token and an empty queue goes out at once (no added latency); otherwise it waits in
// the port's queue, drained from a timer (ms resolution: about rate/1000 frames per tick, so
// the bucket depth is at least that). Link-local control frames (01:80:c2:00:00:0x: ECP/VDP,
// LLDP) have a queue of their own that is always drained first, so a flood never delays a
// VDP response behind data. Each queue holds at most `queue` (4096) frames; beyond that a
// frame is dropped and counted (`pace.dropped`/`pace.controlDropped`: tail drop, as a
// switch's egress buffer). Why: a flood or a burst of forwarded frames would otherwise be
// written in one event-loop turn as fast as sendto() returns, overrunning the receiving
// side (the peer's backlog, netdev_max_backlog = 1000, and a libpcap reader's ring of ~256
// frames); 50 kframes/s per port is 50× the scenarios' busiest stream (1000/s multicast,
// 1000/s probe) and well under what a veth peer absorbs. A port sends at most what the
// switch receives, so the bucket only bites when the input is faster than the rate.
//
// Ingress is the tighter limit: libpcap's ring (PcapPort: one 64 KiB slot per frame, ~256
// frames in the default 16 MiB) overflows when a burst arrives faster than this process
// handles frames. Measured on a veth (2 vCPUs): 5000 frames sent at ~57 kframes/s, the
// interface counted all 5000, the switch was handed 1624–1730 with 16 MiB and all 5000 with
// --pcap-buffer-mib 256. Raise it for ports that take bursts (it is kernel memory per port).

import type { Redis } from 'ioredis';
import { EdgeSwitch, type PortRole } from '../../switch/edge-switch.js';
import { RedisEventSink, streamSwitchLog } from '../control/event-stream.js';
import { PcapPort } from '../runtime/pcap-port.js';
import { seededRandom, wallClock } from '../runtime/wall-clock.js';
import { ComponentLifecycle, StartupSignals } from '../runtime/lifecycle.js';
import { isEntryPoint, numberArg, UsageError, withTimeout, parseOptions, runMain } from '../runtime/process-kit.js';

export { UsageError };
import { hash32 } from '../../model/random.js';
import { ConfigError, connectRedis, edgeSwitchConfig, quitRedis, rateLimitedStderr, RedisBus, RUN_ID_RE } from '../control/redis-bus.js';

// ------------------------------------------------------------------------------------------
// pacing

export interface PaceOptions {
  /** sustained frames per second */
  rateFps: number;
  /** frames that may go back to back (the bucket's depth) */
  burst: number;
  /** frames each queue (control, data) holds before tail drop */
  queueLimit: number;
}

export const PACE_DEFAULTS: PaceOptions = { rateFps: 50_000, burst: 64, queueLimit: 4096 };

export interface PacerClock {
  /** ns, monotonic */
  now(): number;
  later(fn: () => void, ms: number): { cancel(): void };
}

const realPacerClock: PacerClock = {
  now: () => Number(process.hrtime.bigint()),
  later(fn, ms) {
    const h = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(h) };
  },
};

/** Link-local control: a destination in 01:80:c2:00:00:00–0f (ECP/VDP, LLDP, …). */
export function isControlFrame(f: Uint8Array): boolean {
  return f.length >= 6 && f[0] === 0x01 && f[1] === 0x80 && f[2] === 0xc2 && f[3] === 0 && f[4] === 0 && (f[5]! & 0xf0) === 0;
}

/** A FIFO without Array.shift's O(n). */
class FrameQueue {
  private items: (Uint8Array | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(f: Uint8Array): void {
    this.items.push(f);
  }

  shift(): Uint8Array | undefined {
    if (this.head >= this.items.length) return undefined;
    const f = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }

  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }
}

export interface PaceStats {
  /** frames handed to the port */
  sent: number;
  /** … of which went out at once */
  immediate: number;
  /** … of which waited in a queue */
  delayed: number;
  /** data frames dropped: queue full, or still queued at close */
  dropped: number;
  controlDropped: number;
  /** the longest the two queues together have been */
  maxQueued: number;
  /** exceptions from the port's send (caught) */
  sendErrors: number;
}

/** One port's token bucket and queues (see the policy above). */
export class PortPacer {
  readonly stats: PaceStats = { sent: 0, immediate: 0, delayed: 0, dropped: 0, controlDropped: 0, maxQueued: 0, sendErrors: 0 };
  private readonly opts: PaceOptions;
  private tokens: number;
  private last: number;
  private readonly control = new FrameQueue();
  private readonly data = new FrameQueue();
  private timer: { cancel(): void } | null = null;
  private closed = false;

  constructor(private readonly out: (frame: Uint8Array) => void, options: Partial<PaceOptions> = {}, private readonly clock: PacerClock = realPacerClock) {
    this.opts = { ...PACE_DEFAULTS, ...options };
    if (!(this.opts.rateFps > 0) || !(this.opts.burst >= 1) || !(this.opts.queueLimit >= 0)) {
      throw new RangeError(`pacing: rate > 0, burst ≥ 1, queue ≥ 0 expected, got ${JSON.stringify(this.opts)}`);
    }
    this.tokens = this.opts.burst;
    this.last = clock.now();
  }

  get queued(): number {
    return this.control.length + this.data.length;
  }

  send(frame: Uint8Array): void {
    if (this.closed) {
      if (isControlFrame(frame)) this.stats.controlDropped++;
      else this.stats.dropped++;
      return;
    }
    if (this.queued === 0) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.stats.immediate++;
        this.emit(frame);
        return;
      }
    }
    const control = isControlFrame(frame);
    const q = control ? this.control : this.data;
    if (q.length >= this.opts.queueLimit) {
      if (control) this.stats.controlDropped++;
      else this.stats.dropped++;
      return;
    }
    q.push(frame);
    this.stats.delayed++;
    if (this.queued > this.stats.maxQueued) this.stats.maxQueued = this.queued;
    this.arm();
  }

  /** Stop: what is still queued is dropped (and counted). Returns how many frames that was. */
  close(): number {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    const c = this.control.clear();
    const d = this.data.clear();
    this.stats.controlDropped += c;
    this.stats.dropped += d;
    return c + d;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.last) * this.opts.rateFps) / 1e9);
    this.last = now;
  }

  private drain(): void {
    this.timer = null;
    this.refill();
    while (this.tokens >= 1 && this.queued > 0) {
      const f = this.control.length > 0 ? this.control.shift()! : this.data.shift()!;
      this.tokens -= 1;
      this.emit(f);
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null || this.closed || this.queued === 0) return;
    const waitNs = ((1 - this.tokens) * 1e9) / this.opts.rateFps;
    this.timer = this.clock.later(() => this.drain(), Math.max(1, Math.ceil(waitNs / 1e6)));
  }

  private emit(f: Uint8Array): void {
    try {
      this.out(f);
      this.stats.sent++;
    } catch {
      this.stats.sendErrors++;
    }
  }
}

// ------------------------------------------------------------------------------------------
// arguments

export interface PortSpec {
  name: string;
  role: PortRole;
  ifname: string;
}

export interface RunnerArgs {
  redis: string;
  run: string;
  ports: PortSpec[];
  flushMs: number;
  pace: PaceOptions;
  configWaitMs: number;
  /** libpcap's receive ring per port, bytes (null: PcapPort's default, 16 MiB) */
  pcapBufferBytes: number | null;
  /** when the IGMP querier starts: `start` one interval after start-up, `control` at a querier-start message */
  querier: 'start' | 'control';
}

const ROLES: readonly PortRole[] = ['host', 'dhcp-server', 'mrouter', 'access'];

export const USAGE = `usage: node dist/hosts/switch/main.js --redis HOST:PORT --run ID --port NAME:ROLE:IFNAME [--port …]
    [--flush-ms 2] [--pace-rate 50000] [--pace-burst 64] [--pace-queue 4096] [--config-wait-ms 30000]
    [--pcap-buffer-mib 16] [--querier start|control]
  ROLE: ${ROLES.join(' | ')}`;

export function parseRunnerArgs(argv: string[]): RunnerArgs {
  const values = parseOptions(argv, {
    redis: { type: 'string' },
    run: { type: 'string' },
    port: { type: 'string', multiple: true },
    'flush-ms': { type: 'string' },
    'pace-rate': { type: 'string' },
    'pace-burst': { type: 'string' },
    'pace-queue': { type: 'string' },
    'config-wait-ms': { type: 'string' },
    'pcap-buffer-mib': { type: 'string' },
    querier: { type: 'string' },
  });
  if (!values.redis) throw new UsageError('--redis HOST:PORT is required');
  if (!values.run) throw new UsageError('--run ID is required');
  if (!RUN_ID_RE.test(values.run)) throw new UsageError(`--run ${values.run}: expected ${RUN_ID_RE.source}`);
  const ports: PortSpec[] = [];
  for (const text of values.port ?? []) {
    const parts = text.split(':');
    const [name, role, ifname] = parts;
    if (parts.length !== 3 || !name || !role || !ifname) throw new UsageError(`--port ${text}: expected NAME:ROLE:IFNAME`);
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(name)) throw new UsageError(`--port ${text}: name ${name}: letters, digits, . _ - (at most 32)`);
    if (!(ROLES as string[]).includes(role)) throw new UsageError(`--port ${text}: role ${role}: expected one of ${ROLES.join(', ')}`);
    if (!/^[^/\s]{1,15}$/.test(ifname)) throw new UsageError(`--port ${text}: interface ${ifname}: at most 15 characters, no / or spaces`);
    if (ports.some((p) => p.name === name)) throw new UsageError(`--port ${text}: port name ${name} given twice`);
    if (ports.some((p) => p.ifname === ifname)) throw new UsageError(`--port ${text}: interface ${ifname} given twice`);
    ports.push({ name, role: role as PortRole, ifname });
  }
  if (ports.length === 0) throw new UsageError('at least one --port NAME:ROLE:IFNAME is required');
  const querier = values.querier ?? 'start';
  if (querier !== 'start' && querier !== 'control') throw new UsageError(`--querier ${querier}: expected start or control`);
  return {
    redis: values.redis,
    run: values.run,
    ports,
    flushMs: numberArg(values['flush-ms'], 'flush-ms', 2, { min: 0 }),
    pace: {
      rateFps: numberArg(values['pace-rate'], 'pace-rate', PACE_DEFAULTS.rateFps, { min: 1 }),
      burst: numberArg(values['pace-burst'], 'pace-burst', PACE_DEFAULTS.burst, { min: 1 }),
      queueLimit: numberArg(values['pace-queue'], 'pace-queue', PACE_DEFAULTS.queueLimit, { min: 0 }),
    },
    configWaitMs: numberArg(values['config-wait-ms'], 'config-wait-ms', 30_000, { min: 0 }),
    pcapBufferBytes: values['pcap-buffer-mib'] === undefined ? null : Math.round(numberArg(values['pcap-buffer-mib'], 'pcap-buffer-mib', 16, { min: 1 }) * 1024 * 1024),
    querier,
  };
}

// ------------------------------------------------------------------------------------------
// the process

interface OpenPort {
  spec: PortSpec;
  id: number;
  pcap: PcapPort;
  pacer: PortPacer;
}

/** A querier-start origin further ahead than this is refused: a run's time 0 is now, not later. */
const QUERIER_ORIGIN_AHEAD_MAX_NS = 3_600_000_000_000n;

/** Counted faults the process survived. */
export interface RunnerStats {
  receiveErrors: number;
  controlInvalid: number;
  uncaught: number;
}

export const runnerStats: RunnerStats = { receiveErrors: 0, controlInvalid: 0, uncaught: 0 };

/**
 * Run the switch until it is stopped; resolves to the exit status. `onReady` is called once
 * it serves (tests; the process prints `ready` on stdout).
 */
export async function runSwitch(a: RunnerArgs, onReady: () => void = () => undefined): Promise<number> {
  const say = (msg: string) => process.stderr.write(`migsim switch [${a.run}]: ${msg}\n`);
  const redis = connectRedis(a.redis, { name: `migsim:${a.run}:switch`, onError: rateLimitedStderr(`migsim switch [${a.run}]: redis ${a.redis}`) });
  const bus = new RedisBus(redis, a.run);

  // a signal before the switch runs: stop waiting, nothing to flush
  const signals = new StartupSignals();
  const { aborted, unlisten } = signals;

  // configuration
  let types;
  let cfg;
  try {
    const loaded = await Promise.race([aborted, (async () => {
      const c = await withTimeout(bus.waitForSwitchConfig(a.configWaitMs), a.configWaitMs + 5000, `redis ${a.redis}`);
      return { cfg: c, types: c === null ? null : await withTimeout(bus.loadVsiTypeDb(), 5000, `redis ${a.redis}`) };
    })()]);
    if ('aborted' in loaded) {
      say(`stopped (${loaded.aborted}) before the switch started`);
      unlisten();
      await quitRedis(redis);
      return 0;
    }
    cfg = loaded.cfg;
    types = loaded.types;
    if (cfg === null || types === null) {
      say(`no switch config at ${bus.keys.switchConfig} after ${a.configWaitMs} ms`);
      unlisten();
      await quitRedis(redis);
      return 2;
    }
  } catch (e) {
    unlisten();
    say((e as Error).message);
    await quitRedis(redis);
    return e instanceof ConfigError ? 2 : 1;
  }

  const sinkError = rateLimitedStderr(`migsim switch [${a.run}]: event stream`);
  const sink = new RedisEventSink(redis, a.run, 'switch', { flushIntervalMs: a.flushMs, onError: sinkError });
  let sw: EdgeSwitch;
  try {
    sw = new EdgeSwitch(edgeSwitchConfig(cfg), wallClock, seededRandom(hash32(a.run)), types);
  } catch (e) {
    say(`switch config: ${(e as Error).message}`);
    unlisten();
    await quitRedis(redis);
    return 2;
  }
  const unwrap = streamSwitchLog(sw.log, sink);

  // ports
  const receiveError = rateLimitedStderr(`migsim switch [${a.run}]: frame`);
  const ports: OpenPort[] = [];
  try {
    for (const spec of a.ports) {
      const pcap = PcapPort.open(spec.ifname, a.pcapBufferBytes === null ? {} : { bufferBytes: a.pcapBufferBytes });
      const pacer = new PortPacer((f) => pcap.send(f), a.pace);
      const id = sw.addPort(spec.name, spec.role, (f) => pacer.send(f), cfg.pvid);
      const port: OpenPort = { spec, id, pcap, pacer };
      ports.push(port);
      pcap.onFrame((frame) => {
        try {
          sw.receive(id, frame);
        } catch (e) {
          runnerStats.receiveErrors++;
          receiveError(new Error(`on ${spec.name}: ${(e as Error).stack ?? String(e)}`));
        }
      });
    }
  } catch (e) {
    say((e as Error).message);
    for (const p of ports) p.pcap.close();
    unwrap();
    unlisten();
    await sink.close();
    await quitRedis(redis);
    return 1;
  }

  const snapshot = () => ({
    pid: process.pid,
    counters: { ...sw.counters },
    /** events the switch's log holds (each was streamed) */
    logged: sw.log.events.length,
    malformedCount: sw.log.malformedCount,
    sourceGuardDropsLogged: [...sw.log.sourceGuardDrops.values()].reduce((n, ts) => n + ts.length, 0),
    ports: ports.map((p) => {
      const sp = sw.port(p.id)!;
      return {
        name: p.spec.name, role: p.spec.role, ifname: p.spec.ifname, rx: sp.rx, tx: sp.tx,
        pcap: { ...p.pcap.stats }, pace: { ...p.pacer.stats, queued: p.pacer.queued }, ecp: sp.ecp ? { ...sp.ecp.stats } : null,
      };
    }),
    runner: { ...runnerStats },
    sink: { ...sink.stats, pending: sink.pending },
  });

  // stopping
  const life = new ComponentLifecycle({
    say,
    redis,
    sink,
    clearReady: () => bus.clearSwitchReady(),
    unlisten,
    teardown: async (reason) => {
      for (const p of ports) p.pcap.close();
      sw.stop();
      for (const p of ports) p.pacer.close();
      // nothing the switch logs from now on (a timer firing) goes to the stream
      const final = snapshot();
      unwrap();
      sink.emit({ t: process.hrtime.bigint(), kind: 'switch-stopped', reason, ...final });
    },
  });
  const stop = (reason: string): void => life.stop(reason);
  signals.handOver(stop);

  // control
  const controlInvalid = rateLimitedStderr(`migsim switch [${a.run}]: control message`);
  const over = await life.subscribe(
    () =>
      bus.subscribeControl(
        (msg) => {
          if (msg.to !== undefined && msg.to !== 'switch') return;
          if (life.stopped) return;
          if (msg.type === 'stop') stop('control');
          else if (msg.type === 'stats') sink.emit({ t: process.hrtime.bigint(), kind: 'switch-stats', ...snapshot() });
          else if (msg.type === 'querier-start') {
            const origin = typeof msg.originNs === 'string' && /^\d{1,20}$/.test(msg.originNs) ? BigInt(msg.originNs) : null;
            const why =
              origin === null
                ? 'is not a decimal CLOCK_MONOTONIC ns string'
                : origin > process.hrtime.bigint() + QUERIER_ORIGIN_AHEAD_MAX_NS
                  ? 'is more than an hour ahead of now'
                  : null;
            if (why !== null || origin === null) {
              runnerStats.controlInvalid++;
              controlInvalid(new Error(`querier-start: originNs ${JSON.stringify(msg.originNs)} ${why}`));
              return;
            }
            const firstQueryNs = origin + BigInt(Math.round(cfg.igmpQueryIntervalNs));
            sw.start(Number(firstQueryNs));
            sink.emit({ t: process.hrtime.bigint(), kind: 'querier-started', originNs: origin, firstQueryNs });
          }
        },
        (raw, reason) => {
          runnerStats.controlInvalid++;
          controlInvalid(new Error(`${reason}: ${raw.slice(0, 200)}`));
        },
      ),
    `SUBSCRIBE ${bus.keys.control}`,
  );
  if (over !== null) return over;
  if (a.querier === 'start') sw.start();

  // ready
  const t = process.hrtime.bigint();
  const portsInfo = ports.map((p) => ({ name: p.spec.name, role: p.spec.role, ifname: p.spec.ifname }));
  return life.ready(
    'switch-ready',
    () => sink.emit({ t, kind: 'switch-ready', pid: process.pid, ports: portsInfo }),
    () => bus.markSwitchReady({ pid: process.pid, t: t.toString(), ports: portsInfo }),
    onReady,
  );
}

if (isEntryPoint(import.meta.url)) {
  void runMain(parseRunnerArgs, USAGE, (a) => runSwitch(a, () => process.stdout.write('ready\n')), { label: (a) => `migsim switch [${a.run}]`, stats: runnerStats });
}
