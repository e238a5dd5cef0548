// What TCP does to the migration stream when its path fails, as Linux does it: a stalled
// segment is retransmitted on an exponential backoff from the minimum RTO, the stream moves
// again at the first retransmission after the path is back, and the connection breaks after
// tcp_retries2 retransmissions. Under loss, a flow's rate is held to the Mathis bound.
// The numbers and their sources: docs/faults.md ("The sim's model").

import type { Ns } from '../model/time.js';

/** Linux TCP_RTO_MIN (200 ms): the RTO of a LAN connection, whose RTT is far below it. */
export const RTO_MIN_NS = 200e6;
/** Linux TCP_RTO_MAX (120 s): the backoff's ceiling. */
export const RTO_MAX_NS = 120e9;
/** Linux net.ipv4.tcp_retries2 default: retransmissions before the connection is dropped. */
export const TCP_RETRIES2 = 15;
/** A full-size segment's payload on a 1500-byte MTU with timestamps. */
export const MSS_BYTES = 1448;

/** The RTO before retransmission `k` (0-based): 200 ms doubling, capped at 120 s. */
function rto(k: number): Ns {
  return Math.min(RTO_MIN_NS * 2 ** k, RTO_MAX_NS);
}

/** How long after a stall begins TCP gives up: the sum of the first tcp_retries2 + 1 RTOs (924.6 s). */
export const TCP_GIVE_UP_NS: Ns = Array.from({ length: TCP_RETRIES2 + 1 }, (_, k) => rto(k)).reduce((a, b) => a + b, 0);

/**
 * The first retransmission, counted from the stall's start, at or after `elapsedNs` (when the
 * path came back); null when TCP gives up before then.
 */
export function resumeAfterStall(elapsedNs: Ns): Ns | null {
  let t = 0;
  for (let k = 0; k < TCP_RETRIES2; k++) {
    t += rto(k);
    if (t >= elapsedNs) return t;
  }
  return null;
}

/**
 * The Mathis et al. bound on one TCP flow's rate under random loss `p`: MSS/RTT × √(3/2)/√p.
 * Infinity without loss or without a round-trip time to bound it.
 */
export function mathisBps(loss: number, rttNs: Ns): number {
  if (!(loss > 0) || !(rttNs > 0)) return Infinity;
  return ((MSS_BYTES * 8) / (rttNs / 1e9)) * Math.sqrt(1.5 / loss);
}
