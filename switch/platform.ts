// What an engine plugs into the switch and the stations besides a clock (model/time.ts): a
// way to put a frame on a port. The sim plugs in simulated links; the testbed, libpcap
// ports. Nothing here imports an engine.

/** Sends one Ethernet frame out of a port. */
export type FrameSink = (frame: Uint8Array) => void;
