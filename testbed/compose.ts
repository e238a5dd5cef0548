// docker-compose.yml → typed ServiceSpecs: every container's image, capabilities, mounts,
// labels, command and networks, for the orchestrator to create through the Docker API.
// Which compose keys it honours: docs/testbed-wiring.md ("Containers").

import { ComposeError } from './errors.js';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { repoRoot } from './image.js';

export interface Mount {
  /** absolute host path */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ServiceSpec {
  /** the service's key in docker-compose.yml: redis, switch, host, vm, dhcp, msource, probe */
  role: string;
  /** as written (`migsim/base`: the orchestrator substitutes the built tag) */
  image: string;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  mounts: Mount[];
  labels: Record<string, string>;
  environment: string[];
  /** null: the image's CMD */
  command: string[] | null;
  /** `none`, or null when the service is on `networks` (or Docker's default) */
  networkMode: string | null;
  /** keys of the top-level `networks` */
  networks: string[];
}

export interface NetworkSpec {
  key: string;
  driver: string;
  internal: boolean;
  labels: Record<string, string>;
}

export interface ComposeFile {
  file: string;
  services: Map<string, ServiceSpec>;
  networks: Map<string, NetworkSpec>;
}

/** Every service the orchestrator instantiates. */
export const TESTBED_ROLES = ['redis', 'switch', 'host', 'vm', 'dhcp', 'msource', 'probe'] as const;
export type Role = (typeof TESTBED_ROLES)[number];

const SERVICE_KEYS = new Set([
  'image', 'cap_add', 'cap_drop', 'security_opt', 'volumes', 'labels', 'environment', 'command', 'network_mode', 'networks',
]);
const NETWORK_KEYS = new Set(['driver', 'internal', 'labels']);

export function defaultComposeFile(): string {
  return join(repoRoot(), 'docker-compose.yml');
}

export function loadCompose(file: string = defaultComposeFile()): ComposeFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ComposeError(file, [`cannot read: ${e instanceof Error ? e.message : String(e)}`]);
  }
  return parseCompose(text, file, dirname(resolve(file)));
}

/** Parses compose text; relative bind-mount sources are resolved against `baseDir`. */
export function parseCompose(text: string, file: string, baseDir: string): ComposeFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ComposeError(
      file,
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        // prettyErrors appends " at line L, column C:" and a source excerpt: keep our own prefix instead
        const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return `${at ? `line ${at.line}, column ${at.col}: ` : ''}${msg}`;
      }),
    );
  }
  if (!isMap(doc.contents)) throw new ComposeError(file, ['expected a mapping at the top (services:, networks:)']);
  const raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  const problems: string[] = [];
  const top = asRecord(raw, '', problems) ?? {};

  const networks = new Map<string, NetworkSpec>();
  const rawNetworks = top.networks === undefined ? {} : asRecord(top.networks, 'networks', problems) ?? {};
  for (const [key, value] of Object.entries(rawNetworks)) {
    const at = `networks.${key}`;
    const n = value === null ? {} : asRecord(value, at, problems);
    if (!n) continue;
    for (const k of Object.keys(n)) if (!NETWORK_KEYS.has(k) && !k.startsWith('x-')) problems.push(`${at}.${k}: not supported by the testbed (supported: ${[...NETWORK_KEYS].join(', ')})`);
    const internal = n.internal ?? false;
    if (typeof internal !== 'boolean') problems.push(`${at}.internal: expected true or false`);
    const driver = n.driver ?? 'bridge';
    if (typeof driver !== 'string') problems.push(`${at}.driver: expected a string`);
    networks.set(key, { key, driver: String(driver), internal: internal === true, labels: labelsOf(n.labels, `${at}.labels`, problems) });
  }

  const services = new Map<string, ServiceSpec>();
  const rawServices = asRecord(top.services, 'services', problems);
  for (const [role, value] of Object.entries(rawServices ?? {})) {
    const at = `services.${role}`;
    const s = asRecord(value, at, problems);
    if (!s) continue;
    for (const k of Object.keys(s)) {
      if (!SERVICE_KEYS.has(k) && !k.startsWith('x-')) problems.push(`${at}.${k}: not supported by the testbed (supported: ${[...SERVICE_KEYS].join(', ')})`);
    }
    if (typeof s.image !== 'string' || s.image === '') problems.push(`${at}.image: expected an image name such as migsim/base`);
    const labels = labelsOf(s.labels, `${at}.labels`, problems);
    if (labels.migsim !== '1') problems.push(`${at}.labels: must carry migsim: "1" (down finds containers by it)`);
    if (labels['migsim.role'] !== role) problems.push(`${at}.labels: must carry migsim.role: ${role}`);
    const networkMode = s.network_mode ?? null;
    if (networkMode !== null && typeof networkMode !== 'string') problems.push(`${at}.network_mode: expected a string such as none`);
    const nets = s.networks === undefined ? [] : networkKeys(s.networks, `${at}.networks`, problems);
    if (networkMode !== null && nets.length > 0) problems.push(`${at}: network_mode and networks exclude each other`);
    for (const n of nets) if (!networks.has(n)) problems.push(`${at}.networks: ${n} is not defined under the top-level networks`);
    services.set(role, {
      role,
      image: String(s.image ?? ''),
      capAdd: stringList(s.cap_add, `${at}.cap_add`, problems),
      capDrop: stringList(s.cap_drop, `${at}.cap_drop`, problems),
      securityOpt: stringList(s.security_opt, `${at}.security_opt`, problems),
      mounts: mountsOf(s.volumes, `${at}.volumes`, baseDir, problems),
      labels,
      environment: environmentOf(s.environment, `${at}.environment`, problems),
      command: commandOf(s.command, `${at}.command`, problems),
      networkMode: networkMode === null ? null : String(networkMode),
      networks: nets,
    });
  }
  if (rawServices) for (const role of TESTBED_ROLES) if (!services.has(role)) problems.push(`services.${role}: missing (the testbed needs ${TESTBED_ROLES.join(', ')})`);
  if (problems.length > 0) throw new ComposeError(file, problems);
  return { file, services, networks };
}

export function serviceOf(c: ComposeFile, role: Role): ServiceSpec {
  const s = c.services.get(role);
  if (!s) throw new ComposeError(c.file, [`services.${role}: missing`]);
  return s;
}

// ---- field parsers ------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function asRecord(v: unknown, at: string, problems: string[]): Record<string, unknown> | null {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  problems.push(`${at || 'top level'}: expected a mapping, got ${describe(v)}`);
  return null;
}

function scalarString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function stringList(v: unknown, at: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push(`${at}: expected a list, got ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    const s = scalarString(x);
    if (s === null) problems.push(`${at}[${i}]: expected a string, got ${describe(x)}`);
    else out.push(s);
  });
  return out;
}

/** `{k: v}` or `["k=v"]`. */
function labelsOf(v: unknown, at: string, problems: string[]): Record<string, string> {
  if (v === undefined) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const item of stringList(v, at, problems)) {
      const eq = item.indexOf('=');
      if (eq <= 0) problems.push(`${at}: expected KEY=VALUE, got ${JSON.stringify(item)}`);
      else out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }
  const rec = asRecord(v, at, problems);
  for (const [k, x] of Object.entries(rec ?? {})) {
    const s = scalarString(x);
    if (s === null) problems.push(`${at}.${k}: expected a string, got ${describe(x)}`);
    else out[k] = s;
  }
  return out;
}

function environmentOf(v: unknown, at: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return stringList(v, at, problems);
  return Object.entries(labelsOf(v, at, problems)).map(([k, x]) => `${k}=${x}`);
}

function networkKeys(v: unknown, at: string, problems: string[]): string[] {
  if (Array.isArray(v)) return stringList(v, at, problems);
  const rec = asRecord(v, at, problems);
  return rec ? Object.keys(rec) : [];
}

/** A list, or a string split like a shell would split words (quotes, no expansion). */
function commandOf(v: unknown, at: string, problems: string[]): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return stringList(v, at, problems);
  if (typeof v !== 'string') {
    problems.push(`${at}: expected a list or a string, got ${describe(v)}`);
    return null;
  }
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of v.matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

/** Bind mounts only: `SRC:DST[:ro|rw]` or `{type: bind, source, target, read_only}`. */
function mountsOf(v: unknown, at: string, baseDir: string, problems: string[]): Mount[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push(`${at}: expected a list, got ${describe(v)}`);
    return [];
  }
  const out: Mount[] = [];
  const hostPath = (src: string, where: string): string | null => {
    if (src.startsWith('.') || src.startsWith('/') || src.startsWith('~')) {
      return src.startsWith('~') ? join(process.env.HOME ?? '/root', src.slice(1)) : isAbsolute(src) ? src : resolve(baseDir, src);
    }
    problems.push(`${where}: ${JSON.stringify(src)} is a named volume; the testbed supports bind mounts (a path starting with ., / or ~)`);
    return null;
  };
  v.forEach((item, i) => {
    const where = `${at}[${i}]`;
    if (typeof item === 'string') {
      const parts = item.split(':');
      if (parts.length < 2 || parts.length > 3 || !parts[1]!.startsWith('/')) {
        problems.push(`${where}: expected SOURCE:/TARGET[:ro], got ${JSON.stringify(item)}`);
        return;
      }
      const mode = parts[2] ?? 'rw';
      if (!/^(ro|rw)$/.test(mode)) problems.push(`${where}: mode ${JSON.stringify(mode)}: expected ro or rw`);
      const source = hostPath(parts[0]!, where);
      if (source !== null) out.push({ source, target: parts[1]!, readOnly: mode === 'ro' });
      return;
    }
    const rec = asRecord(item, where, problems);
    if (!rec) return;
    if ((rec.type ?? 'bind') !== 'bind') problems.push(`${where}.type: only bind mounts are supported`);
    if (typeof rec.source !== 'string' || typeof rec.target !== 'string' || !rec.target.startsWith('/')) {
      problems.push(`${where}: expected source and an absolute target`);
      return;
    }
    const source = hostPath(rec.source, where);
    if (source !== null) out.push({ source, target: rec.target, readOnly: rec.read_only === true });
  });
  return out;
}
