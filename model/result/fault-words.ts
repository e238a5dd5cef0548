// The words of the scenario faults in a result: the reasons a migration is given up with
// (`error`) and the one-line effects of `faults`. Both engines use them (sim/faults.ts,
// sim/migration.ts, testbed/run-faults.ts), so their results read alike. docs/faults.md.

import type { FaultSpec, MigrationSpec } from '../scenario/types.js';
import { formatDuration } from '../units.js';

/** Run-clock seconds as the sim writes them in reasons: `3s`, `2.5s`. */
export const secs = (ns: number): string => `${Math.round(ns / 1e6) / 1000}s`;

/** Why a migration's own timeout gave it up. */
export function timeoutReason(m: MigrationSpec): string {
  return `timed out: not done ${m.timeoutNs! / 1e9}s after its start (migrations[${m.index}].timeout)`;
}

export function cancelReason(f: FaultSpec): string {
  return `cancelled at ${secs(f.atNs)} (scenario fault)`;
}

/** Why the source gave up on a crashed destination: its keepalive went unanswered. */
export function crashDetectReason(host: string, crashNs: number, detectNs: number): string {
  return `the destination ${host} crashed at ${secs(crashNs)}; the source gave up on it ${formatDuration(detectNs)} later (keepalive)`;
}

/** Why a migration lost its VM with its source: `postcopy` once the destination ran it (the pages not pulled were only there). */
export function sourceCrashReason(host: string, crashNs: number, postcopy = false): string {
  return postcopy
    ? `the source ${host} crashed at ${secs(crashNs)} during post-copy: the pages not yet pulled were only there`
    : `the source ${host} crashed at ${secs(crashNs)} with the VM running there`;
}

/** Why a migration lost its VM with its destination, which ran it already. */
export function destinationCrashReason(host: string, crashNs: number): string {
  return `the destination ${host} crashed at ${secs(crashNs)} while the VM ran there`;
}

/** A fault on a host that a crash already took: nothing to do. */
export function alreadyDownEffect(host: string): string {
  return `no effect: ${host} is already down`;
}

export function cancelEffect(vm: string, m: { to: string; from: string } | null, accepted: boolean, why: string | null): string {
  if (!m) return `no effect: ${vm} was not migrating`;
  if (accepted) return `${vm}'s migration to ${m.to} cancelled: the VM stays on ${m.from}`;
  return `refused: ${vm} already runs on ${m.to}${why ? ` (${why})` : ''}`;
}

export function crashEffect(host: string, detectNs: number, reverting: string[], lost: string[]): string {
  const parts = [`${host} stopped for good`];
  for (const vm of reverting) parts.push(`${vm}'s migration reverts when the keepalive gives up (${formatDuration(detectNs)})`);
  if (lost.length > 0) parts.push(`lost: ${lost.join(', ')}`);
  return parts.join('; ');
}

export function linkDownEffect(host: string, forNs: number): string {
  return `${host}'s migration NIC carries nothing for ${formatDuration(forNs)}`;
}

export function linkDegradeEffect(host: string, bandwidthBps: number | null, loss: number, forNs: number): string {
  const what = [bandwidthBps === null ? null : `${bandwidthBps / 1e6} Mbit/s`, loss > 0 ? `${loss * 100}% loss` : null].filter(Boolean).join(', ');
  return `${host}'s migration NIC runs at ${what} for ${formatDuration(forNs)}`;
}

export function dhcpDownEffect(forNs: number): string {
  return `the DHCP server answers nothing for ${formatDuration(forNs)}`;
}

export function switchRestartEffect(downForNs: number, persistent: boolean): string {
  return `the switch lost its state and was gone for ${formatDuration(downForNs)}${persistent ? '; bindings restored from its database' : ''}`;
}

export function spoofEffect(host: string, vm: string, t: { id: number; version: number }): string {
  return `a station on ${host} associated ${vm}'s MAC with the M-bit under VSI type ${t.id}/${t.version}`;
}
