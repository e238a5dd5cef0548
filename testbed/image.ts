// migsim/base: building (once, reused by content hash) the one image every testbed
// container runs. Recipe, tag and mirror: docs/testbed-wiring.md "The base image".

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

export const IMAGE_REPO = 'migsim/base';
/** Bump when the recipe below changes the rootfs in a way packages.txt does not show. */
export const RECIPE_VERSION = 1;
const DEFAULT_SUITE = 'bookworm';
const WORK_PARENT = '/var/tmp';
const LOCK_FILE = '/var/tmp/migsim-image.lock';

export type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`migsim: image: ${line}\n`);

export interface EnsureImageOptions {
  docker?: Docker;
  log?: Log;
  /** packages.txt to use (default: testbed/image-packages.txt of this checkout) */
  packagesFile?: string;
}

// ---- inputs -------------------------------------------------------------------------

/** The checkout's root: the nearest directory above this file with migsim's package.json. */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'migsim') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find migsim's package.json above ${from}`);
    dir = up;
  }
}

export function defaultPackagesFile(): string {
  return join(repoRoot(), 'testbed', 'image-packages.txt');
}

/** packages.txt: one Debian package a line, `#` comments. */
export function parsePackages(text: string, file = 'packages.txt'): string[] {
  const names: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(line)) {
      throw new Error(`${file}:${i + 1}: not a Debian package name: ${JSON.stringify(line)}`);
    }
    names.push(line);
  });
  if (names.length === 0) throw new Error(`${file}: lists no package`);
  return names;
}

/** The host's Debian codename (the copied Node binary needs a matching glibc), else bookworm. */
export function hostSuite(osRelease = '/etc/os-release'): string {
  try {
    const m = /^VERSION_CODENAME=["']?([a-z]+)["']?$/m.exec(readFileSync(osRelease, 'utf8'));
    const id = /^ID=["']?([a-z]+)["']?$/m.exec(readFileSync(osRelease, 'utf8'));
    if (m?.[1] && id?.[1] === 'debian') return m[1];
  } catch {
    // no os-release: fall through
  }
  return DEFAULT_SUITE;
}

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

/** deb822 (`*.sources`): stanzas separated by blank lines, `Key: value` fields, `#` comments. */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | null = null;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last !== null) {
        fields.set(last, `${fields.get(last) ?? ''} ${raw.trim()}`); // continuation line
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (words('uris').length === 0) continue;
    out.push({ types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') });
  }
  return out;
}

/** One-line format (`sources.list`, `*.list`): `deb [opts] URI SUITE COMPONENT...`. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    out.push({ types: [m[1]!], uris: [m[2]!], suites: [m[3]!], components: m[4]!.trim().split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** Every apt source configured on the host, in apt's reading order. */
export function hostAptSources(etcApt = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = [];
  const main = join(etcApt, 'sources.list');
  if (existsSync(main)) sources.push(...parseOneLine(readFileSync(main, 'utf8')));
  const dir = join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (f.endsWith('.list')) sources.push(...parseOneLine(readFileSync(p, 'utf8')));
      else if (f.endsWith('.sources')) sources.push(...parseDeb822(readFileSync(p, 'utf8')));
    }
  }
  return sources;
}

/** The mirror debootstrap should use: a `deb` source serving exactly `suite`, http(s) or file. */
export function pickMirror(sources: AptSource[], suite: string): string {
  for (const s of sources) {
    if (!s.types.includes('deb') || !s.suites.includes(suite)) continue;
    const uri = s.uris.find((u) => /^(https?|file):\/\//.test(u));
    if (uri) return uri;
  }
  const seen = sources.map((s) => `${s.uris.join(',')} ${s.suites.join(',')}`).join('; ') || 'none';
  throw new Error(`no apt source for suite ${suite} in the host's apt configuration (found: ${seen})`);
}

/** The content hash that names the image. */
export function imageHash(packagesText: string, suite: string, nodeVersion: string): string {
  const h = createHash('sha256');
  for (const part of [`recipe ${RECIPE_VERSION}`, packagesText, suite, nodeVersion]) {
    h.update(part);
    h.update('\0');
  }
  return h.digest('hex');
}

export function imageTag(packagesFile = defaultPackagesFile(), suite = hostSuite()): string {
  return `${IMAGE_REPO}:${imageHash(readFileSync(packagesFile, 'utf8'), suite, process.version).slice(0, 16)}`;
}

// ---- build --------------------------------------------------------------------------

/** Is the image tagged `tag` present in the engine? */
async function hasImage(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/**
 * The tag of migsim/base for this checkout and host, building it first if absent.
 * Concurrent callers on one machine serialize on a lock file; the second one reuses the image.
 */
export async function ensureImage(opts: EnsureImageOptions = {}): Promise<string> {
  const docker = opts.docker ?? new Docker();
  const log = opts.log ?? stderrLog;
  const packagesFile = opts.packagesFile ?? defaultPackagesFile();
  const suite = hostSuite();
  const tag = imageTag(packagesFile, suite);
  if (await hasImage(docker, tag)) return tag;
  const release = await lock(log);
  try {
    if (await hasImage(docker, tag)) return tag; // built by whoever held the lock
    const packages = parsePackages(readFileSync(packagesFile, 'utf8'), packagesFile);
    await build(docker, tag, suite, packages, log);
    return tag;
  } finally {
    release();
  }
}

async function build(docker: Docker, tag: string, suite: string, packages: string[], log: Log): Promise<void> {
  const t0 = Date.now();
  const mirror = pickMirror(hostAptSources(), suite);
  const work = mkdtempSync(join(WORK_PARENT, 'migsim-image-'));
  const rootfs = join(work, 'rootfs');
  log(`building ${tag}: debootstrap ${suite} (minbase + ${packages.length} packages) from ${mirror} into ${rootfs}`);
  try {
    await runLogged('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, suite, rootfs, mirror], log);
    log(`debootstrap done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    finishRootfs(rootfs, log);
    log('importing the rootfs (tar | docker import)');
    await importRootfs(docker, rootfs, tag);
    if (!(await hasImage(docker, tag))) throw new Error(`docker import finished but ${tag} is not there`);
    log(`built ${tag} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    removeWorkDir(work, log);
  }
}

/** Node, the libpcap dev symlink, and no apt caches or docs. */
function finishRootfs(rootfs: string, log: Log): void {
  const node = join(rootfs, 'usr/local/bin/node');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  log(`copied ${process.execPath} (${process.version}) to /usr/local/bin/node`);

  // The `cap` binding (hosts/runtime/pcap-port.ts) dlopens the unversioned libpcap.so for
  // immediate mode; only libpcap-dev ships that name, and it pulls in a compiler's headers.
  for (const lib of ['usr/lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'usr/lib']) {
    const dir = join(rootfs, lib);
    if (existsSync(join(dir, 'libpcap.so.0.8')) && !existsSync(join(dir, 'libpcap.so'))) {
      symlinkSync('libpcap.so.0.8', join(dir, 'libpcap.so'));
      break;
    }
  }

  const emptyDir = (rel: string, keep: (name: string) => boolean = () => false) => {
    const dir = join(rootfs, rel);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (!keep(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
  };
  emptyDir('var/cache/apt/archives', (n) => n === 'partial' || n === 'lock');
  emptyDir('var/cache/apt', (n) => n === 'archives');
  emptyDir('var/lib/apt/lists', (n) => n === 'partial' || n === 'lock');
  emptyDir('var/log', () => false);
  for (const rel of ['usr/share/doc', 'usr/share/man', 'usr/share/info']) emptyDir(rel);
}

/** `tar -C rootfs -c .` streamed into the engine's image import, labelled migsim=1. */
async function importRootfs(docker: Docker, rootfs: string, tag: string): Promise<void> {
  const [repo, version] = tag.split(':') as [string, string];
  const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const tarDone = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? 1));
  });
  const changes = [
    'LABEL migsim=1',
    'LABEL migsim.role=base',
    `LABEL migsim.recipe=${RECIPE_VERSION}`,
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'CMD ["sleep", "infinity"]',
  ];
  const progress = await docker.importImage(tar.stdout, { repo, tag: version, changes });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(progress, (err: Error | null, out: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
      if (err) return reject(err);
      const bad = out.find((o) => o.error || o.errorDetail);
      if (bad) return reject(new Error(`docker import: ${bad.error ?? bad.errorDetail?.message}`));
      resolve();
    });
  });
  const code = await tarDone;
  if (code !== 0) throw new Error(`tar exited with status ${code}: ${tarErr.trim().slice(-2000)}`);
}

/** Runs a command, logging a progress line every 10 s and keeping its output's tail for errors. */
function runLogged(cmd: string, args: string[], log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const tail: string[] = [];
    const take = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setInterval(() => log(`${cmd}: ${tail[tail.length - 1] ?? 'running'}`), 10_000);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(new Error(`${cmd}: ${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (apt-get install debootstrap)' : ''}`));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with status ${code}; its last lines:\n${tail.join('\n')}`));
    });
  });
}

/** Unmounts whatever a failed debootstrap left mounted under `dir` (deepest first), then deletes it. */
function removeWorkDir(dir: string, log: Log): void {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(dir + '/')))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      const r = spawnSyncQuiet('umount', ['-l', m]);
      if (r !== 0) log(`could not unmount ${m}`);
    }
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    log(`could not remove ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function spawnSyncQuiet(cmd: string, args: string[]): number {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status ?? 1;
}

/** A lock file holding the builder's pid; a lock whose pid is gone is stale and taken over. */
async function lock(log: Log): Promise<() => void> {
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(LOCK_FILE);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(LOCK_FILE, 'utf8').trim());
    } catch {
      continue; // removed meanwhile
    }
    if (!Number.isInteger(holder) || !alive(holder)) {
      // stale: its builder died; only remove it if it is still the same file content
      try {
        if (statSync(LOCK_FILE).isFile()) unlinkSync(LOCK_FILE);
      } catch {
        // someone else took it over
      }
      continue;
    }
    if (!waited) log(`another build (pid ${holder}) holds ${LOCK_FILE}; waiting`);
    waited = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
