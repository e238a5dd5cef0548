// The edge switch as a testbed process: one EdgeSwitch on real interfaces (libpcap), with its
// configuration and VSI type DB from Redis and every event it logs streamed to the run's
// Redis stream. Its options, start-up, shutdown and exit statuses: docs/switch-process.md;
// its Redis keys and control messages: docs/control-protocol.md.

import { hash32, Random } from '../../model/random.js';
import { EdgeSwitch } from '../../switch/edge-switch.js';
import { RedisEventSink, streamSwitchLog } from '../control/event-stream.js';
import { ComponentLifecycle, StartupSignals } from '../control/lifecycle.js';
import { QuerierStartMsgSchema } from '../control/messages.js';
import { ConfigError, connectRedis, edgeSwitchConfig, quitRedis, RedisBus } from '../control/redis-bus.js';
import { isEntryPoint, rateLimitedStderr, runMain, withTimeout } from '../runtime/process-kit.js';
import { PcapPort } from '../runtime/pcap-port.js';
import { wallClock } from '../runtime/wall-clock.js';
import { parseRunnerArgs, type PortSpec, type RunnerArgs, USAGE } from './args.js';
import { PortPacer } from './pacer.js';
import { PortWatch, type DownReason } from './port-watch.js';
import { RedisBindingStore } from './redis-binding-store.js';

interface OpenPort {
  spec: PortSpec;
  id: number;
  pcap: PcapPort;
  pacer: PortPacer;
  /** why the port is down (its link vanished, was replaced, is not up), null while it is up */
  down: DownReason | null;
  /** frames the switch sent to the port while it was down (dropped) */
  downDrops: number;
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
  // the snooping database (bindingDatabase: persistent) is read before the switch is built: it reads it synchronously
  let store: RedisBindingStore | null = null;
  if (a.bindingDatabase === 'redis') {
    try {
      store = await withTimeout(RedisBindingStore.open(redis, a.run, rateLimitedStderr(`migsim switch [${a.run}]: binding database`)), 5000, `redis ${a.redis}`);
    } catch (e) {
      say(`binding database: ${(e as Error).message}`);
      unlisten();
      await sink.close();
      await quitRedis(redis);
      return 1;
    }
  }
  let sw: EdgeSwitch;
  try {
    sw = new EdgeSwitch({ ...edgeSwitchConfig(cfg), dhcpRebindFallback: a.dhcpRebindFallback, ...(store ? { bindingStore: store } : {}) }, wallClock, new Random(hash32(a.run)), types);
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
      // a port that is down takes nothing: what the switch sends it is dropped and counted
      const id = sw.addPort(spec.name, spec.role, (f) => (port.down === null ? pacer.send(f) : void port.downDrops++), cfg.pvid);
      const port: OpenPort = { spec, id, pcap, pacer, down: null, downDrops: 0 };
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

  // a restarted switch places again every stored binding whose lease has not run out (a binding-restored event each)
  if (store) sink.emit({ t: process.hrtime.bigint(), kind: 'bindings-restored', count: sw.restoreBindings(), stored: store.load().length, skipped: store.skipped });

  const snapshot = () => ({
    pid: process.pid,
    counters: { ...sw.counters },
    /** events the switch's log holds (each was streamed) */
    logged: sw.log.events.length,
    malformedCount: sw.log.malformedCount,
    sourceGuardDropsLogged: sw.log.sourceGuardDropsRecorded,
    ports: ports.map((p) => {
      const sp = sw.port(p.id)!;
      return {
        name: p.spec.name, role: p.spec.role, ifname: p.spec.ifname, rx: sp.rx, tx: sp.tx,
        down: p.down, downDrops: p.downDrops, pcap: { ...p.pcap.stats }, pace: { ...p.pacer.stats, queued: p.pacer.queued }, ecp: sp.ecp ? { ...sp.ecp.stats } : null,
      };
    }),
    runner: { ...runnerStats },
    bindingStore: store ? { errors: store.errors } : null,
    sink: { ...sink.stats, pending: sink.pending },
  });

  // links: a port whose link goes away is marked down (an event, one stderr line), the rest serve on
  const watched = ports.filter((p) => p.spec.link !== null);
  const watch = new PortWatch(watched.map((p) => ({ name: p.spec.name, link: p.spec.link! })), (w, reason) => {
    const p = watched.find((x) => x.spec.name === w.name)!;
    p.down = reason;
    const fields = { port: p.spec.name, ifname: p.spec.ifname, link: w.link };
    if (reason === null) {
      say(`port ${p.spec.name}: its link ${w.link} is up again`);
      sink.emit({ t: process.hrtime.bigint(), kind: 'port-up', ...fields });
    } else {
      say(`port ${p.spec.name}: its link ${w.link} ${reason === 'down' ? 'is down' : reason}: port marked down, the other ports serve on`);
      sink.emit({ t: process.hrtime.bigint(), kind: 'port-down', ...fields, reason });
    }
  });

  // stopping
  const life = new ComponentLifecycle({
    say,
    redis,
    sink,
    clearReady: () => bus.clearSwitchReady(),
    unlisten,
    teardown: async (reason) => {
      watch.stop();
      for (const p of ports) p.pcap.close();
      sw.stop();
      for (const p of ports) p.pacer.close();
      if (store) await withTimeout(store.flushed(), 5000, 'the binding database').catch((e: unknown) => say(String(e)));
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
            const parsed = QuerierStartMsgSchema.safeParse(msg);
            const origin = parsed.success ? BigInt(parsed.data.originNs) : null;
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
